//! Training curves: loss (every step, and per epoch for train and validation) and validation
//! metrics (ACC, AUC) per epoch.

use breastmnist_protocol::EpochView;

use crate::view::chart::Series;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::{BENIGN, Chart, MALIGNANT, Theme, XAxis, draw_mesh};

/// Okabe–Ito bluish green, for the third series.
const GREEN: RGBColor = RGBColor(0, 158, 115);

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Clears `canvas` and draws the shared frame: epochs on x, `y_desc` on y in `0..y_max`.
fn frame<'a>(
    root: &'a DrawingArea<CanvasBackend, plotters::coord::Shift>,
    theme: &Theme,
    epochs: usize,
    y_max: f64,
    y_desc: &str,
) -> Result<Chart<'a>, String> {
    root.fill(&theme.bg).map_err(err)?;
    let mut chart = ChartBuilder::on(root)
        .margin(10)
        .margin_right(22)
        .x_label_area_size(40)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..epochs.max(1) as f64, 0f64..y_max)
        .map_err(err)?;
    draw_mesh(&mut chart, theme, XAxis::Epochs(epochs), "epoch", y_desc)?;
    Ok(chart)
}

/// One per-epoch series: a line with a dot at each epoch, and its legend entry.
fn epoch_series(chart: &mut Chart<'_>, points: Vec<(f64, f64)>, color: RGBColor, name: &str) -> Result<(), String> {
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
        .map_err(err)?
        .label(name)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(err)?;
    Ok(())
}

/// The legend box, then the canvas is presented.
fn finish(chart: &mut Chart<'_>, theme: &Theme, position: SeriesLabelPosition) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(theme.bg.mix(0.8))
        .border_style(theme.grid)
        .label_font(("sans-serif", 13).into_font().color(&theme.fg))
        .position(position)
        .draw()
        .map_err(err)?;
    chart.plotting_area().present().map_err(err)
}

/// A vertical guide at the hovered epoch.
fn guide(chart: &mut Chart<'_>, theme: &Theme, hover: Option<usize>, y_max: f64) -> Result<(), String> {
    if let Some(e) = hover {
        let line = PathElement::new([(e as f64, 0.0), (e as f64, y_max)], theme.fg.mix(0.5).stroke_width(1));
        chart.draw_series(std::iter::once(line)).map_err(err)?;
    }
    Ok(())
}

/// Loss against epochs: thin line per step, points+lines per epoch (train, val); `series` says
/// which are shown, `hover` marks an epoch.
pub fn draw_loss(
    canvas: HtmlCanvasElement,
    steps: &[(f64, f64)],
    history: &[EpochView],
    epochs: usize,
    series: Series,
    hover: Option<usize>,
) -> Result<(), String> {
    super::fit(&canvas, 260.0 / 560.0);
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    let y_max = steps
        .iter()
        .map(|p| p.1)
        .chain(history.iter().flat_map(|h| [h.train_loss, h.val_loss]))
        .filter(|v| v.is_finite())
        .fold(0.1f64, f64::max)
        * 1.1;
    let mut chart = frame(&root, &theme, epochs, y_max, "loss")?;
    guide(&mut chart, &theme, hover, y_max)?;
    let grid = theme.grid;
    if series.steps {
        chart
            .draw_series(LineSeries::new(steps.iter().copied(), grid.stroke_width(1)))
            .map_err(err)?
            .label("step loss")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], grid));
    }
    if series.train {
        epoch_series(&mut chart, history.iter().map(|h| (h.epoch as f64, h.train_loss)).collect(), BENIGN, "train loss")?;
    }
    if series.val {
        epoch_series(&mut chart, history.iter().map(|h| (h.epoch as f64, h.val_loss)).collect(), MALIGNANT, "val loss")?;
    }
    finish(&mut chart, &theme, SeriesLabelPosition::UpperRight)
}

/// Validation ACC and AUC per epoch on [0, 1]; the kept (best) epoch is ringed. `series.train`
/// shows AUC and `series.val` ACC.
pub fn draw_metrics(
    canvas: HtmlCanvasElement,
    history: &[EpochView],
    epochs: usize,
    series: Series,
    hover: Option<usize>,
) -> Result<(), String> {
    super::fit(&canvas, 260.0 / 560.0);
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    let mut chart = frame(&root, &theme, epochs, 1.0, "validation")?;
    guide(&mut chart, &theme, hover, 1.0)?;
    if series.train {
        epoch_series(&mut chart, history.iter().map(|h| (h.epoch as f64, h.val_auc)).collect(), BENIGN, "val AUC")?;
    }
    if series.val {
        epoch_series(&mut chart, history.iter().map(|h| (h.epoch as f64, h.val_acc)).collect(), GREEN, "val ACC")?;
    }
    if let Some(best) = history.iter().rev().find(|h| h.is_best) {
        let ring = Circle::new((best.epoch as f64, best.val_auc), 7, theme.fg.stroke_width(2));
        chart.draw_series(std::iter::once(ring)).map_err(err)?;
    }
    finish(&mut chart, &theme, SeriesLabelPosition::LowerRight)
}
