// Starts the app: imports the wasm-bindgen glue and instantiates the page's wasm. Trunk's own
// loader is an inline <script>, which the Content-Security-Policy (index.html) refuses without
// 'unsafe-inline' or a per-build hash; Trunk.toml's pattern_script writes instead
// <script type="module" src="./boot.js" data-js=… data-wasm=…> with the hashed file names.
// The names are relative to the page (Trunk.toml `public_url = "./"`), so the app runs from any
// folder; they are resolved here against the page itself, as its own attributes would be.
const tag = document.querySelector('script[data-js][data-wasm]');
const at = (name) => new URL(name, document.baseURI).href;
const { default: init } = await import(at(tag.dataset.js));
await init({ module_or_path: at(tag.dataset.wasm) });
