//! The scrubber: previous, play/pause, next, a slider over the filtered list, and where the
//! reader is in it. Play honours `prefers-reduced-motion` with a slower pace.

use leptos::prelude::*;

use super::Nav;
use crate::state::explore::ExploreCtx;

fn prefers_reduced_motion() -> bool {
    web_sys::window().and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten()).is_some_and(|m| m.matches())
}

#[component]
pub fn Scrubber(nav: Nav) -> impl IntoView {
    let ctx = expect_context::<ExploreCtx>();
    let view = ctx.view;
    let Nav { list, pos, .. } = nav;
    let playing = ctx.playing;
    let toggle_play = move |_| {
        if playing.get_untracked() {
            return ctx.pause();
        }
        let pace = std::time::Duration::from_millis(if prefers_reduced_motion() { 1200 } else { 700 });
        ctx.play(pace, move || {
            let n = list.with_untracked(Vec::len);
            if n > 0 {
                nav.show(view, (pos.get_untracked().unwrap_or(0) + 1) % n);
            }
        });
    };
    on_cleanup(move || ctx.pause());
    view! {
            <div class="scrub-row">
                <button type="button" aria-label="Previous sample" on:click=move |_| nav.go(view, -1)>"◀"</button>
                <button type="button" data-testid="scrub-play" aria-pressed=move || playing.get().to_string()
                    on:click=toggle_play>{move || if playing.get() { "Pause" } else { "Play" }}</button>
                <button type="button" aria-label="Next sample" on:click=move |_| nav.go(view, 1)>"▶"</button>
                <input type="range" data-testid="scrubber" aria-label="Sample"
                    min="0" max=move || list.with(|l| l.len().saturating_sub(1)).to_string()
                    prop:value=move || pos.get().unwrap_or(0).to_string()
                    disabled=move || list.with(Vec::is_empty)
                    on:input=move |ev| {
                        if let Ok(p) = event_target_value(&ev).parse::<usize>() {
                            nav.show(view, p);
                        }
                    } />
                <span class="scrub-pos" data-testid="scrub-position">
                    {move || match pos.get() { Some(p) => format!("{} of {}", p + 1, list.with(Vec::len)), None => "no sample matches".into() }}
                </span>
            </div>
    }
}
