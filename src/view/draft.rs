//! The training form as plain data: the draft (from the URL, a preset or the reader), and its
//! one validation into a `TrainRequest`.
//!
//! No signals and no DOM, so every rule here is tested natively.

use breastmnist_protocol::{Augment, BackendChoice, Conv, ModelKind, Preset, Selection, StartingPoint, Stem, TrainRequest};

use crate::view::served::ServedPoint;

/// The preset a fresh page starts from.
pub const DEFAULT_PRESET: Preset = Preset::Reader;

/// The form as typed: strings, validated once by [`Draft::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub model: String,
    pub epochs: String,
    pub batch: String,
    pub lr: String,
    pub seed: String,
    pub subset: String,
    pub augment: Augment,
    pub mixup: String,
    pub selection: Selection,
    /// Flip test-time augmentation.
    pub tta: bool,
    /// The weight average's decay under `ema-last` (`None`: the core's default).
    pub ema_decay: Option<f64>,
    pub backend: BackendChoice,
    /// Start from this served starting point (`?start=contrastive|masked|pneumonia|none`); `None`:
    /// fresh weights. The imported checkpoint wins when `fine_tune` is on.
    pub start: Option<StartingPoint>,
    /// Start from the imported checkpoint.
    pub fine_tune: bool,
    /// When fine-tuning, train only layer4 and the head.
    pub freeze_backbone: bool,
    /// How convolutions run (`?conv=direct|gemm`; no form field): `None` lets the worker pick
    /// the faster verified one.
    pub conv: Option<Conv>,
    /// A ResNet's stem (`?stem=torchvision`: MedMNIST's 224 px setup); `None`: MedMNIST's 3x3.
    pub stem: Option<Stem>,
    /// A prototype head of this many prototypes per class (`?prototypes=M`, or the form's
    /// "this looks like that" box: [`PROTOTYPES`]); `None`: the linear classifier.
    pub prototypes: Option<usize>,
    /// The side the network sees the images at, upsampled (bilinear) from the loaded ones
    /// (`?resize=N`, or the form's "Seen at"; e.g. the 64 px images at 128 px); empty: as
    /// loaded. Like the seed it is not part of a preset's recipe.
    pub resize: String,
}

/// The sides "Seen at" may upsample to (the core's bound on an input side).
pub const RESIZE_SIDES: std::ops::RangeInclusive<usize> = 32..=224;

/// Prototypes per class when the form's box is ticked (ProtoPNet's 10, as the lab's method).
pub const PROTOTYPES: usize = 10;

/// The most prototypes per class the form takes (the core's bound).
pub const MAX_PROTOTYPES: usize = 50;

impl Default for Draft {
    /// The `reader` preset: the best recipe that finishes in about two minutes on a laptop CPU.
    fn default() -> Self {
        let mut d = Draft {
            model: String::new(),
            epochs: String::new(),
            batch: String::new(),
            lr: String::new(),
            seed: "0".into(),
            subset: String::new(),
            augment: Augment::None,
            mixup: String::new(),
            selection: Selection::BestValAuc,
            tta: false,
            ema_decay: None,
            backend: BackendChoice::Auto,
            start: None,
            fine_tune: false,
            freeze_backbone: true,
            conv: None,
            stem: None,
            prototypes: None,
            resize: String::new(),
        };
        d.apply_preset(DEFAULT_PRESET);
        d
    }
}

/// Prints a number as the form shows it (`0.001`, not `1e-3`).
fn number(x: f64) -> String {
    format!("{x}")
}

impl Draft {
    /// Fills the recipe fields (model, epochs, batch, learning rate, augmentation, mixup,
    /// selection, TTA, starting point) from `preset`; seed, subset, backend and the side the
    /// images are seen at stay.
    pub fn apply_preset(&mut self, preset: Preset) {
        let r = preset.request();
        self.model = r.model.name().to_string();
        self.epochs = r.epochs.to_string();
        self.batch = r.batch_size.to_string();
        self.lr = number(r.lr);
        self.augment = r.augment;
        self.mixup = r.mixup.map(number).unwrap_or_default();
        self.selection = r.selection;
        self.tta = r.tta;
        self.ema_decay = r.ema_decay;
        self.stem = r.stem;
        self.start = preset.starts_from();
        self.prototypes = None;
    }

    /// The served file the run starts from: the starting point for the model, unless the
    /// imported checkpoint is fine-tuned instead. `None` also when the app serves none for the
    /// model ([`Draft::validate`] refuses that).
    pub fn served(&self) -> Option<&'static ServedPoint> {
        self.start.filter(|_| !self.fine_tune).and_then(|k| self.point(k))
    }

    /// The served file of `kind` for the form's model, if the app serves one.
    pub fn point(&self, kind: StartingPoint) -> Option<&'static ServedPoint> {
        ServedPoint::find(ModelKind::parse(&self.model)?, kind)
    }

    /// Sets the model; a starting point the app does not serve for it gives way to fresh
    /// weights (the form shows the change).
    pub fn set_model(&mut self, model: String) {
        self.model = model;
        if self.start.is_some_and(|k| self.point(k).is_none()) {
            self.start = None;
        }
    }

    /// Whether the served starting point fits the loaded images of `side` px (each file is
    /// converted for one side: ImageNet's Lite0 for 64 px, the others for 28 px), and "Seen at"
    /// upsamples them (never down).
    pub fn fits(&self, side: usize) -> Result<(), String> {
        match self.served() {
            Some(p) if p.side() != side => Err(format!(
                "the {} starting point ({}) is for the {} px images, and the {side} px ones are loaded: choose {} px under Resolution",
                p.kind,
                p.file,
                p.side(),
                p.side()
            )),
            _ => match self.resize_side() {
                Ok(Some(r)) if r < side => Err(format!(
                    "\"Seen at\" upsamples the images: {r} px is below the loaded {side} px (choose a larger side, or \"as loaded\")"
                )),
                _ => Ok(()),
            },
        }
    }

    /// "Seen at" as a side: `None` for as loaded.
    fn resize_side(&self) -> Result<Option<usize>, String> {
        match self.resize.trim() {
            "" => Ok(None),
            r => match r.parse::<usize>() {
                Ok(n) if RESIZE_SIDES.contains(&n) => Ok(Some(n)),
                _ => Err(format!(
                    "\"Seen at\" must be a side from {} to {} px, or empty for as loaded (got '{r}')",
                    RESIZE_SIDES.start(),
                    RESIZE_SIDES.end()
                )),
            },
        }
    }

    /// The run the form asks for on the loaded images (`train_len` training images of `side`
    /// px): [`Draft::validate`], "Seen at", then [`Draft::fits`]. A side equal to the loaded one
    /// is sent as asked: the networks ignore it, and it overrides torchvision's 224 px and an
    /// imported checkpoint's own side.
    pub fn request_for(&self, train_len: usize, side: usize) -> Result<TrainRequest, String> {
        let mut request = self.validate(train_len)?;
        request.resize = self.resize_side()?;
        self.fits(side)?;
        Ok(request)
    }

    /// What Start will fetch and, for a heavy start, how long the form's recipe takes on
    /// `train_len` training images (the subset's, when one is set); `None` without a served start.
    pub fn start_cost(&self, train_len: usize) -> Option<String> {
        let point = self.served()?;
        let epochs = self.epochs.trim().parse::<usize>().unwrap_or(1).max(1);
        let images = self.subset.trim().parse::<usize>().map_or(train_len, |n| n.min(train_len));
        // A side Start would refuse (below the file's) costs nothing to say.
        let seen = self.resize_side().ok().flatten().filter(|&r| r >= point.side()).unwrap_or(point.side());
        Some(point.before_start(epochs, images, seen))
    }

    /// The preset whose recipe the form holds, or `None` once the reader changed a field.
    pub fn preset(&self) -> Option<Preset> {
        Preset::ALL.into_iter().find(|&p| {
            let mut other = self.clone();
            other.apply_preset(p);
            other == *self
        })
    }

    /// The default draft overridden by query parameters: `preset` first (`paper`, `reader` or
    /// `best`), then `model`, `epochs`, `batch`, `lr`, `seed`, `subset`, `backend`, `augment`
    /// (`none|flip|full`, or a boolean), `mixup`, `selection`, `tta`, `conv`, `stem` and `start`
    /// (`none`, `contrastive`, `masked`, `pneumonia` or `imagenet`; without it a preset's
    /// starting point gives way to fresh weights for a model the app serves none for),
    /// `prototypes` and `resize`; `get` looks one up.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Draft {
        let mut d = Draft::default();
        if let Some(p) = get("preset").as_deref().and_then(Preset::parse) {
            d.apply_preset(p);
        }
        if let Some(m) = get("model") {
            d.set_model(m);
        }
        match get("start").as_deref().map(str::trim) {
            Some("none" | "fresh") => d.start = None,
            Some(s) => d.start = StartingPoint::parse(s).or(d.start),
            None => {}
        }
        for (key, field) in [
            ("epochs", &mut d.epochs),
            ("batch", &mut d.batch),
            ("lr", &mut d.lr),
            ("seed", &mut d.seed),
            ("subset", &mut d.subset),
            ("mixup", &mut d.mixup),
        ] {
            if let Some(v) = get(key) {
                *field = v;
            }
        }
        if let Some(b) = get("backend").as_deref().and_then(BackendChoice::parse_loose) {
            d.backend = b;
        }
        if let Some(a) = get("augment").as_deref().and_then(Augment::parse) {
            d.augment = a;
        }
        if let Some(s) = get("selection").as_deref().and_then(Selection::parse) {
            d.selection = s;
        }
        if let Some(c) = get("conv").as_deref().and_then(Conv::parse) {
            d.conv = Some(c);
        }
        if let Some(s) = get("stem").as_deref().and_then(Stem::parse) {
            d.stem = Some(s);
        }
        if let Some(t) = get("tta") {
            d.tta = matches!(t.as_str(), "1" | "true" | "on" | "yes");
        }
        if let Some(m) = get("prototypes").and_then(|v| v.trim().parse::<usize>().ok()) {
            d.prototypes = (m > 0).then_some(m);
        }
        if let Some(r) = get("resize") {
            let r = r.trim();
            d.resize = if r == "none" { String::new() } else { r.to_string() };
        }
        d
    }

    /// One validation: every field but "Seen at" (read against the loaded images by
    /// [`Draft::request_for`]), with a message naming it. An import evaluates with it.
    pub fn validate(&self, train_len: usize) -> Result<TrainRequest, String> {
        let Some(model) = ModelKind::parse(&self.model) else {
            let names: Vec<_> = ModelKind::ALL.iter().map(|m| m.name()).collect();
            return Err(format!("model must be one of {} (got '{}')", names.join(", "), self.model));
        };
        if self.stem == Some(Stem::Torchvision) {
            let what = match model {
                ModelKind::C8 | ModelKind::C16 | ModelKind::C32 => Some("a plain CNN"),
                ModelKind::Lite0 => Some("EfficientNet-Lite0, with its own stem"),
                ModelKind::Tiny | ModelKind::Small | ModelKind::Medium | ModelKind::Resnet18 | ModelKind::Resnet50 => None,
            };
            if let Some(what) = what {
                return Err(format!("torchvision's stem is a ResNet's: {model} is {what} (pick a ResNet or the 3x3 stem)"));
            }
        }
        let int = |name: &str, v: &str, lo: usize, hi: usize| -> Result<usize, String> {
            match v.trim().parse::<usize>() {
                Ok(n) if (lo..=hi).contains(&n) => Ok(n),
                _ => Err(format!("{name} must be a whole number from {lo} to {hi} (got '{v}')")),
            }
        };
        let epochs = int("epochs", &self.epochs, 1, 500)?;
        let batch_size = int("batch size", &self.batch, 1, 546)?;
        let lr = match self.lr.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 && x <= 1.0 => x,
            _ => return Err(format!("learning rate must be a number in (0, 1] (got '{}')", self.lr)),
        };
        let seed = self.seed.trim().parse::<u64>().map_err(|_| format!("seed must be a whole number (got '{}')", self.seed))?;
        let subset = match self.subset.trim() {
            "" => None,
            s => Some(int("subset", s, 1, train_len)?),
        };
        let mixup = match self.mixup.trim() {
            "" | "0" => None,
            s => match s.parse::<f64>() {
                Ok(a) if a.is_finite() && a > 0.0 => Some(a),
                _ => return Err(format!("mixup alpha must be a positive number or empty (got '{s}')")),
            },
        };
        if let Some(kind) = self.start.filter(|_| !self.fine_tune)
            && self.point(kind).is_none()
        {
            return Err(format!(
                "the page serves the {kind} starting point for {} only: pick it, or start {model} from fresh weights",
                ServedPoint::models_of(kind)
            ));
        }
        if let Some(m) = self.prototypes {
            if !matches!(model, ModelKind::C8 | ModelKind::C16 | ModelKind::C32) {
                return Err(format!("a prototype head sits on a plain CNN: pick c8, c16 or c32 (not {model})"));
            }
            if !(1..=MAX_PROTOTYPES).contains(&m) {
                return Err(format!("prototypes per class must be from 1 to {MAX_PROTOTYPES} (got {m})"));
            }
            if self.selection == Selection::EmaLast {
                return Err(
                    "a prototype head cannot be kept as a weight average (ema-last): pick last or best validation AUC".into()
                );
            }
        }
        let served = self.served();
        Ok(TrainRequest {
            model,
            epochs,
            batch_size,
            lr,
            seed,
            subset,
            augment: self.augment,
            mixup,
            backend: self.backend,
            fine_tune: self.fine_tune || served.is_some(),
            freeze_backbone: self.fine_tune && self.freeze_backbone,
            // "Seen at" is read against the loaded images: `request_for`.
            resize: None,
            selection: self.selection,
            ema_decay: (self.selection == Selection::EmaLast).then_some(self.ema_decay).flatten(),
            tta: self.tta,
            preset: self.preset(),
            method: None,
            conv: self.conv,
            stem: self.stem,
            // The imported file's name is the page's to add (`TrainCtx::start`).
            init_name: served.map(|p| p.file.to_string()),
            dataset: None,
            prototypes: self.prototypes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn url_parameters_fill_the_form() {
        let d = Draft::from_query(query(&[
            ("model", "small"),
            ("epochs", "2"),
            ("backend", "cpu"),
            ("subset", "64"),
            ("lr", "0.01"),
        ]));
        let r = d.validate(546).unwrap();
        assert_eq!((r.model, r.epochs, r.subset, r.lr, r.backend), (ModelKind::Small, 2, Some(64), 0.01, BackendChoice::Cpu));
        assert_eq!(r.batch_size, 64, "unset parameters keep their defaults");
        assert_eq!(r.preset, None, "a changed recipe is no longer the preset");
        assert_eq!(r.conv, None, "the worker picks the convolution algorithm unless asked");
        let gemm = Draft::from_query(query(&[("preset", "reader"), ("conv", "gemm")]));
        assert_eq!((gemm.validate(546).unwrap().conv, gemm.preset()), (Some(Conv::Gemm), Some(Preset::Reader)));
        assert_eq!(Draft::from_query(query(&[("conv", "winograd")])).conv, None);
        let wide = Draft::from_query(query(&[("model", "resnet50"), ("stem", "torchvision")]));
        let r = wide.validate(546).unwrap();
        assert_eq!((r.model, r.stem, r.resize), (ModelKind::Resnet50, Some(Stem::Torchvision), None));
        assert_eq!(Draft::from_query(query(&[("stem", "vgg")])).stem, None);
        assert_eq!(wide.preset(), None, "another stem is another recipe");
        let mut reset = wide.clone();
        reset.apply_preset(Preset::Reader);
        assert_eq!((reset.stem, reset.preset()), (None, Some(Preset::Reader)), "a preset brings its own stem back");
        let cnn = Draft::from_query(query(&[("model", "c16"), ("stem", "torchvision")]));
        assert!(cnn.validate(546).unwrap_err().contains("c16 is a plain CNN"));
    }

    #[test]
    fn a_prototype_head_is_asked_for_by_link_or_box_and_refused_where_it_cannot_work() {
        let d = Draft::from_query(query(&[("prototypes", "3"), ("model", "c8")]));
        let r = d.validate(546).unwrap();
        assert_eq!((r.prototypes, r.model, r.preset), (Some(3), ModelKind::C8, None), "another head is another recipe");
        assert_eq!(Draft::from_query(query(&[("prototypes", "0")])).prototypes, None);
        let mut boxed = Draft { prototypes: Some(PROTOTYPES), ..Draft::default() };
        assert_eq!((boxed.validate(546).unwrap().prototypes, boxed.preset()), (Some(10), None));
        boxed.apply_preset(Preset::Reader);
        assert_eq!(boxed.prototypes, None, "a preset brings the linear classifier back");
        let tiny = Draft::from_query(query(&[("prototypes", "2"), ("model", "tiny")]));
        assert!(tiny.validate(546).unwrap_err().contains("pick c8, c16 or c32"));
        let many = Draft::from_query(query(&[("prototypes", "51")]));
        assert!(many.validate(546).unwrap_err().contains("from 1 to 50"));
        let ema = Draft::from_query(query(&[("prototypes", "2"), ("selection", "ema-last")]));
        assert!(ema.validate(546).unwrap_err().contains("weight average"));
    }

    #[test]
    fn the_default_is_the_reader_preset_and_presets_fill_the_form() {
        // The reader preset starts from fresh weights (what the rule that reads validation only
        // chose: crates/core/tests/recipes.rs).
        let r = Draft::default().validate(546).unwrap();
        assert_eq!(r, TrainRequest { backend: BackendChoice::Auto, ..Preset::Reader.request() });
        assert_eq!((r.fine_tune, r.init_name), (false, None));
        for p in Preset::ALL {
            let d = Draft::from_query(query(&[("preset", p.name()), ("seed", "4"), ("backend", "cpu")]));
            assert_eq!(d.preset(), Some(p));
            let r = d.validate(546).unwrap();
            let init_name = p.starts_from().map(|k| format!("c16-{k}.ckpt"));
            let fine_tune = init_name.is_some();
            let expected = TrainRequest { seed: 4, backend: BackendChoice::Cpu, fine_tune, init_name, ..p.request() };
            assert_eq!(r, expected, "{}", p.name());
        }
        // A URL parameter after the preset overrides it and makes the recipe custom.
        let d = Draft::from_query(query(&[("preset", "best"), ("epochs", "5"), ("augment", "full"), ("selection", "last")]));
        let r = d.validate(546).unwrap();
        assert_eq!((r.model, r.epochs, r.augment, r.selection, r.tta), (ModelKind::C16, 5, Augment::Full, Selection::Last, true));
        assert_eq!((d.preset(), r.preset, r.ema_decay), (None, None, None));
        // Older links with augment=1 still mean the full augmentation.
        assert_eq!(Draft::from_query(query(&[("augment", "1")])).augment, Augment::Full);
        assert_eq!(Draft::from_query(query(&[("preset", "nope")])), Draft::default());
    }

    #[test]
    fn the_starting_point_follows_the_model_the_link_and_the_imported_checkpoint() {
        // A model the app serves no encoder for trains from fresh weights, unless the link
        // asks for one: then the form says why it cannot start.
        let tiny = Draft::from_query(query(&[("model", "tiny")]));
        assert_eq!((tiny.start, tiny.served()), (None, None));
        let r = tiny.validate(546).unwrap();
        assert_eq!((r.fine_tune, r.init_name), (false, None));
        let asked = Draft::from_query(query(&[("model", "tiny"), ("start", "masked")]));
        assert_eq!(asked.start, Some(StartingPoint::Masked));
        let e = asked.validate(546).unwrap_err();
        assert!(e.contains("masked starting point for c8 and c16 only: pick it") && e.contains("tiny from fresh weights"), "{e}");
        // c8 has its own encoders; `start` picks one, `none` drops it.
        let c8 = Draft::from_query(query(&[("model", "c8"), ("start", "pneumonia")]));
        let r = c8.validate(546).unwrap();
        assert_eq!((r.model, r.fine_tune, r.init_name.as_deref()), (ModelKind::C8, true, Some("c8-pneumonia.ckpt")));
        assert_eq!(c8.served().unwrap().url(), "pretrained/c8-pneumonia.ckpt");
        let fresh = Draft::from_query(query(&[("start", "none")]));
        let r = fresh.validate(546).unwrap();
        assert_eq!((r.fine_tune, r.init_name, fresh.preset()), (false, None, Some(Preset::Reader)), "the reader's own start");
        let simclr = Draft::from_query(query(&[("start", "contrastive")]));
        let r = simclr.validate(546).unwrap();
        assert_eq!((r.fine_tune, r.init_name.as_deref()), (true, Some("c16-contrastive.ckpt")));
        assert_eq!(simclr.preset(), None, "another start is another recipe");
        assert_eq!(Draft::from_query(query(&[("start", "nope")])).start, None, "an unknown start keeps the preset's");
        // ImageNet's start is Lite0's, converted for the 64 px images; the served 28 px files
        // are refused at 64 px and it at 28.
        let l0 = Draft::from_query(query(&[("model", "lite0"), ("start", "imagenet")]));
        let r = l0.validate(546).unwrap();
        assert_eq!((r.model, r.fine_tune, r.init_name.as_deref()), (ModelKind::Lite0, true, Some("lite0-imagenet.ckpt")));
        assert_eq!((l0.fits(64), c8.fits(28), fresh.fits(64)), (Ok(()), Ok(()), Ok(())));
        let e = l0.fits(28).unwrap_err();
        assert!(e.contains("lite0-imagenet.ckpt) is for the 64 px images") && e.contains("choose 64 px under Resolution"), "{e}");
        assert!(c8.fits(64).unwrap_err().contains("is for the 28 px images"));
        let said = l0.start_cost(546).unwrap();
        assert!(said.contains(&format!("{} epoch(s) of 546 images", l0.epochs)), "{said}");
        let small = Draft { subset: "32".into(), epochs: "1".into(), ..l0.clone() };
        assert!(small.start_cost(546).unwrap().contains("1 epoch(s) of 32 images"));
        assert_eq!(fresh.start_cost(546), None, "fresh weights fetch nothing");
        let e = Draft::from_query(query(&[("start", "imagenet")])).validate(546).unwrap_err();
        assert!(e.contains("imagenet starting point for lite0 only") && e.contains("start c16 from fresh weights"), "{e}");
        // Changing the model in the form: a served start stays where it can.
        let mut d = Draft::from_query(query(&[("start", "contrastive")]));
        d.set_model("c8".into());
        assert_eq!(d.start, Some(StartingPoint::Contrastive));
        d.set_model("resnet18".into());
        assert_eq!(d.start, None);
        // The imported checkpoint wins; its name is the page's to add.
        let d = Draft { fine_tune: true, freeze_backbone: false, ..Draft::default() };
        let r = d.validate(546).unwrap();
        assert_eq!((d.served(), r.fine_tune, r.init_name), (None, true, None));
    }

    #[test]
    fn seen_at_upsamples_the_loaded_images_and_says_what_it_costs() {
        let l0 = Draft::from_query(query(&[("model", "lite0"), ("start", "imagenet"), ("resize", "128")]));
        let r = l0.request_for(546, 64).unwrap();
        assert_eq!((r.resize, r.init_name.as_deref()), (Some(128), Some("lite0-imagenet.ckpt")), "the 64 px start seen at 128");
        let said = l0.start_cost(546).unwrap();
        assert!(said.contains("seen at 128 px (the 64 px images upsampled)"), "{said}");
        let same = Draft { resize: "64".into(), ..l0.clone() };
        assert_eq!(same.request_for(546, 64).unwrap().resize, Some(64), "sent as asked: it overrides a checkpoint's own side");
        assert_eq!(Draft { resize: "".into(), ..l0.clone() }.request_for(546, 64).unwrap().resize, None, "as loaded");
        let c16 = Draft::from_query(query(&[("resize", "64")]));
        assert_eq!(c16.request_for(546, 28).unwrap().resize, Some(64), "the resolution experiment's 28 px seen at 64");
        let small = Draft { resize: "32".into(), ..l0.clone() };
        let e = small.request_for(546, 64).unwrap_err();
        assert!(e.contains("upsamples the images: 32 px is below the loaded 64 px"), "{e}");
        assert!(!small.start_cost(546).unwrap().contains("32 px"), "no cost said for a side Start refuses");
        for bad in ["500", "abc", "0"] {
            let d = Draft { resize: bad.into(), ..Draft::default() };
            let e = d.request_for(546, 28).unwrap_err();
            assert!(e.contains("from 32 to 224 px") && e.contains(&format!("(got '{bad}')")), "{e}");
            assert!(d.validate(546).is_ok(), "an import, which reads no \"Seen at\", is not blocked by it");
        }
        assert_eq!(Draft::from_query(query(&[("resize", "none")])).resize, "");
        assert_eq!(Draft::from_query(query(&[("resize", " 128 ")])).resize, "128");
        let mut kept = l0.clone();
        kept.apply_preset(Preset::Reader);
        assert_eq!(kept.resize, "128", "a preset keeps the side, as it keeps the seed");
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = |f: fn(&mut Draft)| {
            let mut d = Draft::default();
            f(&mut d);
            d.validate(546).unwrap_err()
        };
        assert!(bad(|d| d.model = "resnet152".into()).starts_with("model must be one of"));
        assert!(bad(|d| d.epochs = "0".into()).starts_with("epochs"));
        assert!(bad(|d| d.batch = "x".into()).starts_with("batch size"));
        assert!(bad(|d| d.lr = "-1".into()).starts_with("learning rate"));
        assert!(bad(|d| d.subset = "1000".into()).starts_with("subset"));
        assert!(bad(|d| d.mixup = "nan".into()).starts_with("mixup"));
    }
}
