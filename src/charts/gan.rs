//! The tab's GAN: its two losses per step on one set of axes (the discriminator's blue, the
//! generator's green).

use web_sys::HtmlCanvasElement;

use super::loss::{Loss, draw_loss};
use super::methods::PALETTE;

/// `(epoch fraction, discriminator loss, generator loss)` per step, on `0..epochs`.
pub fn draw_gan_loss(canvas: HtmlCanvasElement, steps: &[(f64, f64, f64)], epochs: usize) -> Result<(), String> {
    let curve = |label, color, pick: fn(&(f64, f64, f64)) -> f64| Loss {
        label: Some(label),
        color,
        points: steps.iter().map(|s| (s.0, pick(s))).collect(),
    };
    let curves = [curve("discriminator", PALETTE[0], |s| s.1), curve("generator", PALETTE[2], |s| s.2)];
    draw_loss(canvas, &curves, epochs, "loss")
}
