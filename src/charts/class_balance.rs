//! Bars of images per split and class.

use breastmnist_data::{Dataset, Split};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::{BENIGN, MALIGNANT, Theme};

/// Draws the class balance of `ds` on `canvas` (sized by its width/height attributes).
pub fn draw(canvas: HtmlCanvasElement, ds: &Dataset) -> Result<(), String> {
    let theme = Theme::current();
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&theme.bg).map_err(|e| e.to_string())?;
    let max = Split::ALL.iter().map(|&s| ds.split(s).class_counts()[1]).max().unwrap_or(1) as u32;
    let y_max = (max as f64 * 1.15).ceil() as u32;
    let font = ("sans-serif", 14).into_font().color(&theme.fg);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..3f64, 0u32..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(font.clone())
        .x_labels(0)
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, split) in Split::ALL.into_iter().enumerate() {
        let counts = ds.split(split).class_counts();
        for (c, (count, color)) in [(counts[0], MALIGNANT), (counts[1], BENIGN)].into_iter().enumerate() {
            let x0 = i as f64 + 0.15 + c as f64 * 0.35;
            let x1 = x0 + 0.33;
            chart
                .draw_series(std::iter::once(Rectangle::new([(x0, 0), (x1, count as u32)], color.filled())))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Text::new(count.to_string(), (x0 + 0.04, count as u32 + y_max / 12), font.clone())))
                .map_err(|e| e.to_string())?;
        }
    }
    // Split names under each group of bars, placed in pixels from the chart's own coordinates.
    for (i, split) in Split::ALL.into_iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0));
        root.draw(&Text::new(split.key(), (px - 14, py + 8), font.clone())).map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
