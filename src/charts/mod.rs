//! Charts drawn with plotters on canvases: the shared theme and palette, and one module per chart.
//!
//! Colours are the Okabe–Ito palette, distinguishable under the common colour-vision deficiencies.

pub mod class_balance;
pub mod curves;
pub mod methods;
pub mod roc;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::RGBColor;
use plotters_canvas::CanvasBackend;

/// A chart with numeric axes on a canvas (every line chart of the page).
pub type Chart<'a> = ChartContext<'a, CanvasBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Axes, grid and axis descriptions in the page's theme.
pub fn draw_mesh(chart: &mut Chart<'_>, theme: &Theme, x_desc: &str, y_desc: &str) -> Result<(), String> {
    chart
        .configure_mesh()
        .light_line_style(theme.grid)
        .bold_line_style(theme.grid)
        .axis_style(theme.fg)
        .label_style(("sans-serif", 13).into_font().color(&theme.fg))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| e.to_string())
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
