//! Charts drawn with plotters on canvases: the shared theme and palette, and one module per chart.
//!
//! Colours are the Okabe–Ito palette, distinguishable under the common colour-vision deficiencies.

pub mod class_balance;
pub mod curves;
pub mod roc;

use plotters::style::RGBColor;

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
