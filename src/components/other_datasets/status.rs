//! Where the picked set's file is: a refusal (too large for a tab), the download's progress,
//! the verification, a failure with what the reader can do (the Zenodo button, the official
//! address), or the verified file's summary.

use leptos::prelude::*;

use crate::draw::format_bytes;
use crate::runtime::dataset::{LoadError, Origin};
use crate::runtime::fetch::FetchError;
use crate::state::beyond::BeyondCtx;
use crate::state::data::LoadPhase;
use crate::view::beyond::{refusal, too_large};

#[component]
pub fn LoadStatus() -> impl IntoView {
    let ctx = expect_context::<BeyondCtx>();
    move || {
        let flag = ctx.flag.get();
        if let Some((flag, bytes)) = flag.and_then(|f| too_large(f).map(|b| (f, b))) {
            return view! { <p class="error" data-testid="other-refused">{refusal(flag, bytes)}</p> }.into_any();
        }
        match ctx.phase.get() {
            LoadPhase::Idle => ().into_any(),
            LoadPhase::Downloading { received, total } => {
                let from = if ctx.origin.get() == Origin::Zenodo { " from Zenodo" } else { "" };
                view! {
                    <p class="muted" data-testid="other-status" role="status">
                        {match total {
                            Some(t) => format!("Downloading{from}: {} of {}", format_bytes(received), format_bytes(t)),
                            None => format!("Downloading{from}: {}", format_bytes(received)),
                        }}
                    </p>
                }
                .into_any()
            }
            LoadPhase::Verifying => {
                view! { <p class="muted" data-testid="other-status" role="status">"Verifying MD5 and decoding…"</p> }.into_any()
            }
            LoadPhase::Failed(e) => {
                let official = flag.map(|f| f.entry().url(breastmnist_data::Size::Px28));
                let from_zenodo = ctx.origin.get() == Origin::Zenodo;
                view! {
                    <div class="error" data-testid="other-error" role="alert">
                        <p>{e.to_string()}</p>
                        {match (&e, official) {
                            (LoadError::Fetch(FetchError::Network(_)), Some(url)) if from_zenodo => { let text = url.clone(); view! {
                                <p class="hint">"Zenodo did not send the file to this tab: it may be out of reach from your network, or it refused \
                                    the page's cross-origin request. Download it yourself from "
                                    <a href=url rel="noopener">{text}</a>
                                    " and pick it above: it is checked by its MD5 here, in the tab."</p>
                            }.into_any() }
                            (LoadError::Fetch(_) | LoadError::Data(_), Some(url)) if from_zenodo => { let text = url.clone(); view! {
                                <p class="hint">"Retry, or download the official file yourself from "
                                    <a href=url rel="noopener">{text}</a>
                                    " and pick it above: it is checked by its MD5 here, in the tab."</p>
                            }.into_any() }
                            (LoadError::Fetch(_) | LoadError::Data(_), Some(url))
                                if !matches!(e, LoadError::Fetch(FetchError::Cancelled)) =>
                            {
                                let text = url.clone();
                                let (lead, tail) = match &e {
                                    LoadError::Fetch(FetchError::Status { status: 404, .. }) => (
                                        "This server does not offer that file. ".to_string(),
                                        " in this tab (the official record, checked by its MD5 and kept in the browser's cache), or download ",
                                    ),
                                    LoadError::Fetch(_) => (
                                        "This server did not send that file. ".to_string(),
                                        " in this tab (the official record, checked by its MD5 and kept in the browser's cache), or download ",
                                    ),
                                    _ => (
                                        format!(
                                            "The file this server sent is not what the catalog promises of {}. ",
                                            flag.map_or("this set", |f| f.entry().title)
                                        ),
                                        " in this tab, or download ",
                                    ),
                                };
                                view! {
                                    <p class="hint">{lead}
                                        <button type="button" data-testid="other-zenodo" on:click=move |_| ctx.download_official()>
                                            "Download it from Zenodo"</button>
                                        {tail}
                                        <a href=url rel="noopener">{text}</a>
                                        " yourself and pick it above."</p>
                                }
                                .into_any()
                            }
                            (LoadError::Data(_), _) => view! {
                                <p class="hint">{format!("The file is not what the catalog promises of {}: retry, or pick a verified copy of the official file.",
                                    flag.map_or("this set", |f| f.entry().title))}</p>
                            }.into_any(),
                            _ => view! { <p class="hint">{e.hint()}</p> }.into_any(),
                        }}
                    </div>
                }
                .into_any()
            }
            LoadPhase::Ready => ctx
                .loaded
                .with(|l| {
                    l.as_ref().map(|l| {
                        let source = match &l.source {
                            crate::runtime::dataset::Source::Network => "downloaded from this site".to_string(),
                            crate::runtime::dataset::Source::Zenodo => "downloaded from Zenodo".to_string(),
                            crate::runtime::dataset::Source::BrowserCache => "from the browser's cache".to_string(),
                            crate::runtime::dataset::Source::LocalFile(n) => format!("your file {n}"),
                        };
                        view! {
                            <p class="status ok" data-testid="other-status" role="status">
                                {format!("{}: {} ({}), MD5 verified, {} training / {} validation / {} test images.",
                                    l.flag.entry().title, source, format_bytes(l.file.len() as u64),
                                    l.dataset.train.len(), l.dataset.val.len(), l.dataset.test.len())}
                            </p>
                        }
                    })
                })
                .into_any(),
        }
    }
}
