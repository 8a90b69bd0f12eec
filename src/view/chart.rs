//! The training charts' geometry: which epoch lies under the pointer, and which series show.

use breastmnist_protocol::EpochView;

/// The charts' plotting area on a canvas `width` pixels wide: plotters' margin (10) plus the
/// y-label area (44) on the left, the right margin (22, room for the last tick's label) on the
/// right (`charts::curves`).
const PLOT_LEFT: f64 = 54.0;
const RIGHT_MARGIN: f64 = 22.0;

/// The x value (epochs, `0..epochs`) under canvas pixel `x` of a canvas `width` pixels wide.
pub fn epoch_at(x: f64, epochs: usize, width: f64) -> f64 {
    let right = (width - RIGHT_MARGIN).max(PLOT_LEFT + 1.0);
    ((x - PLOT_LEFT) / (right - PLOT_LEFT)).clamp(0.0, 1.0) * epochs.max(1) as f64
}

/// The history entry nearest to `x` epochs (ties: the earlier).
pub fn nearest_epoch(history: &[EpochView], x: f64) -> Option<&EpochView> {
    history.iter().min_by(|a, b| (a.epoch as f64 - x).abs().total_cmp(&(b.epoch as f64 - x).abs()))
}

/// Which series a chart draws (the reader toggles them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    pub steps: bool,
    pub train: bool,
    pub val: bool,
}

impl Default for Series {
    fn default() -> Self {
        Series { steps: true, train: true, val: true }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An epoch's view for tests (also used by `view::run`'s).
    pub(crate) fn epoch(e: usize) -> EpochView {
        EpochView {
            epoch: e,
            train_loss: 0.5,
            train_acc: 0.7,
            val_loss: 0.6,
            val_acc: 0.7,
            val_auc: 0.8,
            lr: 1e-3,
            is_best: e == 1,
        }
    }

    #[test]
    fn hover_finds_the_nearest_epoch() {
        let h: Vec<EpochView> = (1..=4).map(epoch).collect();
        assert_eq!(epoch_at(54.0, 4, 560.0), 0.0);
        assert_eq!(epoch_at(538.0, 4, 560.0), 4.0);
        assert_eq!(epoch_at(9999.0, 4, 560.0), 4.0);
        assert!((epoch_at(296.0, 4, 560.0) - 2.0).abs() < 1e-9);
        assert_eq!(nearest_epoch(&h, epoch_at(296.0, 4, 560.0)).unwrap().epoch, 2);
        // A chart drawn wider keeps the same margins.
        assert!((epoch_at(54.0 + (1000.0 - 22.0 - 54.0) / 2.0, 10, 1000.0) - 5.0).abs() < 1e-9);
        assert_eq!(nearest_epoch(&h, 0.0).unwrap().epoch, 1);
        assert_eq!(nearest_epoch(&h, 3.6).unwrap().epoch, 4);
        assert!(nearest_epoch(&[], 1.0).is_none());
    }
}
