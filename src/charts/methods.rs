//! The methods lab's charts: every method's validation AUC per epoch on one set of axes, and
//! horizontal bars of test AUC and ACC for the finished runs beside the paper's rows.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::loss::{Loss, draw_loss};
use super::{BENIGN, MALIGNANT, Theme, XAxis, draw_mesh};
use crate::view::methods::Bar;

/// Okabe–Ito's eight colours minus black, in the order runs take them.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
];

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Validation AUC per epoch, one line per run (`(label, points)`), on `0..epochs` × the range
/// the points span (at least 0.5..1).
pub fn draw_curves(canvas: HtmlCanvasElement, runs: &[(String, Vec<(f64, f64)>)], epochs: usize) -> Result<(), String> {
    super::fit(&canvas, 280.0 / 560.0);
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let low = runs.iter().flat_map(|r| r.1.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.5f64, f64::min);
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .margin_right(22)
        .x_label_area_size(40)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..epochs.max(1) as f64, (low - 0.02).max(0.0)..1f64)
        .map_err(err)?;
    draw_mesh(&mut chart, &theme, XAxis::Epochs(epochs), "epoch", "validation AUC")?;
    for (i, (name, points)) in runs.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?;
    }
    if !runs.is_empty() {
        chart
            .configure_series_labels()
            .background_style(theme.bg.mix(0.8))
            .border_style(theme.grid)
            .label_font(("sans-serif", 12).into_font().color(&theme.fg))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// Test AUC (blue, upper) and ACC (vermillion, lower) per bar, one row each, values written at the bar's
/// end; published rows are drawn lighter and marked "(paper)" in their labels.
pub fn draw_bars(canvas: HtmlCanvasElement, bars: &[Bar]) -> Result<(), String> {
    super::fit(&canvas, 280.0 / 560.0);
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let n = bars.len().max(1) as f64;
    let font = ("sans-serif", 12).into_font().color(&theme.fg);
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(230)
        .build_cartesian_2d(0.5f64..1f64, 0f64..n)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .light_line_style(theme.bg)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(font.clone())
        .y_labels(0)
        .x_desc("test AUC (blue, with its 95% interval) and ACC (orange)")
        .draw()
        .map_err(err)?;
    for (i, bar) in bars.iter().enumerate() {
        // The first bar on top.
        let y = n - 1.0 - i as f64;
        let alpha = if bar.reference { 0.45 } else { 1.0 };
        for (k, (value, color)) in [(bar.acc, MALIGNANT), (bar.auc, BENIGN)].into_iter().enumerate() {
            let y0 = y + 0.12 + k as f64 * 0.38;
            let rect = Rectangle::new([(0.5, y0), (value.clamp(0.5, 1.0), y0 + 0.34)], color.mix(alpha).filled());
            chart.draw_series(std::iter::once(rect)).map_err(err)?;
            let text = Text::new(format!("{value:.3}"), (value.clamp(0.5, 0.94) + 0.004, y0 + 0.3), font.clone());
            chart.draw_series(std::iter::once(text)).map_err(err)?;
        }
        // The AUC's 95% interval as a whisker across its bar (clipped to the axis).
        if let Some((lo, hi)) = bar.auc_ci {
            let (lo, hi, mid) = (lo.clamp(0.5, 1.0), hi.clamp(0.5, 1.0), y + 0.12 + 0.38 + 0.17);
            let ink = theme.fg.stroke_width(2);
            let whisker =
                [vec![(lo, mid), (hi, mid)], vec![(lo, mid - 0.12), (lo, mid + 0.12)], vec![(hi, mid - 0.12), (hi, mid + 0.12)]];
            chart.draw_series(whisker.into_iter().map(|line| PathElement::new(line, ink))).map_err(err)?;
        }
        let (_, py) = chart.backend_coord(&(0.5, y + 0.62));
        root.draw(&Text::new(bar.label.clone(), (8, py - 6), font.clone())).map_err(err)?;
    }
    root.present().map_err(err)
}

/// The pretext loss of every pretraining step against epochs.
pub fn draw_pretext_loss(canvas: HtmlCanvasElement, steps: &[(f64, f64)], epochs: usize) -> Result<(), String> {
    let curve = Loss { label: None, color: BENIGN, points: steps.to_vec() };
    draw_loss(canvas, &[curve], epochs, "pretext loss")
}

/// Every image as a dot at its two principal-component scores, vermillion for malignant and
/// blue for normal/benign.
pub fn draw_embedding(canvas: HtmlCanvasElement, points: &[[f32; 2]], labels: &[u8]) -> Result<(), String> {
    super::fit(&canvas, 280.0 / 560.0);
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let span = |k: usize| {
        let (lo, hi) =
            points.iter().map(|p| p[k] as f64).filter(|v| v.is_finite()).fold((0f64, 0f64), |(a, b), v| (a.min(v), b.max(v)));
        let pad = ((hi - lo) * 0.05).max(1e-3);
        (lo - pad)..(hi + pad)
    };
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(span(0), span(1))
        .map_err(err)?;
    draw_mesh(&mut chart, &theme, XAxis::Continuous, "first principal component", "second")?;
    // Benign first, so the rarer malignant dots stay visible on top.
    for class in [1u8, 0] {
        let color = if class == 0 { MALIGNANT } else { BENIGN };
        let dots = points
            .iter()
            .zip(labels)
            .filter(|(_, l)| **l == class)
            .map(|(p, _)| Circle::new((p[0] as f64, p[1] as f64), 2, color.mix(0.75).filled()));
        chart.draw_series(dots).map_err(err)?;
    }
    root.present().map_err(err)
}
