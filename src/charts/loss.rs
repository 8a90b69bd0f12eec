//! Loss per training step against epochs: one curve (pretraining's pretext loss) or several on
//! one set of axes with a legend (the GAN's discriminator and generator).

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::{Theme, XAxis, draw_mesh};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// One loss curve: `(epoch fraction, loss)` per step; a label puts it in the legend.
pub struct Loss<'a> {
    pub label: Option<&'a str>,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// `curves` on `0..epochs` against a loss axis from 0 to just above the largest finite loss.
pub fn draw_loss(canvas: HtmlCanvasElement, curves: &[Loss<'_>], epochs: usize, y_desc: &str) -> Result<(), String> {
    super::fit(&canvas, 280.0 / 560.0);
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let y_max = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.01f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .margin_right(22)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..epochs.max(1) as f64, 0f64..y_max)
        .map_err(err)?;
    draw_mesh(&mut chart, &theme, XAxis::Epochs(epochs), "epoch", y_desc)?;
    for c in curves {
        let drawn = chart.draw_series(LineSeries::new(c.points.iter().copied(), c.color.stroke_width(2))).map_err(err)?;
        if let Some(label) = c.label {
            let color = c.color;
            drawn.label(label).legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        }
    }
    if curves.iter().any(|c| c.label.is_some()) {
        chart
            .configure_series_labels()
            .background_style(theme.bg.mix(0.8))
            .border_style(theme.grid)
            .label_font(("sans-serif", 13).into_font().color(&theme.fg))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}
