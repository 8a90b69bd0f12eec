//! A training recipe as a user or an agent gives it: a preset and the settings over it, as
//! words and numbers. [`Recipe::config`] is the one place they become the core's typed
//! [`TrainConfig`] (the CLI's flags and the MCP server's `train` arguments both land here).

use std::path::PathBuf;

use breastmnist_core::batch::Augmentation;
use breastmnist_core::model::{ConvAlgo, ModelSize, Resample, Stem};
use breastmnist_core::train::{Curriculum, Order, Preset, Schedule, Selection, TrainConfig};

use crate::error::Error;

/// A preset and every setting that overrides it (`None`: the preset's).
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    pub preset: String,
    pub model: Option<String>,
    pub epochs: Option<usize>,
    pub batch: Option<usize>,
    pub lr: Option<f64>,
    pub seed: u64,
    pub subset: Option<usize>,
    pub augment: Option<String>,
    pub mixup: Option<f64>,
    pub weight_decay: Option<f64>,
    pub cosine: bool,
    pub selection: Option<String>,
    pub ema: Option<f64>,
    pub tta: Option<bool>,
    pub curriculum: Option<String>,
    pub curriculum_start: f64,
    pub curriculum_full_at: Option<usize>,
    pub resize: Option<usize>,
    pub resample: Option<String>,
    pub stem: Option<String>,
    /// A checkpoint to start from; `none` for fresh weights.
    pub init: Option<PathBuf>,
    /// Where a preset's starting point is looked up.
    pub pretrained: Option<PathBuf>,
    pub freeze_backbone: bool,
    pub linear_probe: bool,
    pub conv: Option<String>,
    /// A prototype head of this many prototypes per class (the plain CNNs).
    pub prototypes: Option<usize>,
}

impl Recipe {
    /// The preset alone, seed 0.
    pub fn preset(name: &str) -> Self {
        Recipe {
            preset: name.into(),
            model: None,
            epochs: None,
            batch: None,
            lr: None,
            seed: 0,
            subset: None,
            augment: None,
            mixup: None,
            weight_decay: None,
            cosine: false,
            selection: None,
            ema: None,
            tta: None,
            curriculum: None,
            curriculum_start: 0.4,
            curriculum_full_at: None,
            resize: None,
            resample: None,
            stem: None,
            init: None,
            pretrained: None,
            freeze_backbone: false,
            linear_probe: false,
            conv: None,
            prototypes: None,
        }
    }

    /// The preset's recipe with every given setting applied over it, and the checkpoint the run
    /// starts from (if any).
    pub fn config(&self) -> Result<(TrainConfig, Option<PathBuf>), Error> {
        let preset: Preset = self.preset.parse().map_err(Error::Name)?;
        let mut c = preset.config().with_seed(self.seed).with_subset(self.subset).with_resize(self.resize);
        c.freeze_backbone = self.freeze_backbone;
        c.linear_probe = self.linear_probe;
        c.prototypes = self.prototypes;
        if let Some(m) = &self.model {
            c.model = m.parse::<ModelSize>()?;
        }
        if let Some(v) = self.epochs {
            c.epochs = v;
        }
        if let Some(v) = self.batch {
            c.batch_size = v;
        }
        if let Some(v) = self.lr {
            c.optimizer.lr = v;
        }
        if let Some(a) = &self.augment {
            c.augment = a.parse::<Augmentation>().map_err(Error::Arg)?;
        }
        if self.mixup.is_some() {
            c.mixup = self.mixup;
        }
        if let Some(v) = self.weight_decay {
            c.optimizer.weight_decay = v;
        }
        if self.cosine {
            c.optimizer.schedule = Schedule::Cosine;
        }
        if let Some(r) = &self.selection {
            c.selection = r.parse::<Selection>().map_err(Error::Name)?;
        }
        if let Some(v) = self.ema {
            c.ema_decay = v;
        }
        if let Some(v) = self.tta {
            c.tta = v;
        }
        if let Some(v) = &self.resample {
            c.resample = v.parse::<Resample>().map_err(Error::Name)?;
        }
        if let Some(v) = &self.stem {
            c.stem = v.parse::<Stem>().map_err(Error::Name)?;
        }
        if let Some(v) = &self.conv {
            c.conv = Some(v.parse::<ConvAlgo>().map_err(Error::Name)?);
        }
        if let Some(o) = &self.curriculum {
            let order: Order = o.parse().map_err(Error::Name)?;
            let full_at = self.curriculum_full_at.unwrap_or((c.epochs / 2).max(2));
            c.curriculum = Some(Curriculum { order, start: self.curriculum_start, full_at });
        }
        let init = self.init(&c)?;
        let fresh = init.is_none();
        if self.freeze_backbone && fresh {
            return Err(Error::Usage("--freeze-backbone needs --init CHECKPOINT".into()));
        }
        if self.linear_probe && fresh {
            return Err(Error::Usage(
                "--linear-probe needs --init CHECKPOINT (e.g. the encoder.ckpt of `breastmnist ssl`)".into(),
            ));
        }
        Ok((c, init))
    }

    /// The checkpoint the run starts from: `init`; fresh weights for `none`; else the preset's
    /// starting point for the model (none of the presets has one today), in `pretrained`
    /// (default `assets/pretrained`), which must be there.
    fn init(&self, c: &TrainConfig) -> Result<Option<PathBuf>, Error> {
        match &self.init {
            Some(path) if path.as_os_str() == "none" => Ok(None),
            Some(path) => Ok(Some(path.clone())),
            None => {
                let Some((preset, point)) = c.preset.and_then(|p| Some((p, p.starts_from()?))) else { return Ok(None) };
                let dir = self.pretrained.clone().unwrap_or_else(|| PathBuf::from("assets/pretrained"));
                let path = dir.join(point.file(c.model));
                if path.is_file() {
                    return Ok(Some(path));
                }
                Err(Error::NotFound(format!(
                    "the {preset} preset starts {} from the {} starting point {}, which is not there (run from the \
                     repository root, point --pretrained at the folder, or make it with `breastmnist lab \
                     --save-pretrained DIR`); or pass --init FILE, or --init none to train from fresh weights",
                    c.model,
                    point.name(),
                    path.display()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_the_preset_and_bad_words_are_named() {
        let mut r = Recipe::preset("reader");
        r.epochs = Some(3);
        r.lr = Some(0.01);
        let (c, init) = r.config().unwrap();
        assert_eq!((c.epochs, c.optimizer.lr, init), (3, 0.01, None));
        r.model = Some("c99".into());
        assert!(r.config().unwrap_err().to_string().contains("c99"));
        let mut probe = Recipe::preset("reader");
        probe.linear_probe = true;
        assert!(probe.config().unwrap_err().to_string().contains("--init"));
    }
}
