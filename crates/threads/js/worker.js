// The threaded CPU trainer's entry (a module worker). The page starts it only when it is
// cross-origin isolated, with ?threads=N in its URL: the pool's size.
import init, { initThreadPool, start } from './trainer_threads.js';

const wanted = Number(new URL(self.location.href).searchParams.get('threads'));
const threads = Number.isInteger(wanted) && wanted > 0 ? wanted : 1;

try {
  await init();
  await initThreadPool(threads);
  start(threads);
} catch (e) {
  // The page's `onerror` reports a worker that fails to load; this says why.
  self.postMessage({ json: JSON.stringify({ msg: 'failed', kind: 'worker', message: `the threaded trainer failed to start: ${e}` }) });
}
