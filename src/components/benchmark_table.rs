//! The published MedMNIST v2 results for BreastMNIST, sortable, with a slot for the reader's run.

use leptos::prelude::*;

use crate::state::train::RunReadout;
use crate::view::published::PUBLISHED;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortKey {
    Published,
    Auc,
    Acc,
}

#[component]
pub fn BenchmarkTable() -> impl IntoView {
    let sort = RwSignal::new(SortKey::Published);
    let rows = move || {
        let mut rows = PUBLISHED.to_vec();
        match sort.get() {
            SortKey::Published => {}
            SortKey::Auc => rows.sort_by(|a, b| b.auc.total_cmp(&a.auc)),
            SortKey::Acc => rows.sort_by(|a, b| b.acc.total_cmp(&a.acc)),
        }
        // No row is marked the winner: one AUC on 156 test images is uncertain by about ±0.065,
        // more than most gaps between these rows.
        rows.into_iter()
            .map(|r| {
                view! {
                    <tr data-testid="benchmark-row">
                        <th scope="row">{r.method}</th>
                        <td>{format!("{:.3}", r.auc)}</td>
                        <td>{format!("{:.3}", r.acc)}</td>
                        <td class="bar-cell" aria-hidden="true">
                            <span class="bar" style:width=format!("{:.0}%", (r.auc - 0.5) / 0.5 * 100.0)></span>
                        </td>
                    </tr>
                }
            })
            .collect::<Vec<_>>()
    };
    // The reader's finished run, highlighted.
    let RunReadout(run) = expect_context::<RunReadout>();
    let reader_row = move || {
        let (done, req, backend) = run.with(|s| (s.done.clone(), s.request.clone(), s.backend.clone()));
        let (done, req) = (done?, req?);
        let on = backend.map_or("?", |b| b.kind.label());
        Some(view! {
            <tr class="reader" data-testid="results-row">
                <th scope="row">{format!("Your run: {} · {} epochs · {on}", req.model, req.epochs)}</th>
                <td>
                    {format!("{:.3}", done.test_auc)}
                    {done.certainty.as_ref().map(|c| view! {
                        <span class="muted interval" data-testid="results-row-interval">{format!(" ({:.3}–{:.3})", c.auc_ci.0, c.auc_ci.1)}</span>
                    })}
                </td>
                <td>{format!("{:.3}", done.test_acc)}</td>
                <td class="bar-cell" aria-hidden="true">
                    <span class="bar reader" style:width=format!("{:.0}%", ((done.test_auc - 0.5) / 0.5 * 100.0).clamp(0.0, 100.0))></span>
                </td>
            </tr>
        })
    };
    let header = move |label: &'static str, key: SortKey| {
        let aria = move || if sort.get() == key { "descending" } else { "none" };
        view! {
            <th scope="col" aria-sort=aria>
                <button class="sort" on:click=move |_| sort.set(key)>{label}</button>
            </th>
        }
    };
    view! {
        <figure class="table-figure">
            <table class="benchmark" data-testid="benchmark-table">
                <thead>
                    <tr>
                        {header("Method", SortKey::Published)}
                        {header("Test AUC", SortKey::Auc)}
                        {header("Test ACC", SortKey::Acc)}
                        <th scope="col"><span class="visually-hidden">"AUC bar"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}{reader_row}</tbody>
            </table>
            <figcaption>
                "Table 1. BreastMNIST test results published with MedMNIST v2 (Yang et al., 2023). "
                "Numbers in parentheses are input sizes in pixels; bars span AUC 0.5 (chance) to 1. Each row "
                "is a single number from its own protocol, and one AUC on these 156 test images has a 95% "
                "interval of about ±0.065, so most rows cannot be told apart and none is marked the winner. "
                "Click a column header to sort. Your own run joins this table, highlighted, with its interval, "
                "when it finishes."
            </figcaption>
        </figure>
    }
}
