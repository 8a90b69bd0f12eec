//! `gemm` convolutions against burn's kernel through whole networks: every convolution of the
//! ResNet and CNN families, forward and backward, over a 20-step training trajectory on one
//! fixed batch (CPU), and a trainer racing the two. The per-layer equality (outputs, input and
//! weight gradients) is checked by `model::conv_check`, here on the CPU and in the browser test
//! on WebGPU.

use std::sync::Arc;
use std::time::Instant;

use breastmnist_core::device_check;
use breastmnist_core::model::conv_check::{RaceTimes, Settled, relative, should_race};
use breastmnist_core::model::{ConvAlgo, ModelConfig, ModelSize};
use breastmnist_core::train::{self, TrainConfig};
use breastmnist_core::{Device, Trainer};
use futures_lite::future::block_on;

mod common;

/// The training loss of each of 20 Adam steps of `size` on one fixed batch of 16 images.
fn trajectory(size: ModelSize, algo: ConvAlgo) -> Vec<f32> {
    let ad = Device::flex().autodiff();
    let config = ModelConfig::of(size);
    let mut model = config.init(&ad, 5).unwrap().with_conv(Some(algo));
    let batch = device_check::fixed_batch(&config, 16);
    let mut optim = TrainConfig::new().optimizer.init();
    (0..20)
        .map(|_| {
            let (m, loss) = block_on(train::train_step(model.clone(), &mut optim, &batch, 1e-3, &ad)).unwrap();
            model = m;
            loss as f32
        })
        .collect()
}

#[test]
fn twenty_training_steps_with_gemm_follow_burns_kernel() {
    for size in [ModelSize::Tiny, ModelSize::C8] {
        let direct = trajectory(size, ConvAlgo::Direct);
        let gemm = trajectory(size, ConvAlgo::Gemm);
        let d = relative(&gemm, &direct);
        eprintln!("{size}: direct {direct:?}\n{size}: gemm   {gemm:?}\n{size}: worst relative difference {d:.2e}");
        assert!(d < 1e-3, "{size}: the trajectories part ({d:.2e})");
        // The run learns: a fixed batch is memorised.
        assert!(gemm[19] < 0.5 * gemm[0], "{size}: {gemm:?}");
    }
}

#[test]
fn a_trainer_records_its_choice_and_keeps_it_through_the_run() {
    let config = TrainConfig::new().with_model(ModelSize::C8).with_conv(Some(ConvAlgo::Gemm));
    let json = serde_json::to_string(&config).unwrap();
    assert!(json.contains(r#""conv":"gemm""#), "{json}");
    let unset = serde_json::to_string(&TrainConfig::new()).unwrap();
    assert!(!unset.contains("conv"), "an unset choice is not written: {unset}");
    let back: TrainConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back.conv, Some(ConvAlgo::Gemm));
    let model = ModelConfig::of(ModelSize::Tiny).init(&Device::flex(), 0).unwrap();
    assert_eq!(model.conv(), None);
    assert_eq!(model.with_conv(Some(ConvAlgo::Gemm)).conv(), Some(ConvAlgo::Gemm));
}

fn clock_ms() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

#[test]
fn a_race_switches_the_trainer_to_the_faster_algorithm_and_records_why() {
    let (data, _) = common::synthetic_dataset(28, [128, 16, 16], 4);
    let config = TrainConfig::new().with_model(ModelSize::C8).with_epochs(1).with_batch_size(16);
    let mut trainer = Trainer::new(config, Arc::new(data), &Device::flex()).unwrap();
    let checked = Settled { algo: ConvAlgo::Gemm, check: None, fell_back: false, race: None };
    assert!(should_race(None, &checked));
    trainer.race_conv(clock_ms);
    let result = block_on(train::run_to_end(&mut trainer, |_| {})).unwrap().unwrap();
    assert_eq!(result.history.len(), 1);
    // 8 full steps: two warm-ups and four timed ones decide; which wins is the machine's business,
    // but the winner is the faster one, and the trainer runs it from then on.
    let outcome = trainer.conv_outcome(checked);
    let RaceTimes { direct_ms, gemm_ms } = outcome.race.expect("the race finished within the epoch");
    assert!(direct_ms > 0.0 && gemm_ms > 0.0, "{direct_ms} {gemm_ms}");
    let faster = if gemm_ms < direct_ms { ConvAlgo::Gemm } else { ConvAlgo::Direct };
    assert_eq!((outcome.algo, trainer.config().conv), (faster, Some(faster)));
    eprintln!("race on flex: direct {direct_ms:.1} ms, gemm {gemm_ms:.1} ms per step of 16: {faster} kept");
}
