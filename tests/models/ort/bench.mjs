// Batch-1 latency of infergeth and onnxruntime-node side by side, in one
// run: for each model, rounds alternate onnxruntime (in this process) and
// `infergeth bench latency` (a child process), each taking the median of
// many timed calls after a warm-up; the table reports the median of the
// rounds' medians and the ratio infergeth / onnxruntime.
//
//   node bench.mjs --infergeth BIN [--floor IDENTITY.onnx] [--runs N] [--warmup W] [--rounds R] NAME=MODEL.onnx:MODEL.bin ...
//
// onnxruntime: CPU execution provider, intraOpNumThreads = interOpNumThreads
// = 1, graph optimizations "all", timed per session.run call (what a Node
// caller waits for). That includes the Node binding's cost, which
// infergeth's in-process Go call does not pay; --floor times a one-element
// Identity model the same way, and the table also compares infergeth with
// onnxruntime's time minus that floor (a bound that favours onnxruntime;
// its profiler is no alternative: profiling inflates every run). Both
// engines get the same int8 input: infergeth its bytes, onnxruntime the
// float values they stand for. Markdown on stdout, progress on stderr.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { session, feeds } from './run.mjs';

function parseArgs(argv) {
  const o = { runs: 2000, warmup: 200, rounds: 5, models: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--infergeth') o.bin = argv[++i];
    else if (a === '--runs') o.runs = +argv[++i];
    else if (a === '--warmup') o.warmup = +argv[++i];
    else if (a === '--rounds') o.rounds = +argv[++i];
    else if (a === '--floor') o.floor = argv[++i];
    else {
      const [name, files] = a.split('=');
      const [onnx, bin] = files.split(':');
      o.models.push({ name, onnx, bin });
    }
  }
  if (!o.bin || o.models.length === 0) throw new Error('usage: node bench.mjs --infergeth BIN [--runs N] [--warmup W] [--rounds R] NAME=MODEL.onnx:MODEL.bin ...');
  return o;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// The converted model's input quantization, from `infergeth model inspect`
// and the import report: onnxruntime gets scale·(q − zero point).
function inputQuant(bin, onnx) {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
  try {
    const out = execFileSync(bin, ['model', 'import', onnx, '-o', path.join(dir, 'm.bin'), '-n', '1', '--json'], { encoding: 'utf8' });
    const rep = JSON.parse(out).report;
    return rep.Inputs[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ortLatency(onnx, values, runs, warmup) {
  const s = await session(onnx);
  const f = feeds(s, values);
  for (let i = 0; i < warmup; i++) await s.run(f);
  const times = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(f);
    times[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  await s.release();
  return median(times);
}

function infergethLatency(bin, model, inputHex, runs, warmup) {
  const out = execFileSync(bin, ['bench', 'latency', model, '--runs', String(runs), '--warmup', String(warmup), '--input', inputHex, '--json'], { encoding: 'utf8' });
  return JSON.parse(out);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const rows = [];
  for (const m of o.models) {
    const q = inputQuant(o.bin, m.onnx);
    const n = q.Shape.reduce((a, b) => a * b, 1);
    // A fixed pseudo-random int8 input (LCG), the same for both engines.
    let seed = 12345;
    const ints = new Int8Array(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      ints[i] = (seed >>> 16) & 0xff;
    }
    const values = Array.from(ints, (v) => q.Scale * (v - q.ZeroPoint));
    const hex = Buffer.from(ints.buffer).toString('hex');
    const ours = [], ort = [], floors = [];
    let backend = '', macs = 0;
    for (let r = 0; r < o.rounds; r++) {
      console.error(`bench: ${m.name} round ${r + 1}/${o.rounds}`);
      if (o.floor) floors.push(await ortLatency(o.floor, [0], o.runs, o.warmup));
      ort.push(await ortLatency(m.onnx, values, o.runs, o.warmup));
      const res = infergethLatency(o.bin, m.bin, hex, o.runs, o.warmup);
      ours.push(res.medianUs);
      backend = res.backend;
      macs = res.macs;
    }
    const net = ort.map((t, i) => t - (floors[i] || 0));
    rows.push({ name: m.name, macs, backend, ours: median(ours), ort: median(ort), floor: o.floor ? median(floors) : 0, net: median(net) });
  }
  const { versions } = (await import('./run.mjs')).ortInfo();
  console.log(`Batch-1 latency, side by side in one run: infergeth \`bench latency\` (backend shown; the in-process Go call) and onnxruntime-node ${versions.common} (CPU EP, intraOp = interOp = 1 thread, graph optimizations all; the session.run call), each the median of ${o.runs} calls after ${o.warmup} warm-up, median over ${o.rounds} alternating rounds.`);
  if (o.floor) console.log("The Node binding's floor is timed the same way in every round on a one-element Identity model; the last ratio compares infergeth with onnxruntime's time minus that round's floor (median over rounds).");
  console.log();
  console.log('| model | MACs | infergeth µs | onnxruntime µs | infergeth / onnxruntime | floor µs | onnxruntime − floor µs | infergeth / (onnxruntime − floor) | target ≤ 1.0 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const net = r.net;
    const rj = r.ours / r.ort, rn = r.ours / net;
    const verdict = rn <= 1 ? 'met (both ratios)' : rj <= 1 ? `met; ${((rn - 1) * 100).toFixed(0)}% over without the binding` : `missed by ${((rj - 1) * 100).toFixed(0)}%`;
    console.log(`| ${r.name} | ${r.macs} | ${r.ours.toFixed(2)} (${r.backend}) | ${r.ort.toFixed(2)} | ${rj.toFixed(3)} | ${r.floor.toFixed(2)} | ${net.toFixed(2)} | ${rn.toFixed(3)} | ${verdict} |`);
  }
}

main().catch((e) => { console.error(e.stack || e); process.exit(1); });
