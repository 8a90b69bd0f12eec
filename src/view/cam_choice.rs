//! Which test images Grad-CAM explains in "Beyond BreastMNIST": at first the first two of each
//! class, then those the reader chooses from the test split's thumbnails, a class and a page at
//! a time. Plain data, tested natively; `state::beyond` holds it in a signal.

use breastmnist_protocol::MAX_EXPLAIN_IMAGES;

/// The test images Grad-CAM explains once a run is done: the first two of each class (at most
/// [`MAX_EXPLAIN_IMAGES`]), in class order. `labels` are the test split's, `width` per image.
pub fn explain_picks(labels: &[u8], width: usize, classes: usize) -> Vec<usize> {
    let mut picks = Vec::new();
    for class in 0..classes {
        let of = images_of(labels, width, Some(class));
        picks.extend(of.into_iter().filter(|i| !picks.contains(i)).take(2).collect::<Vec<_>>());
    }
    picks.truncate(MAX_EXPLAIN_IMAGES);
    picks
}

/// The images whose true class is `class` (for a multi-label set: those with label `class`),
/// every image with `None`, in split order. `labels` hold `width` values per image.
pub fn images_of(labels: &[u8], width: usize, class: Option<usize>) -> Vec<usize> {
    let images = labels.len() / width.max(1);
    let is = |i: &usize| match (class, width) {
        (None, _) => true,
        (Some(c), 1) => labels[*i] as usize == c,
        (Some(c), _) => labels.get(i * width + c) == Some(&1),
    };
    (0..images).filter(is).collect()
}

/// The most test images the reader may choose for one Grad-CAM request.
pub const CHOOSE_LIMIT: usize = 16;

/// Thumbnails per page of the chooser.
pub const CHOOSER_PAGE: usize = 24;

/// The reader's choice of test images for Grad-CAM: which class the thumbnails show (all with
/// `None`), which page of them, and the images chosen, in the order they were chosen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chooser {
    pub class: Option<usize>,
    pub page: usize,
    pub chosen: Vec<usize>,
    /// Why the last choice was refused.
    pub note: Option<String>,
}

impl Chooser {
    /// A chooser whose chosen images are `chosen` (those explained already).
    pub fn with(chosen: Vec<usize>) -> Chooser {
        Chooser { chosen, ..Chooser::default() }
    }

    /// Chooses `index`, or un-chooses it if chosen; past [`CHOOSE_LIMIT`] the choice is refused
    /// with a note.
    pub fn toggle(&mut self, index: usize) {
        self.note = None;
        if let Some(at) = self.chosen.iter().position(|&i| i == index) {
            self.chosen.remove(at);
        } else if self.chosen.len() < CHOOSE_LIMIT {
            self.chosen.push(index);
        } else {
            self.note = Some(format!("At most {CHOOSE_LIMIT} images at once: un-choose one first."));
        }
    }

    /// Shows the images of `class` (all with `None`) from their first page.
    pub fn show(&mut self, class: Option<usize>) {
        self.class = class;
        self.page = 0;
    }

    /// The thumbnails of the page shown, from the test split's `labels` (`width` per image), and
    /// the page shown and the number of pages (the page clamped to the last).
    pub fn page_of(&self, labels: &[u8], width: usize) -> (Vec<usize>, usize, usize) {
        let all = images_of(labels, width, self.class);
        let pages = all.len().div_ceil(CHOOSER_PAGE).max(1);
        let page = self.page.min(pages - 1);
        (all.into_iter().skip(page * CHOOSER_PAGE).take(CHOOSER_PAGE).collect(), page, pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grad_cam_explains_two_test_images_of_each_class() {
        // Labels 0, 1, 0, 2, 1, 0, 2: the first two of each class.
        assert_eq!(explain_picks(&[0, 1, 0, 2, 1, 0, 2], 1, 3), [0, 2, 1, 4, 3, 6]);
        // A class with one image gives one; a class with none, none.
        assert_eq!(explain_picks(&[1, 1, 0], 1, 3), [2, 0, 1]);
        // Multi-label (two labels per image): images carrying each label, none twice.
        assert_eq!(explain_picks(&[1, 1, 0, 1, 1, 0], 2, 2), [0, 2, 1]);
        // Forty classes of two images each: capped at the protocol's limit.
        let many: Vec<u8> = (0..80).map(|i| (i % 40) as u8).collect();
        assert_eq!(explain_picks(&many, 1, 40).len(), MAX_EXPLAIN_IMAGES);
    }

    #[test]
    fn the_chooser_pages_a_class_and_keeps_at_most_its_limit() {
        // 60 images: class i % 3; multi-label rows of width 2.
        let labels: Vec<u8> = (0..60).map(|i| (i % 3) as u8).collect();
        assert_eq!(images_of(&labels, 1, Some(2))[..3], [2, 5, 8]);
        assert_eq!(images_of(&labels, 1, None).len(), 60);
        assert_eq!(images_of(&[1, 0, 0, 1, 1, 1], 2, Some(1)), [1, 2]);
        let mut c = Chooser::default();
        // All images: 60 in pages of 24 (24, 24, 12); a page past the last shows the last.
        assert_eq!(c.page_of(&labels, 1), ((0..24).collect(), 0, 3));
        c.page = 7;
        let (shown, page, pages) = c.page_of(&labels, 1);
        assert_eq!((shown.len(), shown[0], page, pages), (12, 48, 2, 3));
        // A class starts at its first page.
        c.show(Some(1));
        assert_eq!((c.page, c.page_of(&labels, 1).2), (0, 1));
        assert_eq!(c.page_of(&labels, 1).0[..2], [1, 4]);
        // Toggling chooses, un-chooses, and refuses past the limit with a note.
        c.toggle(4);
        c.toggle(7);
        c.toggle(4);
        assert_eq!(c.chosen, [7]);
        for i in 100..100 + CHOOSE_LIMIT {
            c.toggle(i);
        }
        assert_eq!(c.chosen.len(), CHOOSE_LIMIT);
        assert!(c.note.as_deref().is_some_and(|n| n.contains("At most 16")), "{:?}", c.note);
        c.toggle(7);
        assert_eq!((c.chosen.len(), c.note.as_deref()), (CHOOSE_LIMIT - 1, None));
    }
}
