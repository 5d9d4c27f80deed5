// The anvil/Hardhat-style methods dApp tests rely on: time control as a
// contract sees it, snapshots, state setters, impersonation, call traces.
// Raw method names go through ethers' provider.send so that each test names
// exactly what it calls.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tools, artifact, rpcURL, chainId, keys, addresses } = require('./lib');
const { ethers } = tools('ethers');

const provider = new ethers.JsonRpcProvider(rpcURL, chainId, { cacheTimeout: -1, staticNetwork: true });
const wallet = new ethers.Wallet(keys[0], provider);
after(() => provider.destroy());

async function deploy(name, ...args) {
  const a = artifact(name);
  const c = await new ethers.ContractFactory(a.abi, a.bytecode, wallet).deploy(...args);
  await c.waitForDeployment();
  return c;
}

async function send(txPromise) {
  const receipt = await (await txPromise).wait();
  assert.equal(receipt.status, 1);
  return receipt;
}

async function blockTime(tag = 'latest') {
  return (await provider.getBlock(tag)).timestamp;
}

const hex = (n) => ethers.toQuantity(n);

test('evm_increaseTime and evm_mine move block.timestamp as a contract sees it', async () => {
  const clock = await deploy('Clock');
  const before = await send(clock.stamp());
  const t0 = Number(await clock.stampedAt());
  assert.equal(t0, (await provider.getBlock(before.blockNumber)).timestamp);

  const shift = 3600;
  const total = Number(await provider.send('evm_increaseTime', [shift]));
  assert.ok(total >= shift, `evm_increaseTime returned ${total}`);
  const height = await provider.getBlockNumber();
  await provider.send('evm_mine', []);
  assert.equal(await provider.getBlockNumber(), height + 1, 'evm_mine adds one block');
  const mined = await blockTime();
  assert.ok(mined >= t0 + shift, `mined block at ${mined}, want >= ${t0 + shift}`);

  // What the contract sees, in a call on the latest block and in a transaction.
  assert.ok(Number(await clock.currentTime({ blockTag: 'latest' })) >= t0 + shift);
  const after = await send(clock.stamp());
  const t1 = Number(await clock.stampedAt());
  assert.ok(t1 >= t0 + shift, `stamped ${t1}, want >= ${t0 + shift}`);
  assert.equal(t1, (await provider.getBlock(after.blockNumber)).timestamp);
});

test('evm_setNextBlockTimestamp sets the next block.timestamp exactly', async () => {
  const clock = await deploy('Clock');
  const target = (await blockTime()) + 100000;
  await provider.send('evm_setNextBlockTimestamp', [target]);
  const receipt = await send(clock.stamp());
  assert.equal(Number(await clock.stampedAt()), target);
  assert.equal((await provider.getBlock(receipt.blockNumber)).timestamp, target);

  // Hex quantities are accepted too, and evm_mine then mines at that time.
  await provider.send('evm_setNextBlockTimestamp', [hex(target + 50)]);
  await provider.send('evm_mine', []);
  assert.equal(await blockTime(), target + 50);
});

test('a freshness guard refuses a stale price once time moves', async () => {
  const clock = await deploy('Clock');
  await send(clock.setPrice(1234));
  assert.equal(await clock.usePrice.staticCall(60), 1234n);

  await provider.send('evm_increaseTime', [61]);
  await provider.send('evm_mine', []);
  await assert.rejects(clock.usePrice.staticCall(60), (err) => {
    assert.equal(err.code, 'CALL_EXCEPTION', err.message);
    assert.equal(err.revert && err.revert.name, 'Stale', `revert ${err.revert && err.revert.signature}: ${err.message}`);
    assert.ok(err.revert.args[0] >= 61n, `age ${err.revert.args[0]}`);
    assert.equal(err.revert.args[1], 60n);
    return true;
  });
  // A transaction fails at gas estimation with the same revert data.
  await assert.rejects(clock.usePrice(60), (err) => {
    assert.equal(err.code, 'CALL_EXCEPTION', err.message);
    assert.equal(clock.interface.parseError(err.data).name, 'Stale', err.message);
    return true;
  });
});

test('evm_snapshot and evm_revert', async () => {
  const counter = await deploy('Counter');
  const height = await provider.getBlockNumber();
  const id = await provider.send('evm_snapshot', []);
  await send(counter.setCount(7));
  await send(counter.increment());
  assert.equal(await counter.count(), 8n);

  assert.equal(await provider.send('evm_revert', [id]), true);
  assert.equal(await counter.count(), 0n);
  assert.equal(await provider.getBlockNumber(), height);
  // A snapshot is used up by reverting to it (Hardhat's and anvil's rule).
  assert.equal(await provider.send('evm_revert', [id]), false);

  // The chain goes on from the snapshot: nonces included.
  await send(counter.increment());
  assert.equal(await counter.count(), 1n);
});

test('anvil_ and hardhat_ state setters', async () => {
  const target = ethers.Wallet.createRandom().address;
  await provider.send('anvil_setBalance', [target, hex(ethers.parseEther('3'))]);
  assert.equal(await provider.getBalance(target), ethers.parseEther('3'));
  await provider.send('hardhat_setBalance', [target, hex(5n)]);
  assert.equal(await provider.getBalance(target), 5n);

  await provider.send('anvil_setNonce', [target, hex(16)]);
  assert.equal(await provider.getTransactionCount(target), 16);
  await provider.send('hardhat_setNonce', [target, hex(20)]);
  assert.equal(await provider.getTransactionCount(target), 20);

  // Code and storage: a Counter's runtime code at a fresh address, then its
  // slot 0 (count) written directly.
  const { abi, deployedBytecode } = artifact('Counter');
  const at = ethers.Wallet.createRandom().address;
  await provider.send('anvil_setCode', [at, deployedBytecode]);
  assert.equal(await provider.getCode(at), deployedBytecode);
  const counter = new ethers.Contract(at, abi, wallet);
  assert.equal(await counter.count(), 0n);
  await provider.send('anvil_setStorageAt', [at, ethers.toBeHex(0, 32), ethers.toBeHex(41, 32)]);
  assert.equal(await counter.count(), 41n);
  await send(counter.increment());
  assert.equal(await counter.count(), 42n);
  await provider.send('hardhat_setStorageAt', [at, ethers.toBeHex(0, 32), ethers.toBeHex(7, 32)]);
  assert.equal(await provider.getStorage(at, 0), ethers.toBeHex(7, 32));

  const other = ethers.Wallet.createRandom().address;
  await provider.send('hardhat_setCode', [other, deployedBytecode]);
  assert.equal(await provider.getCode(other), deployedBytecode);
});

test('anvil_impersonateAccount and hardhat_impersonateAccount', async () => {
  const counter = await deploy('Counter');
  const data = counter.interface.encodeFunctionData('increment');
  const to = await counter.getAddress();
  for (const prefix of ['anvil', 'hardhat']) {
    const whale = ethers.Wallet.createRandom().address;
    await provider.send('anvil_setBalance', [whale, hex(ethers.parseEther('1'))]);
    await provider.send(`${prefix}_impersonateAccount`, [whale]);
    // eth_sendTransaction from an account whose key nobody has.
    const hash = await provider.send('eth_sendTransaction', [{ from: whale, to, data }]);
    const receipt = await provider.waitForTransaction(hash);
    assert.equal(receipt.status, 1);
    assert.equal(receipt.from, whale);
    const [log] = receipt.logs.map((l) => counter.interface.parseLog(l));
    assert.equal(log.args.by, whale);
    await provider.send(`${prefix}_stopImpersonatingAccount`, [whale]);
    await assert.rejects(provider.send('eth_sendTransaction', [{ from: whale, to, data }]),
      `eth_sendTransaction from ${whale} after ${prefix}_stopImpersonatingAccount must fail`);
  }
  assert.equal(await counter.count(), 2n);
});

test('debug_traceTransaction and debug_traceCall with the callTracer', async () => {
  const counter = await deploy('Counter');
  const caller = await deploy('Caller');
  const receipt = await send(caller.poke(await counter.getAddress()));
  const trace = await provider.send('debug_traceTransaction', [receipt.hash, { tracer: 'callTracer' }]);
  const lower = (a) => a.toLowerCase();
  assert.equal(trace.type, 'CALL');
  assert.equal(lower(trace.from), lower(addresses[0]));
  assert.equal(lower(trace.to), lower(await caller.getAddress()));
  assert.equal(trace.input, caller.interface.encodeFunctionData('poke', [await counter.getAddress()]));
  assert.equal(BigInt(trace.gasUsed), receipt.gasUsed);
  assert.equal(trace.calls.length, 2, JSON.stringify(trace));
  const [inc, read] = trace.calls;
  assert.equal(inc.type, 'CALL');
  assert.equal(lower(inc.to), lower(await counter.getAddress()));
  assert.equal(inc.input, counter.interface.encodeFunctionData('increment'));
  assert.equal(read.type, 'STATICCALL');
  assert.equal(BigInt(read.output), 1n);
  assert.equal(BigInt(trace.output), 1n);

  // The same call, not sent: traced on the latest state (count is now 1).
  const call = { from: addresses[0], to: await caller.getAddress(), data: trace.input };
  const traced = await provider.send('debug_traceCall', [call, 'latest', { tracer: 'callTracer' }]);
  assert.equal(traced.type, 'CALL');
  assert.equal(traced.calls.length, 2, JSON.stringify(traced));
  assert.equal(lower(traced.calls[0].to), lower(await counter.getAddress()));
  assert.equal(BigInt(traced.output), 2n);
});
