//! The one way tensors come back from the device: asynchronously (WebGPU forbids synchronous
//! reads), as `f32` vectors, several at a time in one burn `Transaction` where a caller needs
//! more than one, with one error type that the other modules' errors take via `#[from]`.
//!
//! It must not know what the values mean.

use burn::tensor::{Tensor, TensorData, Transaction};

/// A read from the device failed (a lost device, or a tensor that is not `f32`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("reading results back from the device failed: {0}")]
pub struct ReadError(pub String);

fn to_f32(data: TensorData) -> Result<Vec<f32>, ReadError> {
    data.try_into_vec::<f32>().map_err(|e| ReadError(format!("{e:?}")))
}

/// The values of `t`, row-major.
pub async fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ReadError> {
    to_f32(t.into_data_async().await.map_err(|e| ReadError(format!("{e:?}")))?)
}

/// The values of every tensor in `ts`, in order, read back in one transaction (one wait on
/// the device instead of one per tensor).
pub async fn read_all<const D: usize>(ts: Vec<Tensor<D>>) -> Result<Vec<Vec<f32>>, ReadError> {
    let n = ts.len();
    let tx = ts.into_iter().fold(Transaction::default(), |tx, t| tx.register(t));
    let data = tx.execute_async().await.map_err(|e| ReadError(format!("{e:?}")))?;
    if data.len() != n {
        return Err(ReadError(format!("{n} tensors asked for, {} returned", data.len())));
    }
    data.into_iter().map(to_f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use futures_lite::future::block_on;

    #[test]
    fn reads_one_and_many_in_order() {
        let d = Device::flex();
        let a = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0], [2]), &d);
        let b = Tensor::<1>::from_data(TensorData::new(vec![3.0f32], [1]), &d);
        assert_eq!(block_on(read_f32(a.clone())).unwrap(), vec![1.0, 2.0]);
        assert_eq!(block_on(read_all(vec![b, a])).unwrap(), vec![vec![3.0], vec![1.0, 2.0]]);
        assert_eq!(block_on(read_all(Vec::<Tensor<1>>::new())).unwrap(), Vec::<Vec<f32>>::new());
    }
}
