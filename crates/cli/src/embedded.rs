//! The starting points the binary carries: the `reader` preset's SimCLR encoders for c8 and c16
//! (1.5 MB together), so `breastmnist train --preset reader` works from any folder, an
//! installed binary included. They are the page's `assets/pretrained/` files byte for byte (a
//! test checks it); the other starting points stay files (`--pretrained DIR`).

/// `(file name, bytes)` of each carried starting point.
pub const STARTS: [(&str, &[u8]); 2] = [
    ("c8-contrastive.ckpt", include_bytes!("../../../assets/pretrained/c8-contrastive.ckpt")),
    ("c16-contrastive.ckpt", include_bytes!("../../../assets/pretrained/c16-contrastive.ckpt")),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_carried_files_are_the_served_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/pretrained");
        for (name, bytes) in super::STARTS {
            assert_eq!(std::fs::read(dir.join(name)).unwrap(), bytes, "{name}");
        }
        assert!(!super::STARTS.iter().any(|(n, _)| n.contains("masked")), "only the reader preset's starts are carried");
    }
}
