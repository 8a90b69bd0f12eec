//! A GAN trained in the tab: its settings from the address, its progress folded from the
//! worker's reports, and the words under its grid. Every image it shows is generated, and
//! every caption says so.
//!
//! No signals and no DOM.

use breastmnist_protocol::{BackendChoice, FromWorker, GanRequest, GanView};

use crate::view::side_job::JobStatus;

/// Generated images shown per class after every epoch.
pub const PER_CLASS: usize = 8;
/// The most epochs the form takes.
pub const MAX_EPOCHS: usize = 200;

/// What the form says an epoch costs: measured in headless Chromium on a 2-core machine, CPU
/// trainer, all 546 training images, Fréchet distance included (the browser test
/// `a_gan_trains_in_the_tab_and_shows_its_synthetic_images_per_class` run on them: 2 epochs in 11 s).
pub const EPOCH_NOTE: &str = "about 6 s an epoch on a 2-core machine's CPU trainer, the Fréchet distance included";

/// The form: epochs, seed and, for tests and slow machines, a subset (`?gan_epochs=N&gan_seed=S&gan_subset=N`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GanSettings {
    pub epochs: usize,
    pub seed: u64,
    pub subset: Option<usize>,
    pub backend: BackendChoice,
}

impl Default for GanSettings {
    fn default() -> Self {
        GanSettings { epochs: 20, seed: 0, subset: None, backend: BackendChoice::Auto }
    }
}

impl GanSettings {
    /// The settings a link asks for (`get` reads a query parameter); bad values keep the defaults.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let d = GanSettings::default();
        GanSettings {
            epochs: get("gan_epochs").and_then(|e| e.parse().ok()).filter(|e| (1..=MAX_EPOCHS).contains(e)).unwrap_or(d.epochs),
            seed: get("gan_seed").and_then(|s| s.parse().ok()).unwrap_or(d.seed),
            subset: get("gan_subset").and_then(|s| s.parse().ok()).filter(|&n| (2..=546).contains(&n)),
            backend: get("backend").as_deref().and_then(BackendChoice::parse_loose).unwrap_or(d.backend),
        }
    }

    pub fn request(&self) -> GanRequest {
        GanRequest { epochs: self.epochs, seed: self.seed, backend: self.backend, subset: self.subset, per_class: PER_CLASS }
    }
}

/// The tab's GAN: status, loss curves (per step), Fréchet distances (per epoch) and the latest grid.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GanRun {
    pub status: JobStatus,
    pub epochs: usize,
    /// `(epoch fraction, discriminator loss, generator loss)` per step.
    pub steps: Vec<(f64, f64, f64)>,
    /// `(epoch, distance)` for every epoch that had one.
    pub frechet: Vec<(usize, f64)>,
    pub view: Option<GanView>,
}

impl GanRun {
    pub fn starting(epochs: usize) -> Self {
        GanRun { status: JobStatus::Loading("the data".into()), epochs, ..GanRun::default() }
    }

    /// Folds a worker report in; `elapsed` is seconds since the GAN started.
    pub fn apply(&mut self, msg: &FromWorker, elapsed: f64) {
        if self.status.apply(msg) {
            return;
        }
        match msg {
            FromWorker::GanStep { epoch, step, steps_per_epoch, d_loss, g_loss } => {
                self.status = JobStatus::Training;
                let x = (*epoch - 1) as f64 + *step as f64 / (*steps_per_epoch).max(1) as f64;
                self.steps.push((x, *d_loss, *g_loss));
            }
            FromWorker::GanEpoch(v) => {
                if let Some(f) = v.frechet {
                    self.frechet.push((v.epoch, f));
                }
                if v.epoch >= v.epochs {
                    self.status = JobStatus::Done { seconds: elapsed };
                }
                self.view = Some(v.clone());
            }
            _ => {}
        }
    }

    pub fn is_running(&self) -> bool {
        self.status.is_running()
    }

    pub fn describe(&self) -> String {
        if let Some(said) = self.status.describe() {
            return said;
        }
        let frechet = self.frechet.last().map_or(String::new(), |(_, f)| format!(", Fréchet distance {f:.2}"));
        match &self.status {
            JobStatus::Training => {
                let epoch = self.view.as_ref().map_or(0, |v| v.epoch);
                let losses = self.steps.last().map_or(String::new(), |s| format!(", D loss {:.3}, G loss {:.3}", s.1, s.2));
                format!("training the GAN: epoch {epoch} of {} done{losses}{frechet}", self.epochs)
            }
            JobStatus::Done { seconds } => {
                let per = seconds / self.epochs.max(1) as f64;
                format!("done: {} epochs in {seconds:.0} s ({per:.1} s an epoch){frechet}", self.epochs)
            }
            JobStatus::Idle | JobStatus::Loading(_) | JobStatus::Failed(_) => String::new(),
        }
    }

    /// The latest grid's images of `class` (`side²` bytes each).
    pub fn samples(&self, class: usize) -> Vec<&[u8]> {
        let Some(v) = &self.view else { return Vec::new() };
        let per = v.side * v.side;
        let start = class * v.per_class * per;
        if per == 0 || v.samples.len() < start + v.per_class * per {
            return Vec::new();
        }
        v.samples[start..start + v.per_class * per].chunks(per).collect()
    }
}

/// The caption every generated image carries.
pub fn synthetic_caption(class_name: &str, epoch: usize) -> String {
    format!("Synthetic — generated as \"{class_name}\" by the GAN after epoch {epoch}; not a patient's scan")
}

/// The caption under the grid: what the images are and what the GAN learned from.
pub fn grid_caption(view: Option<&GanView>) -> String {
    let from = view.map_or("the training scans only".to_string(), |v| format!("the {} training scans only", v.images));
    format!(
        "Synthetic images, not patients' scans: what the GAN generates for each class after the latest epoch, from the \
         same random inputs every epoch. It learned from {from}."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn a_link_sets_the_gan_and_bad_values_keep_the_defaults() {
        let s =
            GanSettings::from_query(query(&[("gan_epochs", "3"), ("gan_seed", "7"), ("gan_subset", "64"), ("backend", "cpu")]));
        assert_eq!(s, GanSettings { epochs: 3, seed: 7, subset: Some(64), backend: BackendChoice::Cpu });
        let r = s.request();
        assert_eq!((r.epochs, r.seed, r.subset, r.per_class), (3, 7, Some(64), PER_CLASS));
        let bad = GanSettings::from_query(query(&[("gan_epochs", "0"), ("gan_subset", "1"), ("gan_seed", "x")]));
        assert_eq!(bad, GanSettings::default());
    }

    #[test]
    fn the_run_folds_steps_epochs_and_its_end() {
        let mut g = GanRun::starting(2);
        assert!(g.is_running() && g.describe().starts_with("loading"));
        g.apply(&FromWorker::GanStep { epoch: 1, step: 2, steps_per_epoch: 4, d_loss: 1.2, g_loss: 0.8 }, 1.0);
        assert_eq!(g.steps, vec![(0.5, 1.2, 0.8)]);
        let view = |epoch| GanView {
            epoch,
            epochs: 2,
            d_loss: 1.0,
            g_loss: 1.0,
            frechet: Some(3.0 / epoch as f64),
            side: 2,
            images: 64,
            per_class: 2,
            samples: (0..16).collect(),
        };
        g.apply(&FromWorker::GanEpoch(view(1)), 2.0);
        assert!(g.is_running());
        assert!(
            g.describe().contains("epoch 1 of 2 done, D loss 1.200, G loss 0.800, Fréchet distance 3.00"),
            "{}",
            g.describe()
        );
        assert_eq!(g.samples(0), vec![&[0u8, 1, 2, 3][..], &[4, 5, 6, 7]]);
        assert_eq!(g.samples(1), vec![&[8u8, 9, 10, 11][..], &[12, 13, 14, 15]]);
        assert!(g.samples(2).is_empty());
        g.apply(&FromWorker::GanEpoch(view(2)), 10.0);
        assert_eq!(g.status, JobStatus::Done { seconds: 10.0 });
        assert_eq!(g.frechet, vec![(1, 3.0), (2, 1.5)]);
        assert_eq!(g.describe(), "done: 2 epochs in 10 s (5.0 s an epoch), Fréchet distance 1.50");
        assert!(synthetic_caption("malignant", 2).starts_with("Synthetic"));
        assert!(grid_caption(g.view.as_ref()).ends_with("It learned from the 64 training scans only."));
        assert!(grid_caption(None).starts_with("Synthetic images, not patients' scans"));
    }
}
