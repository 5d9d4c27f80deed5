// lib.js: what every JS end-to-end test shares. The client libraries come
// from tests/tools (pinned, installed by `make tools`); the endpoint and the
// compiled contracts come from the Go driver (js_test.go) through the
// environment: RPC_URL, WS_URL, CHAIN_ID, ARTIFACTS.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

/** tools loads a package from tests/tools/node_modules. */
const tools = createRequire(path.join(__dirname, '..', '..', 'tools', 'package.json'));

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these through the Go driver (make test-e2e; see tests/e2e/README.md)`);
  return v;
}

/** artifact returns a contract's ABI and creation code from forge's output. */
function artifact(name) {
  const file = path.join(env('ARTIFACTS'), `${name}.sol`, `${name}.json`);
  const a = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { abi: a.abi, bytecode: a.bytecode.object, deployedBytecode: a.deployedBytecode.object };
}

/**
 * within rejects if promise does not settle in ms: it bounds waits for
 * subscriptions, it does not assert on time.
 */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** until resolves once cond() is true, checking every 20 ms (bound it with within). */
async function until(cond) {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

module.exports = {
  tools,
  artifact,
  within,
  until,
  rpcURL: env('RPC_URL'),
  wsURL: env('WS_URL'),
  chainId: Number(env('CHAIN_ID')),
  // The dev accounts of the mnemonic "test test ... junk" (anvil's and Hardhat's).
  keys: [
    '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  ],
  addresses: [
    '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  ],
  lastAddress: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', // account 9
};
