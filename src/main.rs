//! Mounts the app; everything else lives in the library.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(breastmnist_lab::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("breastmnist-lab is a browser app: run `cargo xtask serve` and open http://127.0.0.1:8080");
    std::process::exit(2);
}
