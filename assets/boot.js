// Starts the app: imports the wasm-bindgen glue and instantiates the page's wasm. Trunk's own
// loader is an inline <script>, which the Content-Security-Policy (index.html) refuses without
// 'unsafe-inline' or a per-build hash; Trunk.toml's pattern_script writes instead
// <script type="module" src="/boot.js" data-js=… data-wasm=…> with the hashed file names.
const tag = document.querySelector('script[data-js][data-wasm]');
const { default: init } = await import(tag.dataset.js);
await init({ module_or_path: tag.dataset.wasm });
