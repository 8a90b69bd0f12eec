//! The comparison's results: overlaid validation curves, one row per method, and the bars.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::methods::{draw_bars, draw_curves};
use crate::state::methods::MethodsCtx;
use crate::view::methods::{bars, label};

#[component]
pub fn Results() -> impl IntoView {
    let runs = expect_context::<MethodsCtx>().runs;
    let curves = NodeRef::<Canvas>::new();
    let bar_canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        runs.with(|runs| {
            if let Some(c) = curves.get() {
                let lines: Vec<_> = runs.iter().map(|r| (label(r.method).to_string(), r.val_curve())).collect();
                let epochs = runs.iter().map(|r| r.epochs).max().unwrap_or(1);
                let _ = draw_curves(c.unchecked_into(), &lines, epochs);
            }
            if let Some(c) = bar_canvas.get() {
                let _ = draw_bars(c.unchecked_into(), &bars(runs));
            }
        });
    });
    let cell = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into());
    let row = move |i: usize| {
        let run = move || runs.with(|r| r.get(i).cloned());
        view! {
            {move || run().map(|r| {
                let test = r.test();
                let val = match r.status { crate::view::methods::Status::Done { val_auc, .. } => Some(val_auc), _ => None };
                view! {
                    <tr data-testid="methods-row" data-method=r.method.name() data-done=r.is_done().to_string()
                        data-test-auc=test.map(|t| t.0.to_string()).unwrap_or_default()
                        data-curve-points=r.val_curve().len().to_string()>
                        <th scope="row">{label(r.method)}</th>
                        <td>{cell(test.map(|t| t.0))}</td>
                        <td class="muted">{r.interval().unwrap_or_else(|| "–".into())}</td>
                        <td>{cell(test.map(|t| t.1))}</td>
                        <td>{cell(val)}</td>
                        <td class="status-cell">{r.describe()}</td>
                    </tr>
                }
            })}
        }
    };
    view! {
        <Show when=move || runs.with(|r| !r.is_empty())>
            <div class="methods-results" data-testid="methods-results">
                <div class="curves">
                    <figure>
                        <canvas node_ref=curves width="560" height="280" data-testid="methods-curves"
                            data-lines=move || runs.with(|r| r.iter().filter(|x| !x.history.is_empty()).count()).to_string()
                            role="img" aria-label="Validation AUC per epoch, one line per method"></canvas>
                        <figcaption>"Validation AUC per epoch, one line per method (78 validation images: a noisy yardstick)."</figcaption>
                    </figure>
                    <figure>
                        <canvas node_ref=bar_canvas width="560" height="280" data-testid="methods-bars"
                            data-intervals=move || runs.with(|r| bars(r).iter().filter(|b| b.auc_ci.is_some()).count()).to_string()
                            role="img" aria-label="Test AUC and accuracy of each finished method beside published results"></canvas>
                        <figcaption>"Test AUC and ACC of each finished method, with the paper's rows (lighter) beside them. The line across each of this tab's AUC bars is its 95% interval (DeLong): single intervals this wide cannot rank the methods; the native table below compares them paired, on the same images."</figcaption>
                    </figure>
                </div>
                <table class="benchmark methods-table">
                    <caption>"This tab, one seed each. One AUC on 156 test images is uncertain by about ±0.065: its 95% interval (DeLong) is beside it. Compare methods on the native table below, which pairs them."</caption>
                    <thead><tr><th scope="col">"Method"</th><th scope="col">"Test AUC"</th><th scope="col">"95% interval"</th><th scope="col">"Test ACC"</th><th scope="col">"Val AUC"</th><th scope="col">"Status"</th></tr></thead>
                    <tbody>{move || (0..runs.with(Vec::len)).map(row).collect::<Vec<_>>()}</tbody>
                </table>
            </div>
        </Show>
    }
}
