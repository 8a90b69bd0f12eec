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
use futures_lite::future::block_on;

use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// burn flex: pure-Rust CPU kernels (SIMD, one thread per core).
    Flex,
    /// wgpu on the default adapter (Vulkan, Metal or DX12 natively).
    Wgpu,
    /// wgpu pinned to Vulkan, with SPIR-V shaders.
    Vulkan,
    /// CUDA (NVIDIA), through cubecl's CUDA runtime.
    Cuda,
}

impl Backend {
    pub const GPUS: [Backend; 3] = [Backend::Wgpu, Backend::Vulkan, Backend::Cuda];

    pub const ALL: [Backend; 4] = [Backend::Flex, Backend::Wgpu, Backend::Vulkan, Backend::Cuda];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Wgpu => "wgpu",
            Backend::Vulkan => "vulkan",
            Backend::Cuda => "cuda",
        }
    }

    /// How this binary makes the device, or `None` when the backend is not compiled in.
    fn constructor(self) -> Option<fn() -> Device> {
        match self {
            Backend::Flex => Some(Device::flex),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Some(|| Device::wgpu(Default::default())),
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => Some(|| Device::vulkan(Default::default())),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Some(|| Device::cuda(0)),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Whether this binary was built with the backend.
    pub fn compiled(self) -> bool {
        self.constructor().is_some()
    }

    /// What the metrics JSON records as the adapter (a GPU's says when burn's autotune picked
    /// its kernels).
    fn adapter(self) -> &'static str {
        let tuned = cfg!(feature = "autotune");
        match self {
            Backend::Flex => "cpu",
            Backend::Cuda if tuned => "cuda device 0, burn autotune",
            Backend::Cuda => "cuda device 0",
            Backend::Wgpu | Backend::Vulkan if tuned => "default adapter, burn autotune",
            Backend::Wgpu | Backend::Vulkan => "default adapter",
        }
    }
}

/// burn's kernel tuning on this binary's GPU backends, as `check` and `bench` print it.
pub const TUNING: &str = if cfg!(feature = "autotune-checks") {
    "burn autotune on, every candidate's output checked against a reference (a mismatch panics)"
} else if cfg!(feature = "autotune") {
    "burn autotune on (build with autotune-checks and run `check` first)"
} else {
    "burn autotune off (each convolution pass is burn's direct kernel unless gemm is chosen)"
};

/// The device for a backend choice, with the names the metrics JSON records.
pub fn device(backend: Backend) -> Result<(Device, Environment), Error> {
    start(backend).map(|d| (d, Environment::new(backend.name(), backend.adapter())))
}

/// Starts `backend`'s device. Creating a GPU device is lazy and the first tensor operation
/// panics when there is no adapter or driver, so one small round trip is made here, with the
/// panic turned into an error that says what is missing.
pub fn start(backend: Backend) -> Result<Device, Error> {
    let unavailable = |reason: String| Error::NoBackend { backend: backend.name(), reason };
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
pub fn gpus() -> (Vec<(Backend, Device)>, Vec<String>) {
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    for b in Backend::GPUS {
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

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown backend '{s}' (expected flex, wgpu, vulkan or cuda)"))
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
