//! A loaded set's card: its task and licence, each class's images per split as bars, and two
//! training images of each class.

use breastmnist_data::Split;
use leptos::prelude::*;

use crate::state::beyond::BeyondCtx;
use crate::view::beyond::class_name;

#[component]
pub fn Card() -> impl IntoView {
    let ctx = expect_context::<BeyondCtx>();
    move || {
        ctx.card.get().map(|card| {
            let entry = card.flag.entry();
            let max = card.max_count() as f64;
            let bar = move |n: usize, split: &'static str| {
                let width = format!("width: {:.1}%", 100.0 * n as f64 / max);
                view! { <span class=format!("bar bar-{split}") style=width title=format!("{n} {split}")></span> }
            };
            let rows = card
                .classes
                .iter()
                .enumerate()
                .map(|(i, (name, [train, val, test]))| {
                    view! {
                        <tr data-testid="other-class" data-class=i.to_string()>
                            <th scope="row">{class_name(i, name)}</th>
                            <td>{*train}</td><td>{*val}</td><td>{*test}</td>
                            <td class="bars" aria-hidden="true">{bar(*train, "train")}{bar(*val, "val")}{bar(*test, "test")}</td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>();
            let samples = card
                .samples
                .iter()
                .map(|&(class, index)| {
                    let node = super::set_image(ctx, Split::Train, index);
                    let label = entry.labels.get(class).copied().unwrap_or("?");
                    view! {
                        <figure class="other-sample">
                            <canvas node_ref=node class="pixelated" data-testid="other-sample" data-class=class.to_string()
                                role="img" aria-label=format!("training image {index}, class {class}: {label}")></canvas>
                            <figcaption>{class_name(class, label)}</figcaption>
                        </figure>
                    }
                })
                .collect::<Vec<_>>();
            view! {
                <div class="other-card" data-testid="other-card" data-flag=card.flag.name()>
                    <p>
                        {format!("{}: {} · {} · {} px, {} {} · licence {}.",
                            entry.title, entry.task, if card.channels == 3 { "RGB" } else { "grayscale" },
                            card.side, entry.classes(), if entry.task == breastmnist_data::Task::MultiLabel { "labels" } else { "classes" },
                            entry.licence)}
                    </p>
                    <div class="table-scroll">
                        <table class="benchmark other-classes">
                            <caption>{if entry.task == breastmnist_data::Task::MultiLabel {
                                "Images carrying each label, per split (an image may carry several)."
                            } else {
                                "Images of each class, per split; the bars share one scale (train, val, test)."
                            }}</caption>
                            <thead><tr><th scope="col">"Class"</th><th scope="col">"Train"</th><th scope="col">"Val"</th><th scope="col">"Test"</th><th scope="col"><span class="visually-hidden">"Bars"</span></th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    <div class="other-samples">{samples}</div>
                </div>
            }
        })
    }
}
