//! The native lab's table (`breastmnist lab`, 3 seeds, two model sizes): mean ± sd of test AUC
//! and ACC per method and model, each row's difference to its model's base recipe, and what
//! was run.

use leptos::prelude::*;

use crate::view::methods::{NATIVE_LAB_JSON, NativeLab, verdict};

#[component]
pub fn NativeTable() -> impl IntoView {
    let lab = match NativeLab::parse(NATIVE_LAB_JSON) {
        Ok(lab) => lab,
        Err(e) => return view! { <p class="error" data-testid="error">{e}</p> }.into_any(),
    };
    let models = lab.models().into_iter().map(String::from).collect::<Vec<_>>();
    let minutes = lab.total_seconds / 60.0;
    let pretext = lab
        .pretext
        .iter()
        .map(|p| format!("{} {} ({} images, {} epochs, {:.0} s)", p.model, p.config.task, p.images, p.losses.len(), p.seconds))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = lab
        .rows
        .iter()
        .map(|r| {
            let delta = lab.versus_base(r);
            let vs = match (r.method.as_str(), delta) {
                ("base", _) | (_, None) => "–".to_string(),
                (_, Some(d)) => format!("{d:+.3} ({})", verdict(d)),
            };
            view! {
                <tr data-testid="methods-native-row" data-method=r.method.clone() data-model=r.model.clone()>
                    <th scope="row">{r.method.clone()}</th>
                    <td>{r.model.clone()}</td>
                    <td>{r.test_auc.show(r.runs.len())}</td>
                    <td>{r.test_acc.show(r.runs.len())}</td>
                    <td>{vs}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <table class="benchmark methods-native" data-testid="methods-native">
            <caption>
                {format!(
                    "Natively, every method on the {} recipe for {} and seeds {}: mean ± sd of test AUC and ACC ({:.0} minutes on 2 CPU cores in all; self-supervised pretraining: {}). ",
                    lab.base,
                    models.join(" and "),
                    lab.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                    minutes,
                    if pretext.is_empty() { "none".into() } else { pretext }
                )}
                <code>"breastmnist lab --data breastmnist.npz --pretrain-data pneumoniamnist.npz --ssl-extra pneumoniamnist.npz,retinamnist.npz --ssl-epochs 8 --out lab.json"</code>
                " ("<a href="lab/lab.json" download="lab.json" data-testid="methods-native-json">"the report"</a>", with every run's recipe and seed)"
            </caption>
            <thead><tr><th scope="col">"Method"</th><th scope="col">"Model"</th><th scope="col">"Test AUC"</th><th scope="col">"Test ACC"</th><th scope="col">"AUC vs base"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
