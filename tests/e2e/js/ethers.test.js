// ethers v6 against the devnet: deploy, call, send, read events, subscribe
// over WebSocket, and the errors wallets parse.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tools, artifact, within, rpcURL, wsURL, chainId, keys, addresses, lastAddress } = require('./lib');
const { ethers } = tools('ethers');

// cacheTimeout: -1 turns off ethers' 250 ms response cache. Against a chain
// that mines a block per transaction, a cached eth_getTransactionCount makes
// the second of two quick transactions fail with NONCE_EXPIRED.
const provider = new ethers.JsonRpcProvider(rpcURL, chainId, { cacheTimeout: -1, staticNetwork: true });
const wallet = new ethers.Wallet(keys[0], provider);
const counterArtifact = artifact('Counter');
let counter;

after(() => provider.destroy());

async function deployCounter() {
  const factory = new ethers.ContractFactory(counterArtifact.abi, counterArtifact.bytecode, wallet);
  const c = await factory.deploy();
  await c.waitForDeployment();
  return c;
}

test('chain id and funded dev accounts', async () => {
  const network = await provider.getNetwork();
  assert.equal(network.chainId, BigInt(chainId));
  assert.equal(await provider.getBalance(lastAddress), ethers.parseEther('10000'));
  const block = await provider.getBlock('latest');
  assert.ok(block.baseFeePerGas !== null, 'latest block has baseFeePerGas');
});

test('deploy, call, two quick sends, events', async () => {
  counter = await deployCounter();
  const address = await counter.getAddress();
  assert.notEqual(await provider.getCode(address), '0x');
  assert.equal(await counter.count(), 0n);

  // Two transactions back to back, the second before the first is awaited.
  const tx1 = await counter.increment();
  const tx2 = await counter.increment();
  assert.equal(tx2.nonce, tx1.nonce + 1);
  const [r1, r2] = await Promise.all([tx1.wait(), tx2.wait()]);
  assert.equal(r1.status, 1);
  assert.equal(r2.status, 1);
  assert.equal(await counter.count(), 2n);

  const parsed = counter.interface.parseLog(r2.logs[0]);
  assert.equal(parsed.name, 'Incremented');
  assert.equal(parsed.args.newCount, 2n);

  const events = await counter.queryFilter(counter.filters.Incremented(addresses[0]), 0, 'latest');
  assert.deepEqual(events.map((e) => e.args.newCount), [1n, 2n]);
  assert.deepEqual(events.map((e) => e.args.by), [addresses[0], addresses[0]]);
});

test('WebSocket: newHeads and logs subscriptions', async () => {
  const ws = new ethers.WebSocketProvider(wsURL, chainId, { staticNetwork: true });
  try {
    const subscribed = countSubscriptions(ws);
    const wsCounter = counter.connect(ws);
    let sawBlock, sawEvent;
    const gotBlock = new Promise((resolve) => { sawBlock = resolve; });
    const gotEvent = new Promise((resolve) => { sawEvent = resolve; });
    await ws.on('block', (n) => sawBlock(n));
    await wsCounter.on('Incremented', (by, newCount) => sawEvent({ by, newCount }));
    // Both eth_subscribe calls must be answered before the transaction.
    await within(subscribed(2), 10000, 'answers to eth_subscribe (newHeads, logs)');

    const receipt = await (await counter.increment()).wait();
    const event = await within(gotEvent, 15000, 'Incremented log over WebSocket');
    assert.equal(event.by, addresses[0]);
    assert.equal(event.newCount, 3n);
    const n = await within(gotBlock, 15000, 'newHeads over WebSocket');
    assert.ok(n <= receipt.blockNumber, `block ${n} announced, receipt in ${receipt.blockNumber}`);
  } finally {
    await ws.destroy();
  }
});

// countSubscriptions watches ethers' debug events and returns a function
// that resolves once count eth_subscribe calls have been answered.
function countSubscriptions(provider) {
  const ids = new Set();
  let answered = 0;
  const waiters = [];
  const list = (x) => (Array.isArray(x) ? x : [x]);
  provider.on('debug', (e) => {
    if (e.action === 'sendRpcPayload') {
      list(e.payload).filter((p) => p.method === 'eth_subscribe').forEach((p) => ids.add(p.id));
    }
    if (e.action === 'receiveRpcResult') {
      answered += list(e.result).filter((r) => ids.has(r.id) && 'result' in r).length;
      waiters.filter((w) => answered >= w.count).forEach((w) => w.resolve());
    }
  });
  return (count) => new Promise((resolve) => {
    if (answered >= count) resolve();
    else waiters.push({ count, resolve });
  });
}

test('errors: nonce too low and insufficient funds', async () => {
  // A nonce that was used already.
  await assert.rejects(
    wallet.sendTransaction({ to: addresses[1], value: 1n, nonce: 0, gasLimit: 21000 }),
    (err) => {
      assert.equal(err.code, 'NONCE_EXPIRED', `${err.code}: ${err.message}`);
      return true;
    },
  );
  // An account with nothing, paying for gas and value.
  const poor = ethers.Wallet.createRandom().connect(provider);
  await assert.rejects(
    poor.sendTransaction({ to: addresses[1], value: ethers.parseEther('1'), gasLimit: 21000 }),
    (err) => {
      assert.equal(err.code, 'INSUFFICIENT_FUNDS', `${err.code}: ${err.message}`);
      return true;
    },
  );
});
