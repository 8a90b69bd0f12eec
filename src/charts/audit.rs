//! The data audit's histogram: each test image's correlation with its nearest training image,
//! with the twin threshold as a vertical line.

use breastmnist_data::audit::Audit;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::{BENIGN, MALIGNANT, Theme};

/// Draws `audit`'s nearest-training-image histogram on `canvas` (sized by its attributes).
pub fn draw(canvas: HtmlCanvasElement, audit: &Audit) -> Result<(), String> {
    super::fit(&canvas, 240.0 / 640.0);
    let theme = Theme::current();
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&theme.bg).map_err(|e| e.to_string())?;
    let h = &audit.nearest_histogram;
    let top = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    let x_end = h.from + h.width * h.counts.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(40)
        .y_label_area_size(44)
        .build_cartesian_2d(h.from..x_end, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(("sans-serif", 13).into_font().color(&theme.fg))
        .x_labels(6)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("correlation with the nearest training image")
        .y_desc("test images")
        .draw()
        .map_err(|e| e.to_string())?;
    let bars = h.counts.iter().enumerate().map(|(i, &n)| {
        let x0 = h.from + i as f64 * h.width;
        let colour = if x0 >= audit.threshold { MALIGNANT } else { BENIGN };
        Rectangle::new([(x0, 0.0), (x0 + h.width * 0.9, n as f64)], colour.filled())
    });
    chart.draw_series(bars).map_err(|e| e.to_string())?;
    let t = audit.threshold;
    chart
        .draw_series(std::iter::once(PathElement::new([(t, 0.0), (t, top)], theme.fg.stroke_width(2))))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Draws every test–train pair's correlation (`audit.all_pairs_histogram`) on `canvas`, counts on
/// a log scale (the bulk is tens of thousands of pairs, the twins a few dozen), with the threshold.
pub fn draw_all_pairs(canvas: HtmlCanvasElement, audit: &Audit) -> Result<(), String> {
    super::fit(&canvas, 240.0 / 640.0);
    let theme = Theme::current();
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&theme.bg).map_err(|e| e.to_string())?;
    let h = &audit.all_pairs_histogram;
    let top = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 2.0;
    let x_end = h.from + h.width * h.counts.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(40)
        .y_label_area_size(54)
        .build_cartesian_2d(h.from..x_end, (0.8f64..top).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(("sans-serif", 13).into_font().color(&theme.fg))
        .x_labels(11)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("correlation of a test image with a training image (every pair)")
        .y_desc("pairs (log scale)")
        .draw()
        .map_err(|e| e.to_string())?;
    let bars = h.counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, &n)| {
        let x0 = h.from + i as f64 * h.width;
        let colour = if x0 >= audit.threshold { MALIGNANT } else { BENIGN };
        Rectangle::new([(x0, 0.8), (x0 + h.width * 0.9, n as f64)], colour.filled())
    });
    chart.draw_series(bars).map_err(|e| e.to_string())?;
    let t = audit.threshold;
    chart
        .draw_series(std::iter::once(PathElement::new([(t, 0.8), (t, top)], theme.fg.stroke_width(2))))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
