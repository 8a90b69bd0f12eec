//! A Grad-CAM map as a picture: the image on the left, the map over it on the right, scaled up
//! (nearest neighbour) and encoded as PNG.

use crate::error::Error;

/// Each source pixel becomes a `SCALE` x `SCALE` block.
const SCALE: usize = 8;

/// `image` (`side * side * channels` bytes, channel last) beside the same image with `map`
/// (`side * side` values in [0, 1]) blended over it in a black-red-yellow ramp, as PNG bytes.
pub fn side_by_side(image: &[u8], channels: usize, side: usize, map: &[f32]) -> Result<Vec<u8>, Error> {
    if image.len() != side * side * channels || map.len() != side * side || !(channels == 1 || channels == 3) {
        return Err(Error::Usage(format!("cannot draw a {side} px map over {} bytes of {channels}-channel pixels", image.len())));
    }
    let (w, h) = (2 * side * SCALE + SCALE, side * SCALE);
    let mut rgb = vec![255u8; w * h * 3];
    for y in 0..h {
        for x in 0..side * SCALE {
            let i = (y / SCALE) * side + x / SCALE;
            let px: [f32; 3] = if channels == 1 {
                [f32::from(image[i]); 3]
            } else {
                [f32::from(image[3 * i]), f32::from(image[3 * i + 1]), f32::from(image[3 * i + 2])]
            };
            let heat = ramp(map[i]);
            let alpha = 0.55 * map[i].clamp(0.0, 1.0);
            let left = (y * w + x) * 3;
            let right = (y * w + x + side * SCALE + SCALE) * 3;
            for c in 0..3 {
                rgb[left + c] = px[c] as u8;
                rgb[right + c] = (px[c] * (1.0 - alpha) + heat[c] * alpha).round().clamp(0.0, 255.0) as u8;
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
}
