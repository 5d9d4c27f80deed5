#!/usr/bin/env node
// build-l1.js: compiles the L1 settlement contract (contracts/l1/
// L2OutputOracle.sol) with the pinned solc-js (tests/tools/package.json) and
// writes contracts/artifacts/L2OutputOracle.json: ABI, creation bytecode,
// compiler and settings. `infergeth l1 deploy` (package l1/oracle) deploys
// that bytecode.
//
//   node contracts/build-l1.js           write the artifact (`make contracts`)
//   node contracts/build-l1.js --check   fail if the committed artifact differs
//                                         from a fresh build (`make contracts-check`)
//
// Deterministic: fixed compiler and settings, no metadata hash.
'use strict';

const fs = require('fs');
const path = require('path');

const here = __dirname;
const tools = path.join(here, '..', 'tests', 'tools', 'node_modules');
const artifactPath = path.join(here, 'artifacts', 'L2OutputOracle.json');
const source = 'l1/L2OutputOracle.sol';
const contract = 'L2OutputOracle';

const settings = {
  evmVersion: 'cancun', // L1s without Prague still run it
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: 'none' },
  outputSelection: { [source]: { [contract]: ['abi', 'evm.bytecode.object'] } },
};

function fail(msg) {
  process.stderr.write(`contracts/build-l1.js: ${msg}\n`);
  process.exit(1);
}

function build() {
  let solc;
  try {
    solc = require(path.join(tools, 'solc'));
  } catch (err) {
    fail(`cannot load solc from ${tools} (run \`make tools\`): ${err.message}`);
  }
  const input = {
    language: 'Solidity',
    sources: { [source]: { content: fs.readFileSync(path.join(here, source), 'utf8') } },
    settings,
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  for (const e of out.errors || []) process.stderr.write(e.formattedMessage + '\n');
  if ((out.errors || []).some((e) => e.severity === 'error')) fail('compilation failed');
  const c = out.contracts[source][contract];
  const artifact = {
    _generated: 'by `make contracts` (node contracts/build-l1.js) from contracts/l1/L2OutputOracle.sol; do not edit',
    contract: `${source}:${contract}`,
    compiler: { name: 'solc-js', version: solc.version() },
    settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer, metadata: settings.metadata },
    bytecode: '0x' + c.evm.bytecode.object,
    abi: c.abi,
  };
  return JSON.stringify(artifact, null, 2) + '\n';
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  if (args.some((a) => a !== '--check')) fail('usage: node contracts/build-l1.js [--check]');
  const fresh = build();
  const rel = path.relative(process.cwd(), artifactPath);
  if (check) {
    let committed = '';
    try {
      committed = fs.readFileSync(artifactPath, 'utf8');
    } catch (err) {
      fail(`${rel} is missing: run make contracts`);
    }
    if (committed !== fresh) fail(`${rel} is stale relative to contracts/l1: run make contracts (and commit the artifact)`);
    process.stdout.write(`${rel} is up to date\n`);
    return;
  }
  fs.writeFileSync(artifactPath, fresh);
  process.stdout.write(`wrote ${rel}\n`);
}

main();
