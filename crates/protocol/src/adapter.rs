//! What a WebGPU adapter says about itself, and the one rule for calling it a software GPU.
//!
//! The worker applies the rule when it picks a device; the page applies it before it starts
//! one, to choose between the WebGPU trainer and the threaded CPU trainer (which has no
//! WebGPU). Both read the fields from `GPUAdapter.info`; the rule lives here so they agree.

/// The fields of `GPUAdapterInfo` (and `isFallbackAdapter`) that describe an adapter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdapterInfo {
    pub vendor: String,
    pub architecture: String,
    pub description: String,
    /// `info.isFallbackAdapter` (or the older `adapter.isFallbackAdapter`).
    pub fallback: bool,
}

impl AdapterInfo {
    /// A software rasteriser (SwiftShader, or any adapter the browser calls a fallback), where
    /// burn's CPU backend trains faster than WebGPU does.
    pub fn software(&self) -> bool {
        self.fallback
            || self.architecture.to_ascii_lowercase().contains("swiftshader")
            || self.vendor.to_ascii_lowercase().contains("google") && self.architecture.is_empty()
    }

    /// "vendor architecture description", without the empty ones.
    pub fn name(&self) -> String {
        let parts = [&self.vendor, &self.architecture, &self.description];
        let name = parts.into_iter().filter(|s| !s.is_empty()).map(String::as_str).collect::<Vec<_>>().join(" ");
        if name.is_empty() { "unnamed adapter".into() } else { name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(vendor: &str, architecture: &str, fallback: bool) -> AdapterInfo {
        AdapterInfo { vendor: vendor.into(), architecture: architecture.into(), description: String::new(), fallback }
    }

    #[test]
    fn swiftshader_and_fallbacks_are_software_and_hardware_is_not() {
        assert!(info("google", "swiftshader", false).software());
        assert!(info("Google", "", false).software());
        assert!(info("nvidia", "ampere", true).software());
        assert!(!info("nvidia", "ampere", false).software());
        assert!(!info("apple", "metal-3", false).software());
        assert!(!info("", "", false).software());
    }

    #[test]
    fn the_name_skips_empty_fields() {
        let full = AdapterInfo { description: "GeForce".into(), ..info("nvidia", "", false) };
        assert_eq!(full.name(), "nvidia GeForce");
        assert_eq!(AdapterInfo::default().name(), "unnamed adapter");
    }
}
