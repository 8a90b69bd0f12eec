//! Pixels onto canvases: the one place that turns image bytes into RGBA and paints them.
//!
//! The gallery, the explorer's sample view (image and Grad-CAM overlay), its activation grid and
//! the dataset card's charts call these; no component builds `ImageData` itself.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

/// Grayscale (1 channel) or RGB (3 channels) bytes to opaque RGBA.
pub fn to_rgba(pixels: &[u8], channels: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() / channels * 4);
    for px in pixels.chunks_exact(channels) {
        let (r, g, b) = if channels == 3 { (px[0], px[1], px[2]) } else { (px[0], px[0], px[0]) };
        out.extend_from_slice(&[r, g, b, 255]);
    }
    out
}

/// The canvas's 2D context.
pub fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Paints a `side`x`side` image at native resolution; CSS scales it pixel-crisp.
pub fn paint_image(canvas: &HtmlCanvasElement, side: usize, channels: usize, pixels: &[u8]) {
    paint_rgba(canvas, side, &to_rgba(pixels, channels));
}

/// Human-readable byte counts ("559.6 kB").
pub fn format_bytes(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

/// Paints `side`x`side` RGBA pixels at native resolution.
pub fn paint_rgba(canvas: &HtmlCanvasElement, side: usize, rgba: &[u8]) {
    canvas.set_width(side as u32);
    canvas.set_height(side as u32);
    let Some(ctx) = context_2d(canvas) else { return };
    if let Ok(data) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), side as u32, side as u32) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}
