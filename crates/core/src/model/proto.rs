//! The prototype head (ProtoPNet, Chen et al. 2019, "This looks like that"): interpretable by
//! design. Layer4's activations pass two 1x1 convolutions (ReLU, then a sigmoid) into a
//! `DIM`-channel space; `m` learned prototypes per class live in that space. Each prototype's
//! squared L2 distance to every cell of the map gives a similarity `log((d + 1) / (d + 1e-4))`;
//! the logits are a linear layer (no bias) on each prototype's largest similarity, starting
//! with weight 1 to its own class and -0.5 to the others.
//!
//! Training adds ProtoPNet's costs ([`costs`]): a cluster cost (every image close to a
//! prototype of its class), a separation cost (far from the others) and an L1 penalty on the
//! connections to other classes. The trainer projects every prototype onto its nearest
//! training patch of its own class after each epoch (its `Project` phase, with
//! [`crate::prototypes::Search`]), so every model it evaluates explains itself with real
//! training patches.
//!
//! It must not know about datasets, optimisers or files.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};

/// Channels of the prototype space.
pub const DIM: usize = 64;

/// The ε of the similarity `log((d + 1) / (d + ε))`: a prototype at distance 0 scores
/// `ln(1 / ε)` ≈ 9.2.
pub const EPSILON: f64 = 1e-4;

/// ProtoPNet's weights of the costs: cluster 0.8, separation 0.08, L1 on other classes'
/// connections 1e-4.
pub const CLUSTER: f64 = 0.8;
pub const SEPARATION: f64 = 0.08;
pub const L1: f64 = 1e-4;

/// The head: an add-on into the prototype space, the prototypes, the last layer.
#[derive(Module, Debug)]
pub struct ProtoHead {
    pub add_on1: Conv2d,
    pub add_on2: Conv2d,
    pub relu: Relu,
    /// `[prototypes, DIM]`, class by class: prototype `j` belongs to class `j / per_class`.
    pub prototypes: Param<Tensor<2>>,
    /// `[prototypes, classes]`, no bias.
    pub last: Linear,
    #[module(skip)]
    pub per_class: usize,
}

/// What the head computes for a batch.
pub struct ProtoOutput {
    pub logits: Tensor<2>,
    /// Each prototype's smallest distance to any cell, `[batch, prototypes]`.
    pub min_distances: Tensor<2>,
}

impl ProtoHead {
    /// A head for `channels`-channel features, `per_class` prototypes for each of `classes`
    /// (values are drawn by [`super::reinit`]).
    pub fn new(channels: usize, classes: usize, per_class: usize, device: &Device) -> ProtoHead {
        let p = classes * per_class;
        ProtoHead {
            add_on1: Conv2dConfig::new([channels, DIM], [1, 1]).init(device),
            add_on2: Conv2dConfig::new([DIM, DIM], [1, 1]).init(device),
            relu: Relu::new(),
            prototypes: Param::from_tensor(Tensor::zeros([p, DIM], device)),
            last: LinearConfig::new(p, classes).with_bias(false).init(device),
            per_class,
        }
    }

    pub fn count(&self) -> usize {
        self.prototypes.lazy_shape().dims::<2>()[0]
    }

    pub fn classes(&self) -> usize {
        self.count() / self.per_class.max(1)
    }

    /// Features in the prototype space, `[batch, DIM, h, w]`, values in (0, 1).
    pub fn embed(&self, features: Tensor<4>) -> Tensor<4> {
        sigmoid(self.add_on2.forward(self.relu.forward(self.add_on1.forward(features))))
    }

    /// Squared distances of every cell of `z` (`[batch, DIM, h, w]`) to every prototype:
    /// `[batch, h * w, prototypes]`, never negative.
    pub fn distances(&self, z: Tensor<4>) -> Tensor<3> {
        let [b, d, h, w] = z.dims();
        let cells = z.reshape([b, d, h * w]).swap_dims(1, 2); // [b, hw, d]
        let p = self.prototypes.val();
        let np = p.dims()[0];
        let z2 = cells.clone().powf_scalar(2.0).sum_dim(2); // [b, hw, 1]
        let p2 = p.clone().powf_scalar(2.0).sum_dim(1).reshape([1, 1, np]);
        let cross = cells.matmul(p.transpose().unsqueeze::<3>()); // [b, hw, np]
        (z2 - cross * 2.0 + p2).clamp_min(0.0)
    }

    /// ProtoPNet's similarity of a squared distance.
    pub fn similarity<const D: usize>(distances: Tensor<D>) -> Tensor<D> {
        ((distances.clone() + 1.0) / (distances + EPSILON)).log()
    }

    /// Logits and each prototype's smallest distance for layer4's activations.
    pub fn forward(&self, features: Tensor<4>) -> ProtoOutput {
        let d = self.distances(self.embed(features));
        let [b, _, np] = d.dims();
        let min_distances = d.min_dim(1).reshape([b, np]);
        let logits = self.last.forward(Self::similarity(min_distances.clone()));
        ProtoOutput { logits, min_distances }
    }

    /// ProtoPNet's last-layer start for `[prototypes, classes]`: 1 to the prototype's class,
    /// -0.5 to the others.
    pub fn class_connections(prototypes: usize, classes: usize) -> Vec<f32> {
        let per_class = prototypes / classes.max(1);
        (0..prototypes).flat_map(|j| (0..classes).map(move |k| if j / per_class == k { 1.0 } else { -0.5 })).collect()
    }

    /// The head with `values` (`[prototypes, DIM]`) as its prototypes; the parameter keeps its
    /// identity (so the optimiser's state follows it) and its gradient setting.
    pub fn with_prototypes(mut self, values: Vec<f32>) -> ProtoHead {
        let p = self.prototypes;
        let [np, dim] = p.lazy_shape().dims::<2>();
        let id = p.id;
        let device = p.lazy_device();
        let tensor = Tensor::<2>::from_data(TensorData::new(values, [np, dim]), &device);
        self.prototypes = p.transform_for_load(tensor, id);
        self
    }
}

/// ProtoPNet's added training costs for a batch with (soft) targets `[batch, classes]`:
/// `CLUSTER * cluster - SEPARATION * separation + L1 * |other classes' connections|`, where
/// cluster is each image's smallest distance to a prototype of its class and separation its
/// smallest distance to a prototype of another class (weighted by the targets, so mixup's soft
/// targets weigh both classes).
pub fn costs(head: &ProtoHead, min_distances: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let [b, np] = min_distances.dims();
    let k = head.classes();
    let device = min_distances.device();
    let per_class = min_distances.reshape([b, k, np / k]).min_dim(2).reshape([b, k]); // [b, k]
    let eye: Vec<f32> = (0..k * k).map(|i| if i / k == i % k { 1e6 } else { 0.0 }).collect();
    let eye = Tensor::<2>::from_data(TensorData::new(eye, [k, k]), &device).unsqueeze::<3>();
    let others = (per_class.clone().unsqueeze_dim::<3>(1) + eye).min_dim(2).reshape([b, k]);
    let cluster = (per_class * targets.clone()).sum_dim(1).mean();
    let separation = (others * targets).sum_dim(1).mean();
    let mask: Vec<f32> = ProtoHead::class_connections(np, k).into_iter().map(|w| if w > 0.0 { 0.0 } else { 1.0 }).collect();
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [np, k]), &device);
    let l1 = (head.last.weight.val() * mask).abs().sum();
    cluster * CLUSTER - separation * SEPARATION + l1 * L1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(values, shape), &Device::flex())
    }

    #[test]
    fn distances_are_the_squared_l2_of_every_cell_to_every_prototype() {
        let device = Device::flex();
        let head = ProtoHead::new(4, 2, 1, &device);
        let mut protos = vec![0.0f32; 2 * DIM];
        protos[0] = 1.0; // prototype 0: e_0
        protos[DIM + 1] = 0.5; // prototype 1: 0.5 e_1
        let head = head.with_prototypes(protos);
        // One image, a 1x2 map: cell 0 = e_0, cell 1 = 0.
        let mut z = vec![0.0f32; DIM * 2];
        z[0] = 1.0;
        let d = head.distances(tensor(z, [1, DIM, 1, 2])).into_data().try_into_vec::<f32>().unwrap();
        // [cell][prototype]
        let expected = [0.0, 1.0 + 0.25, 1.0, 0.25];
        for (got, want) in d.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{d:?}");
        }
        // A batch of two: the second image's cells swapped.
        let mut z2 = vec![0.0f32; 2 * DIM * 2];
        z2[0] = 1.0;
        z2[DIM * 2 + 1] = 1.0;
        let d2 = head.distances(tensor(z2, [2, DIM, 1, 2])).into_data().try_into_vec::<f32>().unwrap();
        let expected2 = [0.0, 1.25, 1.0, 0.25, 1.0, 0.25, 0.0, 1.25];
        for (got, want) in d2.iter().zip(expected2) {
            assert!((got - want).abs() < 1e-6, "{d2:?}");
        }
        let s = ProtoHead::similarity(tensor(vec![0.0, 1.0], [2])).into_data().try_into_vec::<f32>().unwrap();
        assert!((s[0] - (1.0f32 / 1e-4).ln()).abs() < 1e-3 && (s[1] - (2.0f32 / 1.0001).ln()).abs() < 1e-5, "{s:?}");
    }

    #[test]
    fn the_costs_reward_the_own_class_and_punish_the_others() {
        let device = Device::flex();
        let mut head = ProtoHead::new(4, 2, 2, &device);
        head.last.weight = Param::from_tensor(tensor(ProtoHead::class_connections(4, 2), [4, 2]));
        // One image of class 0: its nearest class-0 prototype at 1, class-1 at 4.
        let d = tensor(vec![3.0, 1.0, 4.0, 9.0], [1, 4]);
        let cost = costs(&head, d.clone(), tensor(vec![1.0, 0.0], [1, 2])).into_data().try_into_vec::<f32>().unwrap()[0];
        let want = 0.8 * 1.0 - 0.08 * 4.0 + 1e-4 * 4.0 * 0.5;
        assert!((cost - want as f32).abs() < 1e-5, "{cost} vs {want}");
        // Labelled class 1 instead, the same image costs more (its class is far, the other near).
        let other = costs(&head, d, tensor(vec![0.0, 1.0], [1, 2])).into_data().try_into_vec::<f32>().unwrap()[0];
        assert!(other > cost + 2.0, "{other} vs {cost}");
        assert_eq!(ProtoHead::class_connections(4, 2), vec![1.0, -0.5, 1.0, -0.5, -0.5, 1.0, -0.5, 1.0]);
        // Three classes, one prototype each: separation is the nearest of the two other classes.
        let mut three = ProtoHead::new(4, 3, 1, &device);
        three.last.weight = Param::from_tensor(tensor(ProtoHead::class_connections(3, 3), [3, 3]));
        let d = tensor(vec![2.0, 5.0, 3.0], [1, 3]);
        let cost = costs(&three, d, tensor(vec![1.0, 0.0, 0.0], [1, 3])).into_data().try_into_vec::<f32>().unwrap()[0];
        let want = 0.8 * 2.0 - 0.08 * 3.0 + 1e-4 * 6.0 * 0.5;
        assert!((cost - want as f32).abs() < 1e-5, "{cost} vs {want}");
    }
}
