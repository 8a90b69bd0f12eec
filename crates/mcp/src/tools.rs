//! The tools an agent sees: each one's name, description and input JSON Schema, and the
//! argument types their calls are read into (unknown fields refused). The bounds an agent's
//! call is held to are here too.

use breastmnist_ops::MAX_PROTOTYPES;
use serde::Deserialize;
use serde_json::{Value, json};

/// The most epochs one `train` call may ask for.
pub const MAX_EPOCHS: usize = 200;
/// The largest batch.
pub const MAX_BATCH: usize = 512;
/// The most prediction rows returned inline by `predict` (more go to a CSV).
pub const MAX_INLINE: usize = 200;

/// Every tool: name, description, input schema.
pub fn catalog() -> Vec<(&'static str, &'static str, Value)> {
    let data = json!({ "type": "string", "description": "A .npz file under the root (identified by MD5), or a MedMNIST 2D flag such as breastmnist or retinamnist (its official file, found under the root or in the data folders, must verify)" });
    let size = json!({ "type": "integer", "enum": [28, 64, 128, 224], "description": "With a flag: the image size [28]" });
    let checkpoint = json!({ "type": "string", "description": "A checkpoint under the root (best.ckpt of a run)" });
    let tta = json!({ "type": "boolean", "description": "Flip test-time augmentation [the run's own: its recipe in the metrics.json beside the checkpoint, else false]" });
    let split = json!({ "type": "string", "enum": ["train", "val", "test"] });
    vec![
        (
            "datasets",
            "The MedMNIST 2D catalog (task, channels, labels, split sizes, licence) and which official files are present and verified by MD5.",
            json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        ),
        (
            "inspect_data",
            "Identify a data file by MD5 and count its images per split and per class.",
            json!({ "type": "object", "properties": { "data": data, "size": size }, "required": ["data"], "additionalProperties": false }),
        ),
        (
            "train",
            "Train a model (one at a time; progress notifications at most once a second; cancel to stop and keep best.ckpt and progress.json). Model selection reads validation only. Returns the metrics and the files written.",
            json!({ "type": "object", "properties": {
                "data": data, "size": size,
                "preset": { "type": "string", "enum": ["paper", "reader", "best"], "description": "The recipe [reader]" },
                "model": { "type": "string", "enum": ["tiny", "small", "medium", "resnet18", "resnet50", "c8", "c16", "c32", "lite0"] },
                "epochs": { "type": "integer", "minimum": 1, "maximum": MAX_EPOCHS },
                "batch_size": { "type": "integer", "minimum": 1, "maximum": MAX_BATCH },
                "lr": { "type": "number", "exclusiveMinimum": 0, "maximum": 1 },
                "seed": { "type": "integer", "minimum": 0 },
                "subset": { "type": "integer", "minimum": 1, "description": "Train on the first N training images" },
                "prototypes": { "type": "integer", "minimum": 1, "maximum": MAX_PROTOTYPES, "description": "Classify with a ProtoPNet prototype head of M prototypes per class (c8, c16, c32); explain then names the training patches an image looks like" },
                "out": { "type": "string", "description": "The run's folder under the root (created)" } },
                "required": ["data", "out"], "additionalProperties": false }),
        ),
        (
            "evaluate",
            "Score a checkpoint on a split as MedMNIST's Evaluator scores it (AUC, ACC, per-class AUC, confusion); with out, also write metrics.json and the standard result files.",
            json!({ "type": "object", "properties": { "checkpoint": checkpoint, "data": data, "size": size, "split": split,
                "tta": tta.clone(),
                "out": { "type": "string", "description": "A folder under the root" } },
                "required": ["checkpoint", "data"], "additionalProperties": false }),
        ),
        (
            "predict",
            "Every image's class probabilities on a split: the first `limit` rows inline (at most 200); without a limit, a split over 200 images needs `csv` (a file under the root) for all rows.",
            json!({ "type": "object", "properties": { "checkpoint": checkpoint, "data": data, "size": size, "split": split,
                "limit": { "type": "integer", "minimum": 0, "maximum": MAX_INLINE }, "tta": tta.clone(),
                "csv": { "type": "string" } },
                "required": ["checkpoint", "data"], "additionalProperties": false }),
        ),
        (
            "score_result_file",
            "Score a MedMNIST standard result file ({flag}_{split}_... .csv) against its data, as medmnist.Evaluator.parse_and_evaluate would.",
            json!({ "type": "object", "properties": { "data": data, "size": size, "result": { "type": "string" },
                "bootstrap": { "type": "integer", "minimum": 0, "maximum": 10000 } },
                "required": ["data", "result"], "additionalProperties": false }),
        ),
        (
            "explain",
            "Grad-CAM of one image for a class (default: the predicted one), at the last stage whose map is at least 2 x 2 (layer4; layer3 for lite0 at 28 px; named in `stage`): the map, the probabilities, and a PNG of the image beside the map over it.",
            json!({ "type": "object", "properties": { "checkpoint": checkpoint, "data": data, "size": size, "split": split,
                "index": { "type": "integer", "minimum": 0 }, "class": { "type": "integer", "minimum": 0 }, "tta": tta },
                "required": ["checkpoint", "data", "split", "index"], "additionalProperties": false }),
        ),
        (
            "list_runs",
            "The runs under a folder of the root: finished (metrics.json) or cancelled (progress.json), with their figures and files.",
            json!({ "type": "object", "properties": { "dir": { "type": "string", "description": "A folder under the root [the root]" } },
                "additionalProperties": false }),
        ),
        (
            "export_weights",
            "Write a two-class checkpoint's weights as .safetensors with PyTorch's names (MedMNIST's ResNet), or copy it as our .ckpt.",
            json!({ "type": "object", "properties": { "checkpoint": checkpoint, "out": { "type": "string", "description": "A .safetensors file (or .ckpt: our checkpoint) under the root" } },
                "required": ["checkpoint", "out"], "additionalProperties": false }),
        ),
    ]
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Inspect {
    pub data: String,
    pub size: Option<usize>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Train {
    pub data: String,
    pub size: Option<usize>,
    pub preset: Option<String>,
    pub model: Option<String>,
    pub epochs: Option<usize>,
    pub batch_size: Option<usize>,
    pub lr: Option<f64>,
    pub seed: Option<u64>,
    pub subset: Option<usize>,
    pub prototypes: Option<usize>,
    pub out: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Evaluate {
    pub checkpoint: String,
    pub data: String,
    pub size: Option<usize>,
    pub split: Option<String>,
    pub tta: Option<bool>,
    pub out: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Predict {
    pub checkpoint: String,
    pub data: String,
    pub size: Option<usize>,
    pub split: Option<String>,
    pub limit: Option<usize>,
    pub tta: Option<bool>,
    pub csv: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Score {
    pub data: String,
    pub size: Option<usize>,
    pub result: String,
    #[serde(default)]
    pub bootstrap: usize,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Explain {
    pub checkpoint: String,
    pub data: String,
    pub size: Option<usize>,
    pub split: String,
    pub index: usize,
    pub class: Option<usize>,
    pub tta: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ListRuns {
    pub dir: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Export {
    pub checkpoint: String,
    pub out: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_a_closed_object_whose_required_keys_are_properties() {
        let tools = catalog();
        assert_eq!(tools.len(), 9);
        for (name, _, schema) in tools {
            assert_eq!(schema["type"], "object", "{name}");
            assert_eq!(schema["additionalProperties"], false, "{name}");
            for key in schema["required"].as_array().into_iter().flatten() {
                assert!(schema["properties"].get(key.as_str().unwrap()).is_some(), "{name}: {key}");
            }
        }
    }
}
