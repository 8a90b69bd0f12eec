//! Maps as pictures, scaled up (nearest neighbour) and encoded as PNG: Grad-CAM's (the image on
//! the left, the map over it on the right) and a grid of panels ("this looks like that": an
//! image's similarity to a prototype beside the training patch the prototype is).

use breastmnist_core::prototypes::cell_of;

use crate::error::Error;

/// Each source pixel becomes a `SCALE` x `SCALE` block.
const SCALE: usize = 8;

/// One picture in a [`grid`]: an image (`side * side * channels` bytes, channel last) with,
/// optionally, a map (`side * side` values in [0, 1]) blended over it in a black-red-yellow ramp.
pub struct Panel<'a> {
    pub image: &'a [u8],
    pub channels: usize,
    pub side: usize,
    pub map: Option<Vec<f32>>,
}

/// `image` beside the same image with `map` over it, as PNG bytes (Grad-CAM's picture).
pub fn side_by_side(image: &[u8], channels: usize, side: usize, map: &[f32]) -> Result<Vec<u8>, Error> {
    grid(&[vec![Panel { image, channels, side, map: None }, Panel { image, channels, side, map: Some(map.to_vec()) }]])
}

/// Rows of panels of one side, scaled up (nearest neighbour) with a white gap between them, as
/// PNG bytes.
pub fn grid(rows: &[Vec<Panel<'_>>]) -> Result<Vec<u8>, Error> {
    let side = rows.first().and_then(|r| r.first()).map_or(0, |p| p.side);
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    for p in rows.iter().flatten() {
        let map_fits = p.map.as_ref().is_none_or(|m| m.len() == side * side);
        if p.side != side || p.image.len() != side * side * p.channels || !map_fits || !(p.channels == 1 || p.channels == 3) {
            return Err(Error::Usage(format!(
                "cannot draw a {side} px map over {} bytes of {}-channel pixels",
                p.image.len(),
                p.channels
            )));
        }
    }
    if side == 0 {
        return Err(Error::Usage("nothing to draw".into()));
    }
    let cell = side * SCALE + SCALE;
    let (w, h) = (cols * cell - SCALE, rows.len() * cell - SCALE);
    let mut rgb = vec![255u8; w * h * 3];
    for (r, row) in rows.iter().enumerate() {
        for (c, p) in row.iter().enumerate() {
            for y in 0..side * SCALE {
                for x in 0..side * SCALE {
                    let i = (y / SCALE) * side + x / SCALE;
                    let px: [f32; 3] = if p.channels == 1 {
                        [f32::from(p.image[i]); 3]
                    } else {
                        [f32::from(p.image[3 * i]), f32::from(p.image[3 * i + 1]), f32::from(p.image[3 * i + 2])]
                    };
                    let v = p.map.as_ref().map_or(0.0, |m| m[i]);
                    let (heat, alpha) = (ramp(v), 0.55 * v.clamp(0.0, 1.0));
                    let at = ((r * cell + y) * w + c * cell + x) * 3;
                    for k in 0..3 {
                        rgb[at + k] = (px[k] * (1.0 - alpha) + heat[k] * alpha).round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let encoded = encoder.write_header().and_then(|mut writer| writer.write_image_data(&rgb));
    encoded.map_err(|e| Error::Usage(format!("cannot encode the picture: {e}")))?;
    Ok(out)
}

/// A `map_side` x `map_side` map spread over a `side` px image (cells of `cell` pixels; pixels
/// past the last cell get 0) and scaled to [0, 1] by its maximum.
pub fn upsample(map: &[f32], map_side: usize, side: usize, cell: f64) -> Vec<f32> {
    let top = map.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    (0..side * side)
        .map(|i| match cell_of(i / side, i % side, cell, map_side) {
            Some((r, c)) => map.get(r * map_side + c).copied().unwrap_or(0.0) / top,
            None => 0.0,
        })
        .collect()
}

/// 1 over the pixels of cell (`row`, `col`) (cells of `cell` pixels) of a `side` px image, else 0.
pub fn cell_mask(row: usize, col: usize, side: usize, cell: f64) -> Vec<f32> {
    (0..side * side).map(|i| f32::from(u8::from(cell_of(i / side, i % side, cell, usize::MAX) == Some((row, col))))).collect()
}

/// Black (0) through red to yellow (1).
fn ramp(v: f32) -> [f32; 3] {
    let v = v.clamp(0.0, 1.0);
    [255.0 * (2.0 * v).min(1.0), 255.0 * (2.0 * v - 1.0).max(0.0), 0.0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_is_a_png_of_both_panels_and_bad_sizes_are_refused() {
        let (side, image) = (4, vec![100u8; 16]);
        let mut map = vec![0.0f32; 16];
        map[0] = 1.0;
        let png_bytes = side_by_side(&image, 1, side, &map).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width as usize, info.height as usize), (2 * side * SCALE + SCALE, side * SCALE));
        // Left panel: the image itself; right panel: the hot pixel turns red-yellow.
        assert_eq!(&buf[0..3], &[100, 100, 100]);
        let right = (side * SCALE + SCALE) * 3;
        assert!(buf[right] > 150 && buf[right + 2] < 60, "{:?}", &buf[right..right + 3]);
        // A cold pixel is the image unchanged.
        let cold = right + 3 * SCALE * 3;
        assert_eq!(&buf[cold..cold + 3], &[100, 100, 100]);
        assert!(side_by_side(&image, 1, 5, &map).is_err());
    }

    #[test]
    fn maps_scale_to_the_image_and_a_cell_is_its_block() {
        let up = upsample(&[0.0, 2.0, 1.0, 4.0], 2, 4, 2.0);
        assert_eq!(up, vec![0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.5, 0.5, 0.25, 0.25, 1.0, 1.0, 0.25, 0.25, 1.0, 1.0]);
        // c16 at 28 px: layer4 is 3 x 3 after three flooring 2x2 pools, a cell 8 pixels; pixels
        // 24-27 are in no cell.
        let mask = cell_mask(1, 0, 28, 8.0);
        assert_eq!(mask.iter().filter(|&&v| v == 1.0).count(), 8 * 8, "rows 8-15, columns 0-7");
        assert_eq!((mask[8 * 28], mask[7 * 28], mask[8 * 28 + 8]), (1.0, 0.0, 0.0));
        let up = upsample(&[1.0; 9], 3, 28, 8.0);
        assert_eq!((up[23 * 28 + 23], up[24 * 28], up[27]), (1.0, 0.0, 0.0), "past the last cell: 0");
    }
}
