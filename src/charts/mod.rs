//! Charts drawn with plotters on canvases: the shared theme and palette, and one module per chart.
//!
//! Colours are the Okabe–Ito palette, distinguishable under the common colour-vision deficiencies.

pub mod audit;
pub mod class_balance;
pub mod curves;
pub mod gan;
pub mod loss;
pub mod methods;
pub mod roc;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::RGBColor;
use plotters_canvas::CanvasBackend;

/// A chart with numeric axes on a canvas (every line chart of the page).
pub type Chart<'a> = ChartContext<'a, CanvasBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// What the x axis counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum XAxis {
    /// Epochs `0..=n`: whole-number ticks only.
    Epochs(usize),
    /// A continuous quantity (rates, components).
    Continuous,
}

/// Axes, a light grid (one line per labelled tick, none between) and axis descriptions in the
/// page's theme; epoch axes get whole-number ticks ("2", not "2.0").
pub fn draw_mesh(chart: &mut Chart<'_>, theme: &Theme, x: XAxis, x_desc: &str, y_desc: &str) -> Result<(), String> {
    let whole = |v: &f64| if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { String::new() };
    let decimal = |v: &f64| format!("{v:.1}");
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(("sans-serif", 13).into_font().color(&theme.fg))
        .y_labels(6)
        .x_desc(x_desc)
        .y_desc(y_desc);
    match x {
        XAxis::Epochs(n) => mesh.x_labels(epoch_ticks(n)).x_label_formatter(&whole),
        XAxis::Continuous => mesh.x_labels(6).x_label_formatter(&decimal),
    };
    mesh.draw().map_err(|e| e.to_string())
}

/// How many ticks an axis of `n` epochs asks plotters for: every epoch up to 10, else about
/// ten (plotters then picks whole steps of 2, 5, 10...).
pub fn epoch_ticks(n: usize) -> usize {
    n.clamp(1, 10) + 1
}

/// Sizes `canvas`'s drawing buffer to the width it is shown at (its CSS width, so a chart fills
/// its column and stays crisp) and `aspect` times that in height; returns the width. A canvas
/// not laid out yet keeps its attributes.
pub fn fit(canvas: &web_sys::HtmlCanvasElement, aspect: f64) -> u32 {
    let shown = canvas.client_width();
    if shown > 0 {
        let w = shown as u32;
        if canvas.width() != w {
            canvas.set_width(w);
            canvas.set_height((w as f64 * aspect).round() as u32);
        }
    }
    canvas.width()
}

/// Malignant (label 0): Okabe–Ito vermillion.
pub const MALIGNANT: RGBColor = RGBColor(213, 94, 0);
/// Normal/benign (label 1): Okabe–Ito blue.
pub const BENIGN: RGBColor = RGBColor(0, 114, 178);

/// Foreground and background that follow the page's light or dark scheme.
pub struct Theme {
    pub fg: RGBColor,
    pub grid: RGBColor,
    pub bg: RGBColor,
}

impl Theme {
    pub fn current() -> Theme {
        let dark = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches());
        if dark {
            Theme { fg: RGBColor(230, 230, 230), grid: RGBColor(80, 80, 80), bg: RGBColor(24, 26, 27) }
        } else {
            Theme { fg: RGBColor(30, 30, 30), grid: RGBColor(220, 220, 220), bg: RGBColor(255, 255, 255) }
        }
    }
}
