//! The ROC curve of the kept model on the test split (label 1 positive), with the chance
//! diagonal.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::{BENIGN, Theme, XAxis, draw_mesh};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws `roc` (`(fpr, tpr)` points, ascending) with its AUC in the legend.
pub fn draw_roc(canvas: HtmlCanvasElement, roc: &[(f64, f64)], auc: f64) -> Result<(), String> {
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .margin_right(22)
        .x_label_area_size(40)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(err)?;
    draw_mesh(&mut chart, &theme, XAxis::Continuous, "false-positive rate", "true-positive rate")?;
    let grid = theme.grid;
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], grid.stroke_width(1)))
        .map_err(err)?
        .label("chance")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], grid));
    chart
        .draw_series(LineSeries::new(roc.iter().copied(), BENIGN.stroke_width(2)))
        .map_err(err)?
        .label(format!("test ROC, AUC {auc:.3}"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BENIGN.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(theme.bg.mix(0.8))
        .border_style(theme.grid)
        .label_font(("sans-serif", 13).into_font().color(&theme.fg))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
