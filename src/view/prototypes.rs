//! "This looks like that" as pictures: an image with its similarity to a prototype over it, and
//! the training image with the cell the prototype is marked. The maps come from the worker
//! (`LooksLikeView`), with how many image pixels a map cell covers (`cell`: 8 at 28 px, as the
//! CNN's three flooring max-pools make it; pixels past the last cell are in none).
//!
//! No signals and no DOM, so every rule is tested natively.

use breastmnist_protocol::PrototypeView;

/// The cell of a `map_side` x `map_side` map of `cell`-pixel cells that pixel (`y`, `x`) is in,
/// if any: the core's `prototypes::cell_of` (which the page cannot import), for the wire's
/// `LooksLikeView::cell`; the tests below hold it to the same cells.
pub fn cell_of(y: usize, x: usize, cell: f64, map_side: usize) -> Option<(usize, usize)> {
    let at = |p: usize| (p as f64 / cell).floor() as usize;
    let (r, c) = (at(y), at(x));
    (r < map_side && c < map_side).then_some((r, c))
}

fn gray(image: &[u8], channels: usize, i: usize) -> [f32; 3] {
    if channels == 3 {
        [f32::from(image[3 * i]), f32::from(image[3 * i + 1]), f32::from(image[3 * i + 2])]
    } else {
        [f32::from(image[i]); 3]
    }
}

/// `image` (`side * side * channels` bytes) with `map` (`map_side * map_side` similarities,
/// cells of `cell` pixels) blended over it through `inferno`, scaled by the map's largest
/// value: opaque RGBA.
pub fn similarity_rgba(image: &[u8], channels: usize, side: usize, map: &[f32], map_side: usize, cell: f64) -> Vec<u8> {
    let top = map.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    (0..side * side)
        .flat_map(|i| {
            let v = cell_of(i / side, i % side, cell, map_side)
                .map_or(0.0, |(r, c)| map.get(r * map_side + c).copied().unwrap_or(0.0));
            let v = (v / top).clamp(0.0, 1.0);
            let heat = colorous::INFERNO.eval_continuous(f64::from(v));
            let px = gray(image, channels, i);
            let a = 0.6 * v;
            let mix = |p: f32, h: u8| (p * (1.0 - a) + f32::from(h) * a).round() as u8;
            [mix(px[0], heat.r), mix(px[1], heat.g), mix(px[2], heat.b), 255]
        })
        .collect()
}

/// `image` with cell (`row`, `col`) (cells of `cell` pixels) kept bright, a yellow edge around
/// it, and every other pixel dimmed: where in the training image a prototype comes from.
pub fn patch_rgba(image: &[u8], channels: usize, side: usize, row: usize, col: usize, cell: f64) -> Vec<u8> {
    let inside = |y: usize, x: usize| cell_of(y, x, cell, usize::MAX) == Some((row, col));
    (0..side * side)
        .flat_map(|i| {
            let (y, x) = (i / side, i % side);
            let px = gray(image, channels, i);
            if !inside(y, x) {
                return px.map(|p| (p * 0.35).round() as u8).into_iter().chain([255]).collect::<Vec<_>>();
            }
            let edge = [(0, 1), (2, 1), (1, 0), (1, 2)].iter().any(|&(dy, dx)| {
                (y + dy)
                    .checked_sub(1)
                    .zip((x + dx).checked_sub(1))
                    .is_none_or(|(ny, nx)| ny >= side || nx >= side || !inside(ny, nx))
            });
            if edge { vec![255, 214, 0, 255] } else { px.map(|p| p.round() as u8).into_iter().chain([255]).collect() }
        })
        .collect()
}

/// A match's caption: the prototype, its class, and what it adds to the explained class.
pub fn caption(m: &PrototypeView, class_name: impl Fn(usize) -> String) -> String {
    format!(
        "Prototype {} ({}): similarity {:.2} × weight {:.2} = {:+.2}",
        m.prototype,
        class_name(m.class),
        m.similarity,
        m.weight,
        m.contribution
    )
}

/// Where a match's prototype comes from.
pub fn source_caption(m: &PrototypeView, map_side: usize) -> String {
    match &m.source {
        Some(s) => format!("is training image {}, cell ({}, {}) of {map_side} × {map_side}", s.index, s.row, s.col),
        None => "has no training image of its class".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_protocol::PatchView;

    #[test]
    fn a_cell_covers_its_share_of_the_image_and_the_hottest_cell_is_brightest() {
        // c16 at 28 px: 3 x 3 cells of 8 pixels; pixels 24-27 are in none.
        assert_eq!((cell_of(0, 0, 8.0, 3), cell_of(9, 16, 8.0, 3), cell_of(27, 27, 8.0, 3)), (Some((0, 0)), Some((1, 2)), None));
        let image = vec![100u8; 28 * 28];
        let mut map = vec![0.0f32; 9];
        map[4] = 9.0; // the centre cell: pixels 8-15
        let rgba = similarity_rgba(&image, 1, 28, &map, 3, 8.0);
        assert_eq!(rgba.len(), 28 * 28 * 4);
        let at = |y: usize, x: usize| &rgba[(y * 28 + x) * 4..(y * 28 + x) * 4 + 3];
        assert_eq!(at(0, 0), &[100, 100, 100], "a cold cell leaves the image");
        assert_ne!(at(12, 12), &[100, 100, 100], "the hot cell is coloured");
        assert_eq!(at(16, 16), &[100, 100, 100], "the next cell is not");
    }

    #[test]
    fn the_patch_is_kept_and_outlined_the_rest_dimmed() {
        let image = vec![200u8; 28 * 28];
        let rgba = patch_rgba(&image, 1, 28, 1, 2, 8.0);
        let at = |y: usize, x: usize| rgba[(y * 28 + x) * 4..(y * 28 + x) * 4 + 3].to_vec();
        assert_eq!(at(0, 0), vec![70, 70, 70], "outside: dimmed");
        assert_eq!(at(12, 20), vec![200, 200, 200], "inside (rows 8-15, columns 16-23): as it is");
        assert_eq!(at(8, 20), vec![255, 214, 0], "the cell's top edge");
        assert_eq!(at(12, 23), vec![255, 214, 0], "its right edge");
        assert_eq!(at(12, 25), vec![70, 70, 70], "past the last cell: outside");
        let m = PrototypeView {
            prototype: 4,
            class: 1,
            similarity: 8.5,
            weight: 1.0,
            contribution: 8.5,
            map: vec![0.0; 9],
            source: Some(PatchView { index: 12, row: 1, col: 2, distance: 0.0 }),
        };
        assert_eq!(caption(&m, |c| format!("class {c}")), "Prototype 4 (class 1): similarity 8.50 × weight 1.00 = +8.50");
        assert_eq!(source_caption(&m, 3), "is training image 12, cell (1, 2) of 3 × 3");
    }
}
