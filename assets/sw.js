// BreastMNIST Lab's service worker: keeps the app shell (the page, its JS, wasm, CSS, icon) so a
// reload works with no network. Network first (a new build is picked up at once); when a copy is
// cached, a network that does not answer within 4 s loses to it (a dead connection must not hang
// the page); when nothing is cached, the request waits for the network however long it takes.
// Copies are written in the background: a response never waits on a cache write, and a failed
// write never costs the response. Only the app's own page is stored under the page's key (the
// scope URL, whatever the query string): a tab that opens /favicon.svg or /sw.js never replaces it.
// The data files are not touched: the app keeps them itself in Cache Storage, verified by MD5.
//
// It must be served from the app's folder, next to index.html (its scope is that folder, whatever
// prefix the host serves the app under), and answers only same-origin GETs inside its scope: what
// lies outside it (another app on the same origin) is never answered or kept, and only the hashed
// files of its own folder are ever pruned.
//
// Headers for hosts that cannot set them: every response it hands the page (the page itself, its
// scripts, the trainer worker's scripts) carries the app's Content-Security-Policy and
// Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy (together they make the page cross-origin
// isolated, which the threaded CPU trainer needs), added when the host did not send them. The policy is the one of
// index.html's <meta>, Trunk.toml's [serve.headers] and assets/_headers (tests/offline.rs checks
// that all four agree). This worker's own script cannot be covered: only the host can send it one.
// tests/offline.rs and tests/deploy.rs drive each of these rules.
const PREFIX = 'breastmnist-lab-shell-';
const CACHE = `${PREFIX}v1`;
const TIMEOUT_MS = 4000;
const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' blob: https://zenodo.org/api/records/10519652/files/; style-src 'self'; style-src-attr 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'";
// Added to the app's own responses when the host did not send them.
const HEADERS = [
  ['Content-Security-Policy', POLICY],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Embedder-Policy', 'require-corp'],
];
// The files a page names ("./x-0123456789abcdef.js", './boot.js', …): the shell to keep with it.
const SHELL = /["']([^"'#?\s]+\.(?:js|wasm|css|svg))["']/g;
// The verifier worker's files: the page hashes a cached dataset with it before using it, so an
// offline reload needs them, yet the page's HTML does not name them (the app starts the worker).
const VERIFIER = ['verifier_loader.js', 'verifier.js', 'verifier_bg.wasm'];
// Trunk's content-hashed files: replaced by each build, pruned once the stored page stops naming them.
const HASHED = /-[0-9a-f]{16}(?:_bg)?\.(?:js|wasm|css|svg)$/;

const scope = () => new URL(self.registration.scope);

/** Whether `url` is one of this app's files: under its scope, the data files and pretrained models excepted (the app keeps those itself, verified). */
function isOwn(url) {
  const root = scope().href;
  return (
    url.origin === self.location.origin &&
    url.href.startsWith(root) &&
    !url.href.startsWith(`${root}data/`) &&
    !url.href.startsWith(`${root}pretrained/`)
  );
}

/** Whether `url` names a file in the app's own folder (not a subfolder: another app may live there). */
function inFolder(url) {
  const rest = url.href.slice(scope().href.length);
  return url.href.startsWith(scope().href) && !rest.includes('/');
}

/** The app's own page: the scope itself or its index.html (any query string). */
function isPage(url) {
  const root = scope().pathname;
  return url.pathname === root || url.pathname === `${root}index.html`;
}

/** A response worth keeping under `page`'s rules: a whole, same-origin, non-redirected 200. */
function keepable(response, page) {
  if (!response.ok || response.status !== 200 || response.type !== 'basic' || response.redirected) return false;
  return !page || (response.headers.get('content-type') || '').startsWith('text/html');
}

/** The shell files a page's HTML names, as absolute URLs. */
function shellOf(html) {
  return [...new Set([...html.matchAll(SHELL)].map((m) => new URL(m[1], scope()).href))];
}

/** Stores `copy` under `key`; for the page, then drops the hashed files it no longer names. Never throws. */
async function store(key, copy, page) {
  try {
    const cache = await caches.open(CACHE);
    const html = page ? await copy.clone().text() : null;
    await cache.put(key, copy);
    if (html !== null) {
      const named = new Set(shellOf(html));
      for (const request of await cache.keys()) {
        const url = new URL(request.url);
        if (inFolder(url) && HASHED.test(url.pathname) && !named.has(request.url)) await cache.delete(request);
      }
    }
  } catch {
    // Quota, a storage error, an evicted cache: the response was already given; offline reloads
    // simply keep the older copy.
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    try {
      const pageUrl = scope().href;
      const page = await fetch(pageUrl, { cache: 'no-cache' });
      if (keepable(page, true)) {
        const html = await page.clone().text();
        const cache = await caches.open(CACHE);
        await cache.put(pageUrl, page);
        const shell = [...shellOf(html), ...VERIFIER.map((f) => new URL(f, scope()).href)];
        await Promise.all(shell.map((u) => cache.add(u).catch(() => undefined)));
      }
    } catch {
      // Offline or no storage: the worker still installs and keeps copies as the page loads.
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    try {
      for (const key of await caches.keys()) {
        if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
      }
    } catch {
      // A cache that cannot be listed or deleted is left for the next activation.
    }
    await self.clients.claim();
  })());
});

/** `promise`, or a rejection after `ms`. */
function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('network timeout')), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

/** The network's answer, or the cached copy when the network fails, errs (5xx) or is slow. */
async function respond(key, network) {
  let cached;
  try {
    cached = await (await caches.open(CACHE)).match(key);
  } catch {
    cached = undefined;
  }
  // Nothing to fall back to: wait for the network, however slow; its failure is the answer.
  if (!cached) return network;
  try {
    const response = await withTimeout(network, TIMEOUT_MS);
    if (response.status < 500) return response;
  } catch {
    // Offline, refused or too slow: the cached copy below.
  }
  return cached;
}

/** `response` with the app's headers (`HEADERS`) that it lacks; as it is when it has them all, or
 * cannot be rebuilt (an opaque, errored or redirected response keeps what the network said). */
function withHeaders(response) {
  const missing = HEADERS.filter(([name]) => !response.headers.has(name));
  if (missing.length === 0 || response.type === 'opaque' || response.type === 'error' || response.redirected) return response;
  try {
    const headers = new Headers(response.headers);
    for (const [name, value] of missing) headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  } catch {
    return response;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || !isOwn(url)) return;
  // The page is one entry whatever its query string (the reader's settings); anything else,
  // a navigation to /favicon.svg or /sw.js included, is kept under its own URL.
  const page = isPage(url);
  const key = page ? scope().href : request.url;
  let stored = Promise.resolve();
  const network = fetch(request).then((response) => {
    // The copy is taken before the response is handed on; its write runs after, on its own.
    if (keepable(response, page)) stored = store(key, response.clone(), page);
    return response;
  });
  // Keeps the worker alive for the write, even when the cached copy answered first.
  event.waitUntil(network.then(() => stored, () => undefined));
  event.respondWith(respond(key, network).then(withHeaders));
});
