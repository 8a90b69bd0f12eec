// BreastMNIST Lab's service worker: keeps the app shell (HTML, JS, wasm, CSS, icon) so a reload
// works with no network. Network first (so a new build is picked up at once), with a timeout
// (a connection that never answers must not hang the page), the cached copy as fallback.
// The data files are not touched: the app keeps them itself in Cache Storage, verified by MD5.
const CACHE = 'breastmnist-lab-shell-v1';
const TIMEOUT_MS = 4000;
const SHELL = /["']([^"'#?\s]+\.(?:js|wasm|css|svg))["']/g;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const page = await fetch('./', { cache: 'no-cache' });
    if (page.ok) {
      const html = await page.clone().text();
      await cache.put('./', page);
      const urls = [...new Set([...html.matchAll(SHELL)].map((m) => new URL(m[1], self.registration.scope).href))];
      await Promise.all(urls.map((u) => cache.add(u).catch(() => undefined)));
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('breastmnist-lab-shell-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('network timeout')), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.includes('/data/')) return;
  // Every navigation is the one page; its query string is the reader's settings.
  const key = request.mode === 'navigate' ? new URL('./', self.registration.scope).href : request;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await withTimeout(fetch(request), TIMEOUT_MS);
      if (response.ok) {
        await cache.put(key, response.clone());
        return response;
      }
      if (response.status < 500) return response;
      throw new Error(`server error ${response.status}`);
    } catch (error) {
      const cached = await cache.match(key);
      if (cached) return cached;
      throw error;
    }
  })());
});
