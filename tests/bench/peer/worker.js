// The peer in the same-browser race (`cargo xtask bench --peer tfjs`): TensorFlow.js trains the
// MedMNIST ResNet that our `tiny`/`small`/`resnet18` are (3x3 stem without pooling, BasicBlocks
// with 1x1 projection shortcuts, bias-free convolutions, BatchNorm, global average pooling, a
// 2-way dense head) on a fixed synthetic batch, with Adam 1e-3 in f32, one loss readback a step
// (`trainOnBatch` awaits it), in a Web Worker like our trainer. It reports the trainable
// parameter count (which must equal ours) and every step's milliseconds.
/* global tf */
importScripts('tfjs/tf.min.js', 'tfjs/tf-backend-wasm.min.js', 'tfjs/tf-backend-webgpu.min.js');

const SIZES = { tiny: [8, 1], small: [16, 1], medium: [32, 2], resnet18: [64, 2] };

function convBn(x, filters, kernel, stride) {
  const c = tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false }).apply(x);
  return tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }).apply(c);
}

function block(x, inPlanes, planes, stride) {
  let out = tf.layers.reLU().apply(convBn(x, planes, 3, stride));
  out = convBn(out, planes, 3, 1);
  const shortcut = stride !== 1 || inPlanes !== planes ? convBn(x, planes, 1, stride) : x;
  return tf.layers.reLU().apply(tf.layers.add().apply([out, shortcut]));
}

function resnet(size) {
  const [w, n] = SIZES[size];
  const input = tf.input({ shape: [28, 28, 1] });
  let x = tf.layers.reLU().apply(convBn(input, w, 3, 1));
  let inPlanes = w;
  [[w, 1], [2 * w, 2], [4 * w, 2], [8 * w, 2]].forEach(([planes, stride]) => {
    for (let i = 0; i < n; i++) {
      x = block(x, inPlanes, planes, i === 0 ? stride : 1);
      inPlanes = planes;
    }
  });
  x = tf.layers.globalAveragePooling2d({}).apply(x);
  const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(x);
  return tf.model({ inputs: input, outputs: out });
}

// A fixed batch from a seeded generator (xorshift32), normalised like ours ((v/255 - 0.5) / 0.5).
function batch(n) {
  let s = 0x9e3779b9;
  const next = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
  const images = new Float32Array(n * 784).map(() => (Math.floor(next() * 256) / 255 - 0.5) / 0.5);
  const labels = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) labels[i * 2 + (i % 2)] = 1;
  return [tf.tensor4d(images, [n, 28, 28, 1]), tf.tensor2d(labels, [n, 2])];
}

onmessage = async (e) => {
  const { backend, model: size, batch: n, steps } = e.data;
  try {
    if (backend === 'wasm') tf.wasm.setWasmPaths('tfjs/');
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
    await tf.ready();
    const model = resnet(size);
    const params = model.trainableWeights.reduce((sum, v) => sum + v.shape.reduce((a, b) => a * b, 1), 0);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const [x, y] = batch(n);
    const ms = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const loss = await model.trainOnBatch(x, y);
      ms.push(performance.now() - t0);
      if (!Number.isFinite(loss)) throw new Error(`loss ${loss} at step ${i + 1}`);
    }
    let adapter = backend;
    if (backend === 'webgpu' && navigator.gpu) {
      const a = await navigator.gpu.requestAdapter();
      const info = a && (a.info || (a.requestAdapterInfo && (await a.requestAdapterInfo())));
      adapter = info ? `${info.vendor} ${info.architecture || info.description || ''}`.trim() : 'webgpu';
    } else if (backend === 'webgl') {
      // The renderer the WebGL context runs on (e.g. SwiftShader), where the browser names it.
      const gl = tf.backend().gpgpu && tf.backend().gpgpu.gl;
      const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
      adapter = gl ? String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'webgl';
    }
    postMessage({ ok: true, params, ms, adapter, threads: backend === 'wasm' ? tf.wasm.getThreadsCount?.() ?? 1 : null });
  } catch (err) {
    postMessage({ ok: false, error: String(err && err.message || err) });
  }
};
