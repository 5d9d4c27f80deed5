// Runs ONNX models with onnxruntime-node (CPU execution provider, one
// thread, graph optimizations on), for the Go tests and the benchmark.
//
//   node run.mjs smoke MODEL.onnx...
//       loads each model and runs it once on zeros; prints one line each.
//   node run.mjs run MODEL.onnx < request.json
//       request: {"inputs": [[...values of every input, concatenated...], ...]}
//       prints {"outputs": [[...first output, flattened...], ...]}.
//
// Nothing is downloaded: onnxruntime-node ships its CPU binaries in the
// npm package (tests/tools/node_modules, installed by `make tools`).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/package.json'));
const ort = require('onnxruntime-node');

// session opens a model with the settings every comparison uses (extra
// options, e.g. profiling, are added to them).
export async function session(file, extra = {}) {
  return ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...extra,
  });
}

export function ortInfo() {
  return { versions: ort.env.versions };
}

const typed = {
  float32: Float32Array, uint8: Uint8Array, int8: Int8Array, int32: Int32Array, int64: BigInt64Array,
};

// feeds splits concatenated values over the session's inputs.
export function feeds(sess, values) {
  const out = {};
  let off = 0;
  for (const name of sess.inputNames) {
    const meta = sess.inputMetadata.find((m) => m.name === name);
    const dims = meta.shape.map((d) => (typeof d === 'number' ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    const T = typed[meta.type];
    if (!T) throw new Error(`input ${name}: type ${meta.type}`);
    const data = new T(n);
    for (let i = 0; i < n; i++) {
      const v = values ? values[off + i] : 0;
      data[i] = meta.type === 'int64' ? BigInt(Math.trunc(v)) : v;
    }
    off += n;
    out[name] = new ort.Tensor(meta.type, data, dims);
  }
  if (values && off !== values.length) throw new Error(`${values.length} values; the inputs take ${off}`);
  return out;
}

async function main() {
  const [mode, ...files] = process.argv.slice(2);
  if (mode === 'smoke') {
    for (const f of files) {
      const s = await session(f);
      const res = await s.run(feeds(s, null));
      const o = res[s.outputNames[0]];
      console.log(`${path.basename(f)}: onnxruntime ${ort.env.versions.common} ran it: inputs ${s.inputNames.join(',')} -> ${s.outputNames[0]} [${o.dims}] ${o.type}`);
    }
    return;
  }
  if (mode === 'run') {
    const s = await session(files[0]);
    const req = JSON.parse(readFileSync(0, 'utf8'));
    const outputs = [];
    for (const values of req.inputs) {
      const res = await s.run(feeds(s, values));
      outputs.push(Array.from(res[s.outputNames[0]].data, Number));
    }
    process.stdout.write(JSON.stringify({ version: ort.env.versions.common, outputs }));
    return;
  }
  throw new Error('usage: node run.mjs smoke MODEL... | run MODEL < request.json');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e.message || e); process.exit(1); });
}
