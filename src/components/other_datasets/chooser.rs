//! The reader's choice of test images for Grad-CAM: the test split's thumbnails, a class (or
//! all) at a time, a page at a time; a click chooses or un-chooses an image, and "Explain" asks
//! the run's kept model about the chosen ones. Shown once the run has a model to ask.

use breastmnist_data::Split;
use leptos::prelude::*;

use crate::state::beyond::{BeyondCtx, Explaining};
use crate::view::beyond::class_name;
use crate::view::cam_choice::CHOOSE_LIMIT;

/// One thumbnail: test image `index`, pressed while chosen.
fn thumbnail(ctx: BeyondCtx, index: usize) -> impl IntoView {
    let node = super::set_image(ctx, Split::Test, index);
    let chosen = move || ctx.chooser.with(|c| c.chosen.contains(&index));
    view! {
        <button type="button" class="other-thumb" data-testid="other-choose" data-index=index.to_string()
            aria-pressed=move || chosen().to_string() title=format!("test image {index}")
            on:click=move |_| ctx.chooser.update(|c| c.toggle(index))>
            <canvas node_ref=node class="pixelated" role="img" aria-label=format!("test image {index}")></canvas>
        </button>
    }
}

#[component]
pub fn Chooser() -> impl IntoView {
    let ctx = expect_context::<BeyondCtx>();
    // Memos: the chooser is not rebuilt (nor its focus lost) when an explanation is asked or
    // arrives.
    let shown = Memo::new(move |_| !matches!(ctx.explaining.get(), Explaining::Waiting));
    // The thumbnails depend on the class and the page only, not on what is chosen.
    let page = Memo::new(move |_| {
        let chooser = ctx.chooser.with(|c| (c.class, c.page));
        let labels = ctx.loaded.with(|l| l.as_ref().map(|l| (l.dataset.test.labels.clone(), l.dataset.test.width)));
        let (class, page) = chooser;
        labels.map(|(labels, width)| {
            let c = crate::view::cam_choice::Chooser { class, page, ..Default::default() };
            c.page_of(&labels, width)
        })
    });
    let labels = Memo::new(move |_| {
        ctx.loaded.with(|l| {
            l.as_ref()
                .map(|l| (l.flag.entry().labels.iter().map(|s| s.to_string()).collect::<Vec<_>>(), l.dataset.test.width > 1))
        })
    });
    let thumbnails = move || page.get().map(|(indices, _, _)| indices.into_iter().map(|i| thumbnail(ctx, i)).collect::<Vec<_>>());
    let position = move || page.get().map(|(_, p, pages)| format!("page {} of {pages}", p + 1)).unwrap_or_default();
    let at_first = move || page.get().is_none_or(|(_, p, _)| p == 0);
    let at_last = move || page.get().is_none_or(|(_, p, pages)| p + 1 >= pages);
    let step = move |by: isize| {
        let now = page.get_untracked().map_or(0, |(_, p, _)| p);
        ctx.chooser.update(|c| c.page = now.saturating_add_signed(by));
    };
    let count = move || ctx.chooser.with(|c| c.chosen.len());
    let busy = move || matches!(ctx.explaining.get(), Explaining::Asked);
    move || {
        shown.get().then(|| {
            let (names, multi_label) = labels.get().unwrap_or_default();
            let kind = if multi_label { "with label" } else { "true class" };
            let options = names
                .iter()
                .enumerate()
                .map(|(c, l)| view! { <option value=c.to_string()>{format!("{kind} {}", class_name(c, l))}</option> })
                .collect::<Vec<_>>();
            view! {
                <div class="other-chooser" data-testid="other-chooser">
                    <h3>"Choose test images to explain"</h3>
                    <div class="other-chooser-nav">
                        <label>"Show "
                            <select data-testid="other-choose-class"
                                prop:value=move || ctx.chooser.with(|c| c.class.map_or("all".to_string(), |c| c.to_string()))
                                on:change=move |ev| ctx.chooser.update(|c| c.show(event_target_value(&ev).parse::<usize>().ok()))>
                                <option value="all">"all test images"</option>
                                {options}
                            </select>
                        </label>
                        <button type="button" data-testid="other-choose-prev" disabled=at_first on:click=move |_| step(-1)>"◀"</button>
                        <span class="muted" data-testid="other-choose-page">{position}</span>
                        <button type="button" data-testid="other-choose-next" disabled=at_last on:click=move |_| step(1)>"▶"</button>
                    </div>
                    <div class="other-thumbs">{thumbnails}</div>
                    <div class="other-chooser-nav">
                        <button type="button" data-testid="other-explain" disabled=move || busy() || count() == 0
                            on:click=move |_| ctx.explain_chosen()>
                            {move || format!("Explain the {} chosen", count())}
                        </button>
                        <button type="button" data-testid="other-choose-clear" disabled=move || count() == 0
                            on:click=move |_| ctx.chooser.update(|c| c.chosen.clear())>"Clear the choice"</button>
                        <span class="muted">{format!("at most {CHOOSE_LIMIT} at once")}</span>
                    </div>
                    {move || ctx.chooser.with(|c| c.note.clone()).map(|n| view! { <p class="error" role="alert" data-testid="other-choose-note">{n}</p> })}
                </div>
            }
        })
    }
}
