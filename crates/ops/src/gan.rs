//! The lab's `gan-aug`: for one model and seed, a class-conditional GAN trained on the data's
//! training images (never validation or test: `breastmnist_core::gan::Real`), watched per epoch
//! by the Fréchet distance between the training images and as many generated ones in an
//! encoder's feature space, then sampled into a copy of the data whose training split gains
//! `ratio` generated images per real one (class by class).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use breastmnist_core::batch::ImageView;
use breastmnist_core::burn::module::Module;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::frechet::{Moments, distance};
use breastmnist_core::gan::{GanConfig, GanEpochReport, GanEvent, GanRun, GanTrainer, Real};
use breastmnist_core::pretext::inspect::features;
use breastmnist_core::train::{RunResult, TrainConfig};
use breastmnist_core::{Device, Network};
use breastmnist_data::{Dataset, Split};
use futures_lite::future::block_on;

use crate::error::{Error, read};
use crate::event::{Cancel, Event, Sink};
use crate::train::run_once;
use crate::weights::checkpoint_of;

/// Generated images per real training image, by default (half as many again).
pub const GAN_RATIO: f64 = 0.5;
/// The GAN's epochs, by default.
pub const GAN_EPOCHS: usize = 60;

/// How `gan-aug` trains its GANs and mixes their samples in.
#[derive(Clone, Debug)]
pub struct GanSettings {
    pub epochs: usize,
    /// Generated images per real training image (0 < ratio ≤ 4).
    pub ratio: f64,
    /// The encoder whose pooled features the Fréchet distance compares (the SimCLR encoder);
    /// none: no distance.
    pub encoder: Option<Network>,
}

/// The lab's gan flags as given.
#[derive(Clone, Copy, Debug)]
pub struct GanFlags<'a> {
    pub epochs: usize,
    pub ratio: f64,
    pub fid_encoder: Option<&'a Path>,
}

impl GanFlags<'_> {
    /// The lab's `gan-aug` settings, checked before any training: they fit `data`, and
    /// `--fid-encoder` (loaded) is for its side and channels. `None` unless `asked`; a note then
    /// says when gan flags were given for nothing.
    pub fn settings(self, data: &Dataset, asked: bool, notes: &mut Vec<String>) -> Result<Option<GanSettings>, Error> {
        if !asked {
            if self.fid_encoder.is_some() || self.epochs != GAN_EPOCHS || self.ratio != GAN_RATIO {
                notes.push(
                    "--fid-encoder, --gan-epochs and --gan-ratio set gan-aug, which --methods does not name: ignored".into(),
                );
            }
            return Ok(None);
        }
        let encoder = match self.fid_encoder {
            Some(path) => {
                let ckpt = checkpoint_of(&read(path)?, &path.display().to_string())?;
                let c = &ckpt.config;
                if (c.input_size, c.in_channels) != (data.side, data.channels) {
                    return Err(Error::Usage(format!(
                        "--fid-encoder {} is for {} px images with {} channel(s); the data has {} px with {}",
                        path.display(),
                        c.input_size,
                        c.in_channels,
                        data.side,
                        data.channels
                    )));
                }
                let loaded =
                    ckpt.load(&Device::flex()).map_err(|source| Error::Checkpoint { path: path.to_path_buf(), source })?;
                Some(loaded.valid())
            }
            None => None,
        };
        let settings = GanSettings { epochs: self.epochs, ratio: self.ratio, encoder };
        gan_fits(data, &settings)?;
        Ok(Some(settings))
    }
}

/// `settings` for `model`'s runs: the distance in `--fid-encoder`'s features, else in those of
/// the SimCLR encoder pretrained here for `model` (`simclr`), else not measured (a note says so).
pub fn for_model(
    settings: &GanSettings,
    simclr: Option<&Checkpoint>,
    model: &str,
    sink: &mut dyn Sink,
) -> Result<GanSettings, Error> {
    let encoder = match (&settings.encoder, simclr) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(ckpt)) => Some(
            ckpt.load(&Device::flex())
                .map_err(|source| Error::Checkpoint { path: PathBuf::from("(pretext encoder)"), source })?
                .valid(),
        ),
        (None, None) => {
            let message = format!(
                "{model}: gan-aug without --fid-encoder or a SimCLR encoder pretrained here: the GAN's Fréchet distance is not measured"
            );
            sink.emit(Event::Note { message });
            None
        }
    };
    Ok(GanSettings { encoder, ..settings.clone() })
}

/// One `gan-aug` run of the lab: `seed`'s GAN learns from the run's own training images (the
/// subset, if any), and `config` trains on them and every sample.
pub struct GanAugRun<'a> {
    pub config: TrainConfig,
    pub data: &'a Arc<Dataset>,
    pub init: Option<&'a Checkpoint>,
    pub settings: &'a GanSettings,
    pub model: &'a str,
    pub seed: u64,
}

impl GanAugRun<'_> {
    /// Trains the GAN, then the recipe. The test images without a twin stay those of the real
    /// training split (`dedup`), as for every other row, not the generated images' nor a
    /// subset's (`two_class`: BreastMNIST-like data, which has that subset).
    pub fn run(
        self,
        dedup: &[usize],
        two_class: bool,
        device: &Device,
        sink: &mut dyn Sink,
        cancel: &Cancel,
    ) -> Result<((RunResult, Network, f64), GanRun), Error> {
        let data = self.data;
        let own = Dataset { train: data.train.first(self.config.subset.unwrap_or(data.train.len())), ..(**data).clone() };
        let (mixed, gan_run) = augment(&own, self.model, self.settings, self.seed, device, sink, cancel)?;
        let (mut result, net, seconds) = run_once(self.config.with_subset(None), &mixed, self.init, device, sink, cancel)?;
        if two_class {
            result.test.deduplicated = None;
            result.test = result.test.clone().with_deduplicated(dedup);
        }
        Ok(((result, net, seconds), gan_run))
    }
}

/// Checks `data` and `settings` can make a `gan-aug` row, before any training.
pub fn gan_fits(data: &Dataset, settings: &GanSettings) -> Result<(), Error> {
    Real::training(data)?;
    if !(settings.ratio > 0.0 && settings.ratio <= 4.0) || settings.epochs == 0 {
        return Err(Error::Usage(format!(
            "gan-aug needs --gan-epochs of 1 or more and --gan-ratio in (0, 4] (got {} and {})",
            settings.epochs, settings.ratio
        )));
    }
    Ok(())
}

/// Trains seed `seed`'s GAN on `data`'s training images and returns `data` with its samples
/// added to the training split, and the GAN's report.
pub fn augment(
    data: &Dataset,
    model: &str,
    settings: &GanSettings,
    seed: u64,
    device: &Device,
    sink: &mut dyn Sink,
    cancel: &Cancel,
) -> Result<(Arc<Dataset>, GanRun), Error> {
    let started = Instant::now();
    let real = Arc::new(Real::training(data)?);
    let counts: Vec<usize> =
        (0..real.classes()).map(|c| (0..real.len()).filter(|&i| usize::from(real.label(i)) == c).count()).collect();
    let config = GanConfig::default().with_epochs(settings.epochs).with_seed(seed);
    let mut gan = GanTrainer::new(config.clone(), real, device)?;
    let plain = device.clone().without_autodiff();
    let reference = match &settings.encoder {
        Some(encoder) => Some(
            Moments::of(&block_on(features(encoder, &ImageView::of(data, Split::Train), &plain)).map_err(gan_read)?)
                .map_err(|e| Error::Usage(e.to_string()))?,
        ),
        None => None,
    };
    let mut history = Vec::new();
    while !gan.is_finished() {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled { kept: Vec::new() });
        }
        for event in block_on(gan.step())? {
            let GanEvent::Epoch(e) = event else { continue };
            let frechet = match (&settings.encoder, &reference) {
                (Some(encoder), Some(reference)) => {
                    // As many generated images as real ones, the same latent draw every epoch.
                    let fake = block_on(gan.sample(&counts, 0xF1D))?;
                    let view = ImageView::single(&fake.images, &fake.labels, data.side, 1);
                    let rows = block_on(features(encoder, &view, &plain)).map_err(gan_read)?;
                    Some(
                        distance(reference, &Moments::of(&rows).map_err(|e| Error::Usage(e.to_string()))?)
                            .map_err(|e| Error::Usage(e.to_string()))?,
                    )
                }
                _ => None,
            };
            let said = frechet.map(|f| format!(", Fréchet distance {f:.3}")).unwrap_or_default();
            sink.emit(Event::Note {
                message: format!(
                    "{model} gan-aug seed {seed}: GAN epoch {}/{}, D loss {:.3}, G loss {:.3}{said}",
                    e.epoch, settings.epochs, e.d_loss, e.g_loss
                ),
            });
            history.push(GanEpochReport { epoch: e.epoch, d_loss: e.d_loss, g_loss: e.g_loss, frechet });
        }
    }
    let wanted: Vec<usize> = counts.iter().map(|&n| (n as f64 * settings.ratio).round() as usize).collect();
    let samples = block_on(gan.sample(&wanted, seed))?;
    let run = GanRun {
        model: model.into(),
        seed,
        config,
        ratio: settings.ratio,
        synthetic: samples.len(),
        history,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((Arc::new(samples.mixed_into(data)), run))
}

fn gan_read(e: breastmnist_core::read::ReadError) -> Error {
    Error::Gan(e.into())
}
