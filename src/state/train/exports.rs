//! A run's downloads: the metrics JSON, the kept checkpoint, the same weights as PyTorch
//! `.safetensors`, and MedMNIST's result files, as `blob:` URLs the page offers until the run
//! is replaced.

use breastmnist_protocol::Split;

use crate::runtime::blob::object_url;
use crate::view::run::RunView;

/// Download links of a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct Exports {
    /// The metrics JSON's `blob:` URL; empty after a failure (only the checkpoint is left).
    pub metrics: String,
    /// The kept checkpoint's file name and URL.
    pub checkpoint: Option<(String, String)>,
    /// The same weights as a PyTorch `.safetensors` state dict: file name and URL.
    pub weights: Option<(String, String)>,
    /// MedMNIST's standard result files: split, file name, URL.
    pub results: Vec<(Split, String, String)>,
}

/// A named file's bytes as a download URL.
fn link(file: Option<&(String, Vec<u8>)>) -> Option<(String, String)> {
    file.and_then(|(name, b)| object_url("application/octet-stream", b).ok().map(|u| (name.clone(), u)))
}

impl Exports {
    /// The downloads of `run`: the metrics JSON and result files of a finished run, and the
    /// kept checkpoint and weights; `None` when there is neither metrics nor a checkpoint.
    pub fn of(run: &RunView, checkpoint: Option<&(String, Vec<u8>)>, weights: Option<&(String, Vec<u8>)>) -> Option<Exports> {
        let metrics = run.done.as_ref().and_then(|d| object_url("application/json", d.metrics_json.as_bytes()).ok());
        let checkpoint = link(checkpoint);
        if metrics.is_none() && checkpoint.is_none() {
            return None;
        }
        let results = run.done.iter().flat_map(|d| &d.result_files).filter_map(|f| {
            let url = object_url("text/csv", f.contents.as_bytes()).ok()?;
            Some((f.split()?, f.name.clone(), url))
        });
        Some(Exports { metrics: metrics.unwrap_or_default(), checkpoint, weights: link(weights), results: results.collect() })
    }

    /// Releases every download URL (the page replaced or discarded these downloads).
    pub fn revoke(&self) {
        let urls = [Some(&self.metrics), self.checkpoint.as_ref().map(|c| &c.1), self.weights.as_ref().map(|w| &w.1)];
        for url in urls.into_iter().flatten().chain(self.results.iter().map(|r| &r.2)).filter(|u| !u.is_empty()) {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}
