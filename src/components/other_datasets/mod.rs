//! "Beyond BreastMNIST": pick another MedMNIST 2D set (served by this app, or a local file
//! identified by MD5), see its card, train the reader recipe on it and read MedMNIST's figures.
//!
//! Everything it shows comes from [`BeyondCtx`]; it only draws and calls its methods.

mod card;
mod chooser;
mod gradcam;
mod run;

use card::Card;
use chooser::Chooser;
use gradcam::GradCam;
use run::Run;

use breastmnist_data::Flag;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::draw::format_bytes;
use crate::runtime::dataset::{LoadError, Origin};
use crate::runtime::fetch::FetchError;
use crate::state::beyond::BeyondCtx;
use crate::state::data::LoadPhase;
use crate::view::beyond::{flags, refusal, summary, too_large};

#[component]
pub fn OtherDatasets() -> impl IntoView {
    let ctx = expect_context::<BeyondCtx>();
    let busy = move || ctx.run.with(|r| r.is_running());
    let on_pick = move |ev: leptos::ev::Event| {
        if let Some(flag) = Flag::parse(&event_target_value(&ev)) {
            ctx.pick(flag);
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().expect("an input").unchecked_into();
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            ctx.pick_file(file);
        }
        input.set_value("");
    };
    let option = |flag: Flag| {
        let refused = too_large(flag).is_some();
        let text = if refused { format!("{} (too large for a tab)", summary(flag)) } else { summary(flag) };
        view! { <option value=flag.name()>{text}</option> }
    };
    let status = move || {
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
                            (LoadError::Fetch(f), Some(url)) if !matches!(f, FetchError::Cancelled) => { let text = url.clone();
                                let lead = if matches!(f, FetchError::Status { status: 404, .. }) {
                                    "This server does not offer that file. "
                                } else {
                                    "This server did not send that file. "
                                };
                                view! {
                                <p class="hint">{lead}
                                    <button type="button" data-testid="other-zenodo" on:click=move |_| ctx.download_official()>
                                        "Download it from Zenodo"</button>
                                    " in this tab (the official record, checked by its MD5 and kept in the browser's cache), or download "
                                    <a href=url rel="noopener">{text}</a>
                                    " yourself and pick it above."</p>
                            }.into_any() }
                            (LoadError::Data(_), Some(url)) => { let text = url.clone(); view! {
                                <p class="hint">"The file this server sent is not what the catalog promises of "
                                    {flag.map_or("this set", |f| f.entry().title)}". "
                                    <button type="button" data-testid="other-zenodo" on:click=move |_| ctx.download_official()>
                                        "Download it from Zenodo"</button>
                                    " in this tab, or download "
                                    <a href=url rel="noopener">{text}</a>
                                    " yourself and pick it above."</p>
                            }.into_any() }
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
    };
    view! {
        <div class="card other-datasets">
            <div class="train-form">
                <label class="field">"Dataset (28 px)"
                    <select data-testid="other-pick" disabled=busy on:change=on_pick
                        prop:value=move || ctx.flag.get().map_or(String::new(), |f| f.name().to_string())>
                        <option value="" disabled=true>"Choose a MedMNIST 2D dataset…"</option>
                        {flags().map(option).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"…or your copy of an official file"
                    <input type="file" accept=".npz" data-testid="other-file" disabled=busy on:change=on_file />
                </label>
            </div>
            {status}
            <Card />
            <Run />
            <GradCam />
            <Chooser />
        </div>
    }
}
