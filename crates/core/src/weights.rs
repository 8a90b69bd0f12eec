//! A model's tensors by name: every float tensor (parameters and BatchNorm running statistics)
//! under its burn path (`ResNet.layer1.0.conv1.weight`, `Cnn.stem.bn.gamma`, …: the
//! [`Network`] variant first), read back
//! asynchronously, and a model built from such a list.
//!
//! Checkpoints ([`crate::checkpoint::save_async`]) and PyTorch interchange ([`crate::torch`])
//! both go through here. It must not know about file formats or foreign names.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use crate::model::{ModelConfig, ModelError, Network};
use crate::read::{ReadError, read_all};

/// One tensor of a model: its burn path, parameter id, shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub path: String,
    pub id: ParamId,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

struct Collect {
    path: Vec<String>,
    found: Vec<(String, ParamId, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.transform_for_save().val();
        let shape = t.dims().to_vec();
        let n: usize = shape.iter().product();
        self.found.push((self.path.join("."), param.id, shape, t.reshape([n])));
    }
}

/// The paths and shapes of `model`'s tensors, in the model's order (nothing is read).
pub fn shapes(model: &Network) -> Vec<(String, Vec<usize>)> {
    let mut c = Collect { path: Vec::new(), found: Vec::new() };
    model.visit(&mut c);
    c.found.into_iter().map(|(p, _, s, _)| (p, s)).collect()
}

/// Every tensor of `model` with its values, in the model's order, read in one transaction
/// (works on every backend, WebGPU included).
pub async fn read(model: &Network) -> Result<Vec<Named>, ReadError> {
    let mut c = Collect { path: Vec::new(), found: Vec::new() };
    model.visit(&mut c);
    let (meta, tensors): (Vec<_>, Vec<_>) = c.found.into_iter().map(|(p, id, s, t)| ((p, id, s), t)).unzip();
    let values = read_all(tensors).await?;
    Ok(meta.into_iter().zip(values).map(|((path, id, shape), values)| Named { path, id, shape, values }).collect())
}

/// What [`build`] can refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("no values for {0:?}")]
    Missing(Vec<String>),
    #[error("'{path}' has {found} values, the model needs {expected}")]
    Size { path: String, found: usize, expected: usize },
}

/// The model `config` describes on `device`, every tensor taken from `values` (by burn path;
/// a given id is kept, so a copy records equal to its original). Every tensor must be given,
/// with the right number of values.
pub fn build(
    config: &ModelConfig,
    device: &Device,
    mut values: HashMap<String, (Option<ParamId>, Vec<f32>)>,
) -> Result<Network, BuildError> {
    struct Fill<'a> {
        path: Vec<String>,
        values: &'a mut HashMap<String, (Option<ParamId>, Vec<f32>)>,
        missing: Vec<String>,
        wrong: Option<BuildError>,
    }
    impl ModuleMapper for Fill<'_> {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let path = self.path.join(".");
            let shape = param.lazy_shape();
            match self.values.remove(&path) {
                Some((id, v)) if v.len() == shape.num_elements() => {
                    let t = Tensor::<D>::from_data(TensorData::new(v, shape), &param.lazy_device());
                    let id = id.unwrap_or(param.id);
                    param.transform_for_load(t, id)
                }
                Some((_, v)) => {
                    let expected = shape.num_elements();
                    self.wrong.get_or_insert(BuildError::Size { path, found: v.len(), expected });
                    param
                }
                None => {
                    self.missing.push(path);
                    param
                }
            }
        }
    }
    let model = config.init(device, 0)?;
    let mut fill = Fill { path: Vec::new(), values: &mut values, missing: Vec::new(), wrong: None };
    let model = model.map(&mut fill);
    if let Some(e) = fill.wrong {
        return Err(e);
    }
    if !fill.missing.is_empty() {
        return Err(BuildError::Missing(fill.missing));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelSize;
    use futures_lite::future::block_on;

    #[test]
    fn a_model_rebuilt_from_its_tensors_has_the_same_tensors() {
        let config = ModelConfig::of(ModelSize::Tiny);
        let d = Device::flex();
        let model = config.init(&d, 7).unwrap();
        let named = block_on(read(&model)).unwrap();
        assert_eq!(named.iter().map(|n| (n.path.clone(), n.shape.clone())).collect::<Vec<_>>(), shapes(&model));
        assert!(named.iter().any(|n| n.path == "ResNet.layer2.0.shortcut.conv.weight"), "{:?}", shapes(&model));
        let values = named.iter().map(|n| (n.path.clone(), (Some(n.id), n.values.clone()))).collect();
        let copy = build(&config, &d, values).unwrap();
        // Same paths, shapes and values (burn gives BatchNorm running statistics fresh ids).
        let plain = |v: Vec<Named>| v.into_iter().map(|n| (n.path, n.shape, n.values)).collect::<Vec<_>>();
        assert!(plain(block_on(read(&copy)).unwrap()) == plain(named.clone()), "the copy differs");

        let mut values: HashMap<_, _> = named.iter().map(|n| (n.path.clone(), (None, n.values.clone()))).collect();
        values.remove("ResNet.fc.bias");
        assert_eq!(build(&config, &d, values.clone()).unwrap_err(), BuildError::Missing(vec!["ResNet.fc.bias".into()]));
        values.insert("ResNet.fc.bias".into(), (None, vec![0.0; 3]));
        assert!(
            matches!(build(&config, &d, values), Err(BuildError::Size { path, found: 3, expected: 2 }) if path == "ResNet.fc.bias")
        );
    }
}
