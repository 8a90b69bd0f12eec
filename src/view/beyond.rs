//! "Beyond BreastMNIST" as plain data: which MedMNIST 2D sets the tab offers at 28 px (and why
//! it refuses the largest), a set's card (task, labels, per-class counts, a sample of each
//! class), the run's request (the reader recipe on that set, `c8` or `c16`) and the fold of the
//! worker's reports into what the section shows.
//!
//! No signals and no DOM, so the rules are tested natively.

use breastmnist_data::{Dataset, Flag, Size, Split, Task};
use breastmnist_protocol::{
    BackendChoice, DataFile, DoneView, EpochView, FromWorker, ModelKind, ModelView, Preset, Stage, TaskConfusion, TaskView,
    TrainRequest,
};

/// The most bytes of pixels and labels a set may decode to in this section: the page and the
/// worker each hold a decoded copy beside the file, and training needs room in the worker's
/// 32-bit memory. Larger sets get a reason and the CLI command instead of a crashed tab.
pub const TAB_LIMIT: u64 = 64 * 1024 * 1024;

/// Images the reader recipe trains on per run on BreastMNIST (20 epochs of 546): the default
/// epochs of another set give about as many steps.
const READER_IMAGES: usize = 20 * 546;

/// The models this section trains.
pub const MODELS: [ModelKind; 2] = [ModelKind::C8, ModelKind::C16];

/// Every MedMNIST 2D set but BreastMNIST (the article above), in the catalog's order.
pub fn flags() -> impl Iterator<Item = Flag> {
    Flag::ALL.into_iter().filter(|&f| f != Flag::Breast)
}

/// Whether the tab can hold a set's 28 px file decoded; the bytes it would take when not.
pub fn too_large(flag: Flag) -> Option<u64> {
    let bytes = flag.entry().decoded_bytes(Size::Px28);
    (bytes > TAB_LIMIT).then_some(bytes)
}

/// Why a set is not offered in the tab, and what to do instead.
pub fn refusal(flag: Flag, bytes: u64) -> String {
    format!(
        "{} decodes to {:.0} MB at 28 px, more than this section holds in a tab ({:.0} MB), so it is not offered here. \
         The CLI trains it with the same recipe: breastmnist train --dataset {flag} --preset reader",
        flag.entry().title,
        bytes as f64 / 1e6,
        TAB_LIMIT as f64 / 1e6,
    )
}

/// Why a local file of `bytes` is refused before it is read: larger than any official 28 px
/// file this section holds could be (its decoded arrays plus 1 MiB of archive).
pub fn file_too_large(bytes: u64) -> Option<String> {
    let offered = flags().filter(|&f| too_large(f).is_none());
    let limit = offered.map(|f| f.entry().decoded_bytes(Size::Px28)).max().unwrap_or(0) + (1 << 20);
    (bytes > limit).then(|| {
        let refused: Vec<&str> = flags().filter(|&f| too_large(f).is_some()).map(|f| f.entry().title).collect();
        format!(
            "{:.0} MB is more than the official 28 px file of any set this section holds ({:.0} MB at most), so it is not read. \
             {} are too large for a tab: the CLI trains them (breastmnist train --dataset FLAG --preset reader).",
            bytes as f64 / 1e6,
            limit as f64 / 1e6,
            refused.join(", ")
        )
    })
}

/// One line for the picker: `PneumoniaMNIST — binary-class, 2 classes, 5,856 images, gray`.
pub fn summary(flag: Flag) -> String {
    let e = flag.entry();
    let kind = if e.task == Task::MultiLabel { "labels" } else { "classes" };
    let colour = if e.channels == 3 { "RGB" } else { "gray" };
    format!("{} — {}, {} {kind}, {} images, {colour}", e.title, e.task, e.classes(), thousands(e.images()))
}

/// `5856` as `5,856`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The address this app serves a set's official 28 px file under (relative to the page).
pub fn served_url(flag: Flag) -> String {
    format!("data/{}", flag.entry().file_name(Size::Px28))
}

/// How a class is named in tables: `3: kidney-left`, or `3` where the label is the number
/// (RetinaMNIST's grades).
pub fn class_name(i: usize, label: &str) -> String {
    if label == i.to_string() { label.to_string() } else { format!("{i}: {label}") }
}

/// A loaded set as its card shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub flag: Flag,
    pub channels: usize,
    pub side: usize,
    /// Per class (or label): its name and its images in train, val and test.
    pub classes: Vec<(String, [usize; 3])>,
    /// Up to two training images of each class, `(class, index)`.
    pub samples: Vec<(usize, usize)>,
}

impl Card {
    pub fn of(flag: Flag, data: &Dataset) -> Card {
        let e = flag.entry();
        let k = e.classes();
        let per_split = Split::ALL.map(|s| data.split(s).counts(k));
        let classes = (0..k).map(|c| (e.labels[c].to_string(), [0, 1, 2].map(|s| per_split[s][c]))).collect();
        let train = &data.train;
        let mut samples = Vec::new();
        for class in 0..k {
            let has = |i: &usize| match e.task {
                Task::MultiLabel => train.labels_of(*i).get(class) == Some(&1),
                _ => train.labels_of(*i).first() == Some(&(class as u8)),
            };
            samples.extend((0..train.len()).filter(has).take(2).map(|i| (class, i)));
        }
        Card { flag, channels: data.channels, side: data.side, classes, samples }
    }

    /// The largest per-class count of any split (the bars' full width).
    pub fn max_count(&self) -> usize {
        self.classes.iter().flat_map(|(_, c)| c.iter().copied()).max().unwrap_or(0).max(1)
    }

    /// The epochs a run defaults to: about as many images as the reader recipe sees on
    /// BreastMNIST (20 epochs of 546), at least 1 and at most 20.
    pub fn default_epochs(&self) -> usize {
        let train: usize = self.classes.iter().map(|(_, c)| c[0]).sum::<usize>().max(1);
        let train = if self.flag.entry().task == Task::MultiLabel { self.flag.entry().splits[0] } else { train };
        ((READER_IMAGES as f64 / train as f64).round() as usize).clamp(1, 20)
    }
}

/// The run this section starts: the reader recipe (flip augmentation, last epoch, flip TTA)
/// with `model` for `epochs` on the set's official 28 px file.
pub fn request(flag: Flag, model: ModelKind, epochs: usize, seed: u64, backend: BackendChoice) -> TrainRequest {
    let reader = Preset::Reader.request();
    let unchanged = model == reader.model && epochs == reader.epochs;
    TrainRequest {
        model,
        epochs,
        seed,
        backend,
        preset: unchanged.then_some(Preset::Reader),
        dataset: Some(DataFile { flag, size: Size::Px28 }),
        ..reader
    }
}

/// Where the section's run is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Status {
    #[default]
    Idle,
    Starting,
    Training {
        epoch: usize,
        step: usize,
        steps: usize,
    },
    Done(Box<DoneView>),
    Failed(String),
}

/// The section's run: its status and its epochs so far.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Run {
    pub epochs: usize,
    pub status: Status,
    pub history: Vec<EpochView>,
}

impl Run {
    pub fn starting(epochs: usize) -> Run {
        Run { epochs, status: Status::Starting, history: Vec::new() }
    }

    /// Folds a worker report in; `true` when it ended the run (done or failed).
    pub fn apply(&mut self, msg: &FromWorker) -> bool {
        match msg {
            FromWorker::Step { epoch, step, steps_per_epoch, .. } => {
                self.status = Status::Training { epoch: *epoch, step: *step, steps: *steps_per_epoch }
            }
            FromWorker::Epoch(e) => self.history.push(e.clone()),
            FromWorker::Done(d) => self.status = Status::Done(Box::new(d.clone())),
            // After Done the worker only answers Grad-CAM: its failure is not the run's.
            FromWorker::Failed(_) if matches!(self.status, Status::Done(_)) => return true,
            FromWorker::Failed(e) => self.status = Status::Failed(e.message.clone()),
            _ => return false,
        }
        self.is_finished()
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status, Status::Done(_) | Status::Failed(_))
    }

    pub fn is_running(&self) -> bool {
        matches!(self.status, Status::Starting | Status::Training { .. })
    }

    /// The task's figures once done.
    pub fn task(&self) -> Option<&TaskView> {
        match &self.status {
            Status::Done(d) => d.task.as_deref(),
            _ => None,
        }
    }

    /// A line on where the run is.
    pub fn describe(&self) -> String {
        match &self.status {
            Status::Idle => String::new(),
            Status::Starting => "starting the trainer…".into(),
            Status::Training { epoch, step, steps } => {
                format!("training: epoch {epoch} of {}, step {step} of {steps}", self.epochs)
            }
            Status::Done(d) => match d.best_epoch {
                1 => "done: 1 epoch".to_string(),
                n => format!("done: {n} epochs, the last one kept"),
            },
            Status::Failed(m) => format!("failed: {m}"),
        }
    }

    /// The stage Grad-CAM explains this run's model at: the deepest whose map can say where
    /// anything is (Lite0's layer4 at 28 px is 1 x 1, so layer3 there).
    pub fn cam_stage(&self) -> Stage {
        match &self.status {
            Status::Done(d) => d.model.as_deref().map_or(Stage::GRADCAM[0], ModelView::cam_stage),
            _ => Stage::GRADCAM[0],
        }
    }

    /// `(epoch, value)` series for the curves: validation AUC and ACC.
    pub fn curves(&self) -> [(String, Vec<(f64, f64)>); 2] {
        let series = |f: fn(&EpochView) -> f64| self.history.iter().map(|e| (e.epoch as f64, f(e))).collect();
        [("val AUC".into(), series(|e| e.val_auc)), ("val ACC".into(), series(|e| e.val_acc))]
    }
}

/// The class a model predicts from its probabilities: the most probable, ties to the first
/// (MedMNIST's argmax); `None` without probabilities.
pub fn predicted_class(probabilities: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &p) in probabilities.iter().enumerate() {
        if best.is_none_or(|(_, b)| p > b) {
            best = Some((i, p));
        }
    }
    best.map(|(i, _)| i)
}

/// One cell of the confusion table: the count and its share of the true class's row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub count: u32,
    pub share: f64,
}

/// The `k x k` confusion's rows (true class) with each cell's share of its row; `None` for
/// multi-label runs (one 2 x 2 per label, shown as a table of rates instead).
pub fn confusion_rows(t: &TaskView) -> Option<Vec<Vec<Cell>>> {
    let TaskConfusion::Classes(m) = &t.confusion else { return None };
    Some(
        m.iter()
            .map(|row| {
                let total: u32 = row.iter().sum();
                row.iter()
                    .map(|&count| Cell { count, share: if total == 0 { 0.0 } else { f64::from(count) / f64::from(total) } })
                    .collect()
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_data::synthetic;
    use breastmnist_protocol::{ErrorKind, WorkerError};

    #[test]
    fn the_tab_offers_every_set_it_can_hold_and_says_why_not_the_others() {
        let offered: Vec<Flag> = flags().filter(|&f| too_large(f).is_none()).collect();
        assert!(!offered.contains(&Flag::Breast), "BreastMNIST is the article above");
        assert!(offered.contains(&Flag::Pneumonia) && offered.contains(&Flag::Retina) && offered.contains(&Flag::Derma));
        // PathMNIST, ChestMNIST, OCTMNIST and TissueMNIST are 86-252 MB of pixels at 28 px.
        let refused: Vec<Flag> = flags().filter(|&f| too_large(f).is_some()).collect();
        assert_eq!(refused, [Flag::Path, Flag::Chest, Flag::Oct, Flag::Tissue]);
        let why = refusal(Flag::Path, too_large(Flag::Path).unwrap());
        assert!(why.starts_with("PathMNIST decodes to 252 MB at 28 px") && why.contains("--dataset pathmnist"), "{why}");
        assert_eq!(summary(Flag::Retina), "RetinaMNIST — ordinal-regression, 5 classes, 1,600 images, RGB");
        assert_eq!(summary(Flag::Chest), "ChestMNIST — multi-label, binary-class, 14 labels, 112,120 images, gray");
        assert_eq!(served_url(Flag::Pneumonia), "data/pneumoniamnist.npz");
        // A local file larger than any offered set's is refused unread, naming the sets that
        // are too large; OrganAMNIST's file (about 46 MB decoded) is read.
        assert_eq!(file_too_large(46_000_000), None);
        let why = file_too_large(120_000_000).expect("refused");
        assert!(why.starts_with("120 MB") && why.contains("PathMNIST, ChestMNIST, OCTMNIST, TissueMNIST"), "{why}");
        assert_eq!((thousands(7), thousands(1000), thousands(236386)), ("7".into(), "1,000".into(), "236,386".into()));
    }

    #[test]
    fn a_card_counts_each_class_per_split_and_samples_each_class() {
        let spec = synthetic::Spec { task: Task::Ordinal, classes: 5, channels: 3, side: 28, splits: [23, 7, 11], seed: 3 };
        let options = breastmnist_data::DecodeOptions { split_sizes: None, ..Flag::Retina.entry().decode_options(Size::Px28) };
        let data = breastmnist_data::decode_npz(&synthetic::npz(&spec), &options).unwrap();
        let card = Card::of(Flag::Retina, &data);
        assert_eq!(card.classes.len(), 5);
        for (s, split) in Split::ALL.into_iter().enumerate() {
            assert_eq!(card.classes.iter().map(|(_, c)| c[s]).sum::<usize>(), data.split(split).len());
        }
        assert_eq!(card.classes[0].0, Flag::Retina.entry().labels[0]);
        // Two images of each class, each of the class it is filed under.
        assert_eq!(card.samples.len(), 10);
        for &(class, i) in &card.samples {
            assert_eq!(data.train.labels_of(i), [class as u8]);
        }
        let largest = card.classes.iter().flat_map(|(_, c)| c.iter().copied()).max().unwrap();
        assert_eq!(card.max_count(), largest);
        assert_eq!((card.channels, card.side), (3, 28));
    }

    #[test]
    fn default_epochs_give_about_the_reader_recipe_s_images() {
        let card = |train: usize| Card {
            flag: Flag::Retina,
            channels: 3,
            side: 28,
            classes: vec![("a".into(), [train, 1, 1])],
            samples: vec![],
        };
        // RetinaMNIST's 1,080 training images: 10 epochs; PneumoniaMNIST's 4,708: 2; the
        // largest offered sets: 1; a set smaller than BreastMNIST's: at most 20.
        assert_eq!([card(1080), card(4708), card(34581), card(100)].map(|c| c.default_epochs()), [10, 2, 1, 20]);
    }

    #[test]
    fn the_request_is_the_reader_recipe_on_the_set_s_file() {
        let r = request(Flag::Retina, ModelKind::C8, 3, 1, BackendChoice::Cpu);
        let reader = Preset::Reader.request();
        assert_eq!((r.model, r.epochs, r.seed, r.backend), (ModelKind::C8, 3, 1, BackendChoice::Cpu));
        assert_eq!((r.augment, r.selection, r.tta, r.batch_size, r.lr), (reader.augment, reader.selection, true, 64, reader.lr));
        assert_eq!(r.dataset, Some(DataFile { flag: Flag::Retina, size: Size::Px28 }));
        assert_eq!(r.preset, None, "changed settings are not the preset");
        assert_eq!(request(Flag::Retina, ModelKind::C16, 20, 0, BackendChoice::Auto).preset, Some(Preset::Reader));
    }

    #[test]
    fn the_predicted_class_is_the_argmax_ties_to_the_first() {
        assert_eq!(predicted_class(&[0.2, 0.5, 0.3]), Some(1));
        assert_eq!(predicted_class(&[0.4, 0.4, 0.2]), Some(0), "ties go to the first");
        assert_eq!(predicted_class(&[]), None);
    }

    #[test]
    fn reports_fold_into_the_run_and_its_confusion() {
        let mut run = Run::starting(2);
        assert!(run.is_running());
        assert!(!run.apply(&FromWorker::Step { epoch: 1, step: 3, steps_per_epoch: 17, loss: 1.2, millis: 5.0 }));
        assert_eq!(run.describe(), "training: epoch 1 of 2, step 3 of 17");
        let epoch = EpochView {
            epoch: 1,
            train_loss: 1.2,
            train_acc: 0.4,
            val_loss: 1.1,
            val_acc: 0.5,
            val_auc: 0.6,
            lr: 1e-3,
            is_best: true,
        };
        run.apply(&FromWorker::Epoch(epoch));
        assert_eq!(run.curves().map(|c| c.1), [vec![(1.0, 0.6)], vec![(1.0, 0.5)]]);
        let task = TaskView {
            flag: Flag::Retina,
            task: Task::Ordinal,
            labels: vec!["0".into(), "1".into()],
            val_auc: 0.7,
            val_acc: 0.5,
            test_auc: 0.68,
            test_acc: 0.45,
            per_class_auc: vec![0.7, 0.66],
            auc_ci: Some((0.6, 0.75)),
            resamples: 2000,
            confusion: TaskConfusion::Classes(vec![vec![3, 1], vec![0, 0]]),
        };
        let rows = confusion_rows(&task).unwrap();
        assert_eq!((rows[0][0].count, rows[0][0].share, rows[0][1].share), (3, 0.75, 0.25));
        assert_eq!(rows[1][0].share, 0.0, "an empty row is all zeros, not NaN");
        let per_label = TaskView { confusion: TaskConfusion::PerLabel(vec![[[1, 0], [0, 1]]]), ..task.clone() };
        assert_eq!(confusion_rows(&per_label), None);
        let done = DoneView {
            best_epoch: 2,
            val_auc: 0.7,
            test_auc: 0.68,
            test_acc: 0.45,
            confusion: [[0, 0], [0, 0]],
            roc: vec![],
            metrics_json: "{}".into(),
            result_files: vec![],
            worker_memory: 0,
            conv: None,
            model: None,
            certainty: None,
            task: Some(Box::new(task.clone())),
        };
        assert_eq!(run.cam_stage(), Stage::Layer4, "before it is done");
        let done = DoneView { model: Some(Box::new(crate::view::explore::tests::lite0_at_28())), ..done };
        assert!(run.apply(&FromWorker::Done(done)));
        assert_eq!(run.task(), Some(&task));
        assert_eq!(run.cam_stage(), Stage::Layer3, "lite0's layer4 is 1 x 1 at 28 px");
        // The worker failing afterwards (while it explains) ends it, but the run stays done.
        assert!(run.apply(&FromWorker::Failed(WorkerError::new(ErrorKind::Worker, "lost device"))));
        assert_eq!(run.task(), Some(&task));
        assert!(!run.is_running());
        let mut failed = Run::starting(1);
        assert!(failed.apply(&FromWorker::Failed(WorkerError::new(ErrorKind::Data, "bad file"))));
        assert_eq!(failed.describe(), "failed: bad file");
        assert_eq!((class_name(3, "3"), class_name(0, "normal")), ("3".to_string(), "0: normal".to_string()));
    }
}
