//! Which backends this binary has and how to reach them (`--backend flex|wgpu|vulkan|cuda`).
//!
//! The GPU backends are cargo features of the CLI: `wgpu` (the default adapter through wgpu),
//! `vulkan` (wgpu pinned to Vulkan, SPIR-V shaders), `cuda` (cubecl's CUDA runtime), and
//! burn's `fusion` on any of them. A backend that is not compiled in, or finds no device, is a
//! clear error, never a panic. Whether a backend computes what flex computes is the core's
//! `device_check` (`breastmnist check`); this module only starts devices.

use breastmnist_core::Device;
use breastmnist_core::burn::tensor::Tensor;
use breastmnist_core::export::Environment;
use clap::ValueEnum;
use futures_lite::future::block_on;

use crate::CliError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum BackendArg {
    /// burn flex: pure-Rust CPU kernels (SIMD, one thread per core).
    Flex,
    /// wgpu on the default adapter (Vulkan, Metal or DX12 natively).
    Wgpu,
    /// wgpu pinned to Vulkan, with SPIR-V shaders.
    Vulkan,
    /// CUDA (NVIDIA), through cubecl's CUDA runtime.
    Cuda,
}

impl BackendArg {
    pub(crate) const GPUS: [BackendArg; 3] = [BackendArg::Wgpu, BackendArg::Vulkan, BackendArg::Cuda];

    pub(crate) fn name(self) -> &'static str {
        match self {
            BackendArg::Flex => "flex",
            BackendArg::Wgpu => "wgpu",
            BackendArg::Vulkan => "vulkan",
            BackendArg::Cuda => "cuda",
        }
    }

    /// How this binary makes the device, or `None` when the backend is not compiled in.
    fn constructor(self) -> Option<fn() -> Device> {
        match self {
            BackendArg::Flex => Some(Device::flex),
            #[cfg(feature = "wgpu")]
            BackendArg::Wgpu => Some(|| Device::wgpu(Default::default())),
            #[cfg(feature = "vulkan")]
            BackendArg::Vulkan => Some(|| Device::vulkan(Default::default())),
            #[cfg(feature = "cuda")]
            BackendArg::Cuda => Some(|| Device::cuda(0)),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Whether this binary was built with the backend.
    pub(crate) fn compiled(self) -> bool {
        self.constructor().is_some()
    }

    /// What the metrics JSON records as the adapter (a GPU's says when burn's autotune picked
    /// its kernels).
    fn adapter(self) -> &'static str {
        let tuned = cfg!(feature = "autotune");
        match self {
            BackendArg::Flex => "cpu",
            BackendArg::Cuda if tuned => "cuda device 0, burn autotune",
            BackendArg::Cuda => "cuda device 0",
            BackendArg::Wgpu | BackendArg::Vulkan if tuned => "default adapter, burn autotune",
            BackendArg::Wgpu | BackendArg::Vulkan => "default adapter",
        }
    }
}

/// burn's kernel tuning on this binary's GPU backends, as `check` and `bench` print it.
pub(crate) const TUNING: &str = if cfg!(feature = "autotune-checks") {
    "burn autotune on, every candidate's output checked against a reference (a mismatch panics)"
} else if cfg!(feature = "autotune") {
    "burn autotune on (build with autotune-checks and run `check` first)"
} else {
    "burn autotune off (each convolution pass is burn's direct kernel unless gemm is chosen)"
};

/// The device for a backend choice, with the names the metrics JSON records.
pub(crate) fn device(backend: BackendArg) -> Result<(Device, Environment), CliError> {
    start(backend).map(|d| (d, Environment::new(backend.name(), backend.adapter())))
}

/// Starts `backend`'s device. Creating a GPU device is lazy and the first tensor operation
/// panics when there is no adapter or driver, so one small round trip is made here, with the
/// panic turned into an error that says what is missing.
pub(crate) fn start(backend: BackendArg) -> Result<Device, CliError> {
    let unavailable = |reason: String| CliError::NoBackend { backend: backend.name(), reason };
    let Some(make) = backend.constructor() else {
        return Err(unavailable(format!(
            "this binary was built without it (cargo build --release -p breastmnist-cli --features {})",
            backend.name()
        )));
    };
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| {
        let d = make();
        block_on(Tensor::<1>::ones([4], &d).into_data_async()).map(|_| d)
    });
    std::panic::set_hook(quiet);
    match probe {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(unavailable(format!("{e:?}"))),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(unavailable(format!("no device or driver found ({message})")))
        }
    }
}

/// Every GPU backend compiled in that starts, and a line for each that does not.
pub(crate) fn gpus() -> (Vec<(BackendArg, Device)>, Vec<String>) {
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    for b in BackendArg::GPUS {
        if !b.compiled() {
            continue;
        }
        match start(b) {
            Ok(d) => ok.push((b, d)),
            Err(e) => skipped.push(format!("{}: skipped ({e})", b.name())),
        }
    }
    if ok.is_empty() && skipped.is_empty() {
        skipped.push("no GPU backend compiled in (build with --features wgpu, vulkan or cuda)".into());
    }
    (ok, skipped)
}
