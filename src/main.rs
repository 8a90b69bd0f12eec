//! Mounts the app; everything else lives in the library.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    // The module's compilation ends in the task that runs `main`; the article is built in the
    // next task, so neither is a long one (tests/train.rs records them).
    leptos::prelude::set_timeout(|| leptos::mount::mount_to_body(breastmnist_lab::App), std::time::Duration::ZERO);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("breastmnist-lab is a browser app: run `cargo xtask serve` and open http://127.0.0.1:8080");
    std::process::exit(2);
}
