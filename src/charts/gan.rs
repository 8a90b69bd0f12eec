//! The tab's GAN: its two losses per step on one set of axes (the discriminator's blue, the
//! generator's green).

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::methods::PALETTE;
use super::{Theme, XAxis, draw_mesh};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// `(epoch fraction, discriminator loss, generator loss)` per step, on `0..epochs`.
pub fn draw_gan_loss(canvas: HtmlCanvasElement, steps: &[(f64, f64, f64)], epochs: usize) -> Result<(), String> {
    super::fit(&canvas, 280.0 / 560.0);
    let theme = Theme::current();
    let root = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas context")?.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let y_max = steps.iter().flat_map(|s| [s.1, s.2]).filter(|v| v.is_finite()).fold(0.01f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .margin_right(22)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..epochs.max(1) as f64, 0f64..y_max)
        .map_err(err)?;
    draw_mesh(&mut chart, &theme, XAxis::Epochs(epochs), "epoch", "loss")?;
    for (k, label) in [(0usize, "discriminator"), (1, "generator")] {
        let color = PALETTE[if k == 0 { 0 } else { 2 }];
        chart
            .draw_series(LineSeries::new(steps.iter().map(move |s| (s.0, if k == 0 { s.1 } else { s.2 })), color.stroke_width(2)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(theme.bg.mix(0.8))
        .border_style(theme.grid)
        .label_font(("sans-serif", 13).into_font().color(&theme.fg))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
