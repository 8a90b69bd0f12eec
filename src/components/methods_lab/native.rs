//! The native lab's table (`breastmnist lab`, 3 seeds, two model sizes): mean ± sd of test AUC
//! and ACC per method and model, each row's difference to its model's base recipe, and what
//! was run.

use leptos::prelude::*;

use crate::view::methods::native::{NativeDifference, Stat};
use crate::view::methods::{NATIVE_LAB_JSON, NativeLab};

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
    let row = |r: &crate::view::methods::native::NativeRow| {
        let n = r.runs.len();
        let show = |d: Option<NativeDifference>| d.map_or_else(|| "–".to_string(), |d| d.show());
        let stat = |s: Option<Stat>| s.map_or_else(|| "–".to_string(), |s| s.show(n));
        view! {
            <tr data-testid="methods-native-row" data-method=r.method.clone() data-model=r.model.clone()>
                <th scope="row">{r.method.clone()}</th>
                <td>{stat(r.val_auc)}</td>
                <td>{r.test_auc.show(n)}<span class="muted ci">{r.test_auc_ci.map(|c| format!(" {}", c.show()))}</span></td>
                <td>{r.test_acc.show(n)}<span class="muted ci">{r.test_acc_ci.map(|c| format!(" {}", c.show()))}</span></td>
                <td>{stat(r.dedup_test_auc)}</td>
                <td class="versus">
                    {show(r.versus_base.map(|v| v.test))}
                    <span class="muted val-versus">{r.versus_base.map(|v| format!("validation {}", v.val.show()))}</span>
                </td>
            </tr>
        }
    };
    // One row group per model.
    let groups = models
        .iter()
        .map(|m| {
            let rows = lab.rows.iter().filter(|r| &r.model == m).map(row).collect::<Vec<_>>();
            view! { <tbody><tr class="group"><th colspan="6" scope="rowgroup">{m.clone()}</th></tr>{rows}</tbody> }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-scroll">
        <table class="benchmark methods-native" data-testid="methods-native">
            <caption>
                {format!(
                    "Natively, every method on the {} recipe for {} and seeds {}: mean ± sd over the seeds of validation AUC, test AUC and ACC (with the 95% bootstrap interval of the mean over the test images), and test AUC on the test images without a training twin; each row's difference to its model's base row with a paired bootstrap 95% interval over the images, called better or worse only when the interval excludes zero ({:.0} minutes on 2 CPU cores in all; self-supervised pretraining: {}). ",
                    lab.base,
                    models.join(" and "),
                    lab.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                    minutes,
                    if pretext.is_empty() { "none".into() } else { pretext }
                )}
                <code>"breastmnist lab --data breastmnist.npz --pretrain-data pneumoniamnist.npz --ssl-extra pneumoniamnist.npz,retinamnist.npz --ssl-epochs 8 --out lab.json"</code>
                " ("<a href="lab/lab.json" download="lab.json" data-testid="methods-native-json">"the report"</a>", with every run's recipe and seed)"
            </caption>
            <thead><tr><th scope="col">"Method"</th><th scope="col">"Val AUC"</th>
                <th scope="col">"Test AUC"</th><th scope="col">"Test ACC"</th><th scope="col">"Test AUC, no twins"</th>
                <th scope="col">"AUC vs base [95%]"</th></tr></thead>
            {groups}
        </table>
        </div>
    }
    .into_any()
}
