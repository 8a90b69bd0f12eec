//! An exponential moving average of a model's weights *and* BatchNorm running statistics:
//! after every update, each float tensor `e` becomes `d · e + (1 − d) · w`, where `w` is the
//! trained model's tensor and `d = min(decay, (1 + n) / (10 + n))` after `n` earlier updates (a
//! warm-up, as TensorFlow's `ExponentialMovingAverage` with `num_updates`): without it a short
//! run's average keeps a large share of the initial weights (0.99^180 = 16 % after the reader
//! recipe's 180 steps), whose BatchNorm statistics do not fit the trained weights. Reading the
//! average at the end of a run (`ema-last`) smooths the last epochs' noise without looking at
//! validation data.
//!
//! It must not know about training loops, data or files.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::model::Network;

/// The averaged copy of a model (plain device, evaluation mode).
#[derive(Debug, Clone)]
pub struct Ema {
    decay: f64,
    model: Network,
    updates: u64,
}

/// Every float tensor of a module (parameters and running statistics), flattened, in visit
/// order.
pub fn float_tensors<M: Module>(model: &M) -> Vec<Tensor<1>> {
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

impl Ema {
    /// Starts the average at `model`'s current values.
    pub fn new(model: &Network, decay: f64) -> Ema {
        Ema { decay, model: model.valid(), updates: 0 }
    }

    /// Continues an average from a saved copy (e.g. a snapshot's kept model) that had folded in
    /// `updates` updates.
    pub fn resume(average: Network, decay: f64, updates: u64) -> Ema {
        Ema { decay, model: average.valid(), updates }
    }

    /// The decay of the next update: `decay`, less during the first updates (the warm-up).
    pub fn next_decay(&self) -> f64 {
        let n = self.updates as f64;
        self.decay.min((1.0 + n) / (10.0 + n))
    }

    /// Folds `model`'s current values into the average.
    pub fn update(&mut self, model: &Network) {
        struct Blend {
            decay: f64,
            current: std::vec::IntoIter<Tensor<1>>,
        }
        impl ModuleMapper for Blend {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let Some(w) = self.current.next() else { return param };
                let d = self.decay;
                param.map(|e| {
                    let shape = e.shape();
                    let w = w.to_device(&e.device()).reshape(shape);
                    e.mul_scalar(d).add(w.mul_scalar(1.0 - d))
                })
            }
        }
        let current = float_tensors(&model.valid());
        let mut blend = Blend { decay: self.next_decay(), current: current.into_iter() };
        self.model = self.model.clone().map(&mut blend);
        self.updates += 1;
    }

    /// The averaged model (evaluation mode).
    pub fn model(&self) -> &Network {
        &self.model
    }

    /// Updates folded in since [`new`](Self::new) or [`resume`](Self::resume).
    pub fn updates(&self) -> u64 {
        self.updates
    }
}
