//! The explorer's rules as plain data: which samples a filter keeps and in what order, what the
//! page address says about the view (deep links), predictions read from label-1 scores, the
//! Grad-CAM stage a model can explain, and the Grad-CAM colour map.
//!
//! No signals and no DOM, so every rule here is tested natively.

use breastmnist_data::{Class, Split};
use breastmnist_protocol::{ModelView, Stage};

/// MedMNIST's threshold: label 1 is predicted when its score is above 0.5.
pub const THRESHOLD: f32 = 0.5;

/// The predicted label of a label-1 score.
pub fn predicted(score: f32) -> u8 {
    u8::from(score > THRESHOLD)
}

/// The probability of the predicted class (0.5 to 1).
pub fn confidence(score: f32) -> f32 {
    score.max(1.0 - score)
}

/// Cross-entropy of the true label under the score.
pub fn loss(label: u8, score: f32) -> f32 {
    let p = if label == 1 { score } else { 1.0 - score };
    -p.max(1e-7).ln()
}

/// Which samples by correctness (needs predictions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Correctness {
    #[default]
    All,
    Correct,
    Incorrect,
}

impl Correctness {
    pub fn key(self) -> &'static str {
        match self {
            Correctness::All => "all",
            Correctness::Correct => "correct",
            Correctness::Incorrect => "incorrect",
        }
    }

    pub fn parse(s: &str) -> Option<Correctness> {
        [Correctness::All, Correctness::Correct, Correctness::Incorrect].into_iter().find(|c| c.key() == s)
    }

    pub fn accepts(self, label: u8, score: Option<f32>) -> bool {
        match (self, score) {
            (Correctness::All, _) => true,
            // Without predictions nothing is known to be right or wrong.
            (_, None) => false,
            (Correctness::Correct, Some(s)) => predicted(s) == label,
            (Correctness::Incorrect, Some(s)) => predicted(s) != label,
        }
    }
}

/// The order of the scrubber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Official order.
    #[default]
    Index,
    /// Most confident first.
    Confidence,
    /// Highest loss first.
    Loss,
}

impl SortOrder {
    pub fn key(self) -> &'static str {
        match self {
            SortOrder::Index => "index",
            SortOrder::Confidence => "confidence",
            SortOrder::Loss => "loss",
        }
    }

    pub fn parse(s: &str) -> Option<SortOrder> {
        [SortOrder::Index, SortOrder::Confidence, SortOrder::Loss].into_iter().find(|o| o.key() == s)
    }
}

/// The explorer's filter over one split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExploreFilter {
    pub class: Option<Class>,
    pub correctness: Correctness,
    /// Confidence range, inclusive (0.5 to 1 keeps everything).
    pub conf_min: f32,
    pub conf_max: f32,
    pub sort: SortOrder,
}

impl Default for ExploreFilter {
    fn default() -> Self {
        ExploreFilter { class: None, correctness: Correctness::All, conf_min: 0.5, conf_max: 1.0, sort: SortOrder::Index }
    }
}

impl ExploreFilter {
    /// The most confident mistakes first.
    pub fn hardest() -> Self {
        ExploreFilter { correctness: Correctness::Incorrect, sort: SortOrder::Confidence, ..Self::default() }
    }

    fn conf_is_full(&self) -> bool {
        self.conf_min <= 0.5 && self.conf_max >= 1.0
    }

    /// Whether this filter needs predictions to mean anything.
    pub fn needs_predictions(&self) -> bool {
        self.correctness != Correctness::All || !self.conf_is_full() || self.sort != SortOrder::Index
    }

    /// Indices of the split's samples this filter keeps, in its order. `scores` are the label-1
    /// scores of the whole split, when predictions exist; without them only the class filter
    /// applies and the order is the official one.
    pub fn select(&self, labels: &[u8], scores: Option<&[f32]>) -> Vec<usize> {
        let scores = scores.filter(|s| s.len() == labels.len());
        let mut out: Vec<usize> = (0..labels.len())
            .filter(|&i| self.class.is_none_or(|c| c.label() == labels[i]))
            .filter(|&i| self.correctness.accepts(labels[i], scores.map(|s| s[i])))
            .filter(|&i| match scores {
                Some(s) if !self.conf_is_full() => (self.conf_min..=self.conf_max).contains(&confidence(s[i])),
                _ => true,
            })
            .collect();
        if let Some(s) = scores {
            match self.sort {
                SortOrder::Index => {}
                SortOrder::Confidence => out.sort_by(|&a, &b| confidence(s[b]).total_cmp(&confidence(s[a])).then(a.cmp(&b))),
                SortOrder::Loss => out.sort_by(|&a, &b| loss(labels[b], s[b]).total_cmp(&loss(labels[a], s[a])).then(a.cmp(&b))),
            }
        }
        out
    }
}

/// Everything a deep link restores: `?split=test&i=42&class=malignant&correct=incorrect&conf=0.8-1&sort=loss&stage=layer3`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExploreView {
    pub split: Split,
    /// The official index within the split of the sample shown.
    pub index: usize,
    pub filter: ExploreFilter,
    /// `layer4` or `layer3`.
    pub stage: Stage,
}

impl Default for ExploreView {
    fn default() -> Self {
        ExploreView { split: Split::Test, index: 0, filter: ExploreFilter::default(), stage: Stage::GRADCAM[0] }
    }
}

/// The query keys the explorer owns.
pub const QUERY_KEYS: [&str; 7] = ["split", "i", "class", "correct", "conf", "sort", "stage"];

impl ExploreView {
    /// The default view overridden by the query parameters; values that do not parse are ignored.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> ExploreView {
        let mut v = ExploreView::default();
        if let Some(s) = get("split").as_deref().and_then(Split::parse) {
            v.split = s;
        }
        if let Some(i) = get("i").and_then(|i| i.trim().parse().ok()) {
            v.index = i;
        }
        v.filter.class = match get("class").as_deref() {
            Some("malignant" | "0") => Some(Class::Malignant),
            Some("benign" | "1") => Some(Class::Benign),
            _ => None,
        };
        if let Some(c) = get("correct").as_deref().and_then(Correctness::parse) {
            v.filter.correctness = c;
        }
        if let Some((lo, hi)) = get("conf").as_deref().and_then(parse_range) {
            v.filter.conf_min = lo;
            v.filter.conf_max = hi;
        }
        if let Some(o) = get("sort").as_deref().and_then(SortOrder::parse) {
            v.filter.sort = o;
        }
        if let Some(st) = get("stage").and_then(|s| Stage::parse(&s)).filter(|s| Stage::GRADCAM.contains(s)) {
            v.stage = st;
        }
        v
    }

    /// The query pairs that describe this view (defaults left out, except split and index).
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let d = ExploreFilter::default();
        let f = &self.filter;
        let mut q = vec![("split", self.split.key().to_string()), ("i", self.index.to_string())];
        if let Some(c) = f.class {
            q.push(("class", if c == Class::Malignant { "malignant" } else { "benign" }.into()));
        }
        if f.correctness != d.correctness {
            q.push(("correct", f.correctness.key().into()));
        }
        if !f.conf_is_full() {
            q.push(("conf", format!("{}-{}", f.conf_min, f.conf_max)));
        }
        if f.sort != d.sort {
            q.push(("sort", f.sort.key().into()));
        }
        if self.stage != Stage::GRADCAM[0] {
            q.push(("stage", self.stage.name().into()));
        }
        q
    }
}

/// The Grad-CAM stage the explorer shows: the one asked for (the select, the link), unless the
/// kept model's map there is too coarse to say where anything is (Lite0's layer4 at 28 px is
/// 1 x 1), then the deepest stage it can explain.
pub fn shown_stage(asked: Stage, model: Option<&ModelView>) -> Stage {
    model.map_or(asked, |m| m.cam_stage_for(asked))
}

/// One choice in the Grad-CAM stage select.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageOption {
    pub stage: Stage,
    /// The stage and, where the model is known, its map's side: `layer4 · 3 × 3`.
    pub label: String,
    /// Grad-CAM can explain it on the kept model.
    pub enabled: bool,
}

/// The Grad-CAM stages, deepest first, as the kept model (if known) allows them.
pub fn stage_options(model: Option<&ModelView>) -> Vec<StageOption> {
    Stage::GRADCAM
        .into_iter()
        .map(|stage| {
            let side = model.and_then(|m| m.stage_side(stage));
            let enabled = model.is_none_or(|m| m.explains(stage));
            let label = match side {
                Some(n) if enabled => format!("{stage} · {n} × {n}"),
                Some(n) => format!("{stage} · {n} × {n}, too coarse"),
                None => stage.name().to_string(),
            };
            StageOption { stage, label, enabled }
        })
        .collect()
}

/// Why the stage shown is not the one asked for, if it is not.
pub fn stage_note(asked: Stage, model: Option<&ModelView>) -> Option<String> {
    let m = model?;
    let shown = m.cam_stage_for(asked);
    (shown != asked).then(|| {
        let px = m.resize.unwrap_or(m.input_size);
        let side = |s: Stage| m.stage_side(s).map_or(String::from("?"), |n| format!("{n} × {n}"));
        format!(
            "{}'s {asked} map is {} for {px} px images and cannot say where anything is: Grad-CAM shows {shown} ({}) instead.",
            m.kind.name(),
            side(asked),
            side(shown)
        )
    })
}

/// `"0.6-1"` to `(0.6, 1.0)`, clamped to `[0.5, 1]` and ordered.
pub fn parse_range(s: &str) -> Option<(f32, f32)> {
    let (a, b) = s.split_once('-')?;
    let (a, b): (f32, f32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    if !(a.is_finite() && b.is_finite()) {
        return None;
    }
    let (a, b) = (a.clamp(0.5, 1.0), b.clamp(0.5, 1.0));
    Some((a.min(b), a.max(b)))
}

/// A Grad-CAM map (bytes, 255 = strongest) as opaque RGBA through the perceptually uniform
/// `inferno` colour map.
pub fn heat_rgba(map: &[u8]) -> Vec<u8> {
    gradient_rgba(map, &colorous::INFERNO)
}

/// A channel activation map (bytes) as RGBA through `viridis`.
pub fn activation_rgba(map: &[u8]) -> Vec<u8> {
    gradient_rgba(map, &colorous::VIRIDIS)
}

/// Bytes (0 to 255) to opaque RGBA through `gradient`.
fn gradient_rgba(map: &[u8], gradient: &colorous::Gradient) -> Vec<u8> {
    map.iter()
        .flat_map(|&v| {
            let c = gradient.eval_rational(v as usize, 256);
            [c.r, c.g, c.b, 255]
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use breastmnist_protocol::{ModelKind, Stem};

    const LABELS: [u8; 6] = [0, 0, 1, 1, 1, 0];
    // predicted:            1  0  1  0  1  0  → wrong at 0 and 3
    const SCORES: [f32; 6] = [0.9, 0.2, 0.7, 0.45, 0.99, 0.5];

    #[test]
    fn predictions_follow_medmnist_threshold() {
        assert_eq!(predicted(0.5), 0);
        assert_eq!(predicted(0.5001), 1);
        assert!((confidence(0.2) - 0.8).abs() < 1e-6);
        assert!(loss(1, 0.99) < loss(0, 0.99));
    }

    #[test]
    fn filters_select_and_sort() {
        let all = ExploreFilter::default();
        assert_eq!(all.select(&LABELS, Some(&SCORES)), [0, 1, 2, 3, 4, 5]);
        assert_eq!(all.select(&LABELS, None), [0, 1, 2, 3, 4, 5]);
        let wrong = ExploreFilter { correctness: Correctness::Incorrect, ..all };
        assert_eq!(wrong.select(&LABELS, Some(&SCORES)), [0, 3]);
        // Without predictions nothing is known to be wrong.
        assert!(wrong.select(&LABELS, None).is_empty());
        let right = ExploreFilter { correctness: Correctness::Correct, ..all };
        assert_eq!(right.select(&LABELS, Some(&SCORES)), [1, 2, 4, 5]);
        let malignant = ExploreFilter { class: Some(Class::Malignant), ..all };
        assert_eq!(malignant.select(&LABELS, None), [0, 1, 5]);
        // Confidence range 0.75..=0.95 keeps 0.9 (idx 0) and 0.8 (idx 1).
        let conf = ExploreFilter { conf_min: 0.75, conf_max: 0.95, ..all };
        assert_eq!(conf.select(&LABELS, Some(&SCORES)), [0, 1]);
        let by_conf = ExploreFilter { sort: SortOrder::Confidence, ..all };
        assert_eq!(by_conf.select(&LABELS, Some(&SCORES)), [4, 0, 1, 2, 3, 5]);
        let by_loss = ExploreFilter { sort: SortOrder::Loss, ..all };
        assert_eq!(by_loss.select(&LABELS, Some(&SCORES))[..3], [0, 3, 5]);
        // Hardest: mistakes, most confident first.
        assert_eq!(ExploreFilter::hardest().select(&LABELS, Some(&SCORES)), [0, 3]);
        // Scores of the wrong length are ignored rather than misread.
        assert!(wrong.select(&LABELS, Some(&SCORES[..3])).is_empty());
    }

    #[test]
    fn deep_links_round_trip() {
        let q = |s: &'static str| {
            move |k: &str| s.split('&').filter_map(|p| p.split_once('=')).find(|(a, _)| *a == k).map(|(_, b)| b.to_string())
        };
        let v = ExploreView::from_query(q("split=val&i=7&class=malignant&correct=incorrect&conf=1-0.6&sort=loss&stage=layer3"));
        assert_eq!((v.split, v.index, v.stage), (Split::Val, 7, Stage::Layer3));
        assert_eq!(v.filter.class, Some(Class::Malignant));
        assert_eq!(v.filter.correctness, Correctness::Incorrect);
        assert_eq!((v.filter.conf_min, v.filter.conf_max), (0.6, 1.0));
        assert_eq!(v.filter.sort, SortOrder::Loss);
        let back: String = v.to_query().iter().map(|(k, v)| format!("{k}={v}&")).collect();
        let w = ExploreView::from_query(move |k: &str| {
            back.split('&').filter_map(|p| p.split_once('=')).find(|(a, _)| *a == k).map(|(_, b)| b.to_string())
        });
        assert_eq!(v, w);
        // Bad values fall back to the defaults.
        let d = ExploreView::from_query(q("split=nope&i=x&conf=a-b&sort=zzz&stage=layer9"));
        assert_eq!(d, ExploreView::default());
        assert_eq!(ExploreView::default().to_query(), [("split", "test".to_string()), ("i", "0".to_string())]);
    }

    #[test]
    fn colour_maps_are_ordered_dark_to_bright() {
        let rgba = heat_rgba(&[0, 128, 255]);
        assert_eq!(rgba.len(), 12);
        let lum = |p: &[u8]| 0.2126 * p[0] as f32 + 0.7152 * p[1] as f32 + 0.0722 * p[2] as f32;
        assert!(lum(&rgba[0..4]) < lum(&rgba[4..8]) && lum(&rgba[4..8]) < lum(&rgba[8..12]));
        assert!(rgba.chunks(4).all(|p| p[3] == 255));
        assert_eq!(activation_rgba(&[0, 255]).len(), 8);
    }

    fn model(kind: ModelKind, px: usize, sides: Vec<usize>) -> ModelView {
        ModelView { kind, stem: Stem::Medmnist, input_size: px, resize: None, nearest: false, stage_sides: sides }
    }

    /// Lite0 on the 28 px images, as the worker describes it (layer4 is 1 x 1); also used by
    /// `view::run`'s and `view::beyond`'s tests.
    pub(crate) fn lite0_at_28() -> ModelView {
        model(ModelKind::Lite0, 28, vec![14, 7, 4, 2, 1])
    }

    #[test]
    fn a_stage_too_coarse_for_the_kept_model_shows_the_deepest_it_can_explain() {
        let lite0 = lite0_at_28();
        // A link or the default asks for layer4; Lite0 at 28 px shows layer3 and says why.
        assert_eq!(shown_stage(Stage::Layer4, Some(&lite0)), Stage::Layer3);
        assert_eq!(shown_stage(Stage::Layer3, Some(&lite0)), Stage::Layer3);
        assert_eq!(
            stage_note(Stage::Layer4, Some(&lite0)).as_deref(),
            Some(
                "lite0's layer4 map is 1 × 1 for 28 px images and cannot say where anything is: Grad-CAM shows layer3 (2 × 2) instead."
            )
        );
        assert_eq!(stage_note(Stage::Layer3, Some(&lite0)), None);
        let options = stage_options(Some(&lite0));
        assert_eq!(
            options.iter().map(|o| (o.stage, o.label.as_str(), o.enabled)).collect::<Vec<_>>(),
            vec![(Stage::Layer4, "layer4 · 1 × 1, too coarse", false), (Stage::Layer3, "layer3 · 2 × 2", true)]
        );
        // c16 at 28 px explains layer4 (3 × 3): nothing changes.
        let c16 = model(ModelKind::C16, 28, vec![28, 28, 14, 7, 3]);
        assert_eq!((shown_stage(Stage::Layer4, Some(&c16)), stage_note(Stage::Layer4, Some(&c16))), (Stage::Layer4, None));
        assert!(stage_options(Some(&c16)).iter().all(|o| o.enabled));
        // Before a model is kept, or from a worker that said no sides: as asked, every stage.
        assert_eq!(shown_stage(Stage::Layer4, None), Stage::Layer4);
        assert_eq!(stage_options(None).iter().map(|o| o.label.as_str()).collect::<Vec<_>>(), vec!["layer4", "layer3"]);
        let unsaid = model(ModelKind::Lite0, 28, Vec::new());
        assert_eq!((shown_stage(Stage::Layer4, Some(&unsaid)), stage_note(Stage::Layer4, Some(&unsaid))), (Stage::Layer4, None));
    }
}
