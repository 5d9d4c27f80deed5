#!/usr/bin/env node
// build.js: compiles the model registry with solc-js (pinned in
// tests/tools/package.json) and writes its genesis artifact,
// contracts/artifacts/ModelRegistry.json: ABI, runtime bytecode, compiler and
// settings, storage layout. The node puts that runtime code at
// 0x...0A01 in genesis (contracts/registry.go).
//
//   node contracts/build.js           write the artifact (`make contracts`)
//   node contracts/build.js --check   fail if the committed artifact differs
//                                      from a fresh build (`make contracts-check`)
//
// It also writes contracts/artifacts/InferenceErrors.json: the ABI of every
// custom error of the precompile (IInference.sol), the registry
// (IModelRegistry.sol) and the SDK's codec (TensorCodec.sol), one array that
// ethers (`new Interface(errors)`) and viem (`decodeErrorResult`) take as is,
// and that the node embeds to name a reverted call's error in its message.
//
// The build is deterministic: fixed compiler and settings, no metadata hash
// in the bytecode, sources read from this folder only. It also refuses a
// registry whose storage layout differs from the one the precompile and
// genesis rely on, or that needs a constructor (genesis deploys runtime code
// only).
'use strict';

const fs = require('fs');
const path = require('path');

const here = __dirname;
const tools = path.join(here, '..', 'tests', 'tools', 'node_modules');
const artifactPath = path.join(here, 'artifacts', 'ModelRegistry.json');
const errorsPath = path.join(here, 'artifacts', 'InferenceErrors.json');
// The sources whose custom errors reach a dApp's callers.
const errorSources = ['src/IInference.sol', 'src/IModelRegistry.sol', 'src/TensorCodec.sol'];
const source = 'src/ModelRegistry.sol';
const contract = 'ModelRegistry';

// Settings are part of the artifact: change them only together with it.
const settings = {
  evmVersion: 'prague',
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: 'none' },
  outputSelection: {
    [source]: {
      [contract]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences', 'storageLayout'],
    },
  },
};

// The consensus storage layout (IModelRegistry.sol, vm/modelstore.go).
const layout = [
  { label: 'manifestOf', slot: 0, offset: 0, type: 't_mapping(t_bytes32,t_address)' },
  { label: 'infoOf', slot: 1, offset: 0, type: 't_mapping(t_bytes32,t_uint256)' },
  { label: 'ownerOf', slot: 2, offset: 0, type: 't_mapping(t_bytes32,t_address)' },
  { label: 'metadataOf', slot: 3, offset: 0, type: 't_mapping(t_bytes32,t_string_storage)' },
  { label: 'allowListEnabled', slot: 4, offset: 0, type: 't_bool' },
  { label: 'roleOf', slot: 5, offset: 0, type: 't_mapping(t_address,t_uint256)' },
];

function fail(msg) {
  process.stderr.write(`contracts/build.js: ${msg}\n`);
  process.exit(1);
}

function load(mod) {
  try {
    return require(path.join(tools, mod));
  } catch (err) {
    fail(`cannot load ${mod} from ${tools} (run \`make tools\`): ${err.message}`);
  }
}

// Imports resolve inside this folder only.
function findImport(p) {
  const file = path.resolve(here, p);
  if (!file.startsWith(here + path.sep)) return { error: `import outside contracts/: ${p}` };
  try {
    return { contents: fs.readFileSync(file, 'utf8') };
  } catch (err) {
    return { error: err.message };
  }
}

function compile(solc, input) {
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  for (const e of out.errors || []) process.stderr.write(e.formattedMessage + '\n');
  if (errors.length > 0) fail('compilation failed');
  return out;
}

// buildErrors returns the errors ABI: each custom error declared in
// errorSources, once, sorted by signature.
function buildErrors(solc) {
  const sources = {};
  for (const s of errorSources) sources[s] = { content: fs.readFileSync(path.join(here, s), 'utf8') };
  const out = compile(solc, {
    language: 'Solidity',
    sources,
    settings: { evmVersion: settings.evmVersion, outputSelection: { '*': { '*': ['abi'] } } },
  });
  const bySig = new Map();
  for (const s of errorSources) {
    for (const c of Object.values(out.contracts[s] || {})) {
      for (const e of c.abi.filter((x) => x.type === 'error')) {
        const sig = `${e.name}(${e.inputs.map((i) => i.type).join(',')})`;
        bySig.set(sig, e);
      }
    }
  }
  const sorted = [...bySig.keys()].sort().map((k) => bySig.get(k));
  return JSON.stringify(sorted, null, 2) + '\n';
}

function build() {
  const solc = load('solc');
  const { keccak256 } = load('js-sha3');
  const input = {
    language: 'Solidity',
    sources: { [source]: { content: fs.readFileSync(path.join(here, source), 'utf8') } },
    settings,
  };
  const out = compile(solc, input);
  const c = out.contracts[source][contract];

  if (c.abi.some((e) => e.type === 'constructor')) fail(`${contract} has a constructor; genesis deploys runtime code only`);
  if (Object.keys(c.evm.deployedBytecode.immutableReferences || {}).length > 0) {
    fail(`${contract} has immutables; genesis deploys runtime code only`);
  }
  const got = c.storageLayout.storage.map((s) => ({ label: s.label, slot: Number(s.slot), offset: s.offset, type: s.type }));
  if (JSON.stringify(got) !== JSON.stringify(layout)) {
    fail(`storage layout differs from the consensus one:\n got  ${JSON.stringify(got)}\n want ${JSON.stringify(layout)}`);
  }
  const runtime = c.evm.deployedBytecode.object;
  if (runtime.length / 2 > 24576) fail(`runtime code is ${runtime.length / 2} bytes, over EIP-170's 24576`);

  const artifact = {
    _generated: 'by `make contracts` (node contracts/build.js) from contracts/src/ModelRegistry.sol; do not edit',
    contract: `${source}:${contract}`,
    address: '0x0000000000000000000000000000000000000A01',
    compiler: { name: 'solc-js', version: solc.version() },
    settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer, metadata: settings.metadata },
    storageLayout: layout,
    runtimeCodeHash: '0x' + keccak256(Buffer.from(runtime, 'hex')),
    runtimeBytecode: '0x' + runtime,
    abi: c.abi,
  };
  return {
    [artifactPath]: JSON.stringify(artifact, null, 2) + '\n',
    [errorsPath]: buildErrors(solc),
  };
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  if (args.some((a) => a !== '--check')) fail('usage: node contracts/build.js [--check]');
  const built = build();
  for (const [file, fresh] of Object.entries(built)) {
    const name = path.relative(process.cwd(), file);
    if (check) {
      let committed = '';
      try {
        committed = fs.readFileSync(file, 'utf8');
      } catch (err) {
        fail(`${name} is missing: run make contracts`);
      }
      if (committed !== fresh) {
        fail(`${name} is stale relative to contracts/src: run make contracts (and commit the artifact)`);
      }
      process.stdout.write(`${name} is up to date\n`);
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, fresh);
    process.stdout.write(`wrote ${name}\n`);
  }
}

main();
