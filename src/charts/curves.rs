//! Training curves: loss (every step, and per epoch for train and validation) and validation
//! metrics (ACC, AUC) per epoch.

use breastmnist_protocol::EpochView;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::{BENIGN, MALIGNANT, Theme};

/// Okabe–Ito bluish green, for the third series.
const GREEN: RGBColor = RGBColor(0, 158, 115);

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Loss against epochs: thin line per step, points+lines per epoch (train, val).
pub fn draw_loss(canvas: HtmlCanvasElement, steps: &[(f64, f64)], history: &[EpochView], epochs: usize) -> Result<(), String> {
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let y_max = steps
        .iter()
        .map(|p| p.1)
        .chain(history.iter().flat_map(|h| [h.train_loss, h.val_loss]))
        .filter(|v| v.is_finite())
        .fold(0.1f64, f64::max)
        * 1.1;
    let font = ("sans-serif", 13).into_font().color(&theme.fg);
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..epochs.max(1) as f64, 0f64..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(theme.grid)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(font.clone())
        .x_desc("epoch")
        .y_desc("loss")
        .draw()
        .map_err(err)?;
    chart.draw_series(LineSeries::new(steps.iter().copied(), theme.grid.stroke_width(1))).map_err(err)?
        .label("step loss").legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], theme.grid));
    let train: Vec<(f64, f64)> = history.iter().map(|h| (h.epoch as f64, h.train_loss)).collect();
    let val: Vec<(f64, f64)> = history.iter().map(|h| (h.epoch as f64, h.val_loss)).collect();
    for (points, color, name) in [(train, BENIGN, "train loss"), (val, MALIGNANT, "val loss")] {
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2))).map_err(err)?
            .label(name).legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .background_style(theme.bg.mix(0.8))
        .border_style(theme.grid)
        .label_font(font)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Validation ACC and AUC per epoch on [0, 1]; the kept (best) epoch is ringed.
pub fn draw_metrics(canvas: HtmlCanvasElement, history: &[EpochView], epochs: usize) -> Result<(), String> {
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let font = ("sans-serif", 13).into_font().color(&theme.fg);
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..epochs.max(1) as f64, 0f64..1f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(theme.grid)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(font.clone())
        .x_desc("epoch")
        .y_desc("validation")
        .draw()
        .map_err(err)?;
    let auc: Vec<(f64, f64)> = history.iter().map(|h| (h.epoch as f64, h.val_auc)).collect();
    let acc: Vec<(f64, f64)> = history.iter().map(|h| (h.epoch as f64, h.val_acc)).collect();
    for (points, color, name) in [(auc, BENIGN, "val AUC"), (acc, GREEN, "val ACC")] {
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2))).map_err(err)?
            .label(name).legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(err)?;
    }
    if let Some(best) = history.iter().rev().find(|h| h.is_best) {
        chart.draw_series(std::iter::once(Circle::new((best.epoch as f64, best.val_auc), 7, theme.fg.stroke_width(2)))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .background_style(theme.bg.mix(0.8))
        .border_style(theme.grid)
        .label_font(font)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
