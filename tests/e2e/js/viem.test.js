// viem against the devnet: deploy, read, write, events, WebSocket
// subscriptions, and the errors viem classifies.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tools, artifact, within, until, rpcURL, wsURL, chainId, keys, addresses, lastAddress } = require('./lib');
const viem = tools('viem');
const { privateKeyToAccount, generatePrivateKey } = tools('viem/accounts');

const chain = viem.defineChain({
  id: chainId,
  name: 'devnet',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [rpcURL], webSocket: [wsURL] } },
});
const account = privateKeyToAccount(keys[0]);
const publicClient = viem.createPublicClient({ chain, transport: viem.http(rpcURL) });
const walletClient = viem.createWalletClient({ account, chain, transport: viem.http(rpcURL) });
const { abi, bytecode } = artifact('Counter');
let counter;

test('chain id, balances, blocks', async () => {
  assert.equal(await publicClient.getChainId(), chainId);
  assert.equal(await publicClient.getBalance({ address: lastAddress }), viem.parseEther('10000'));
  const block = await publicClient.getBlock();
  assert.equal(typeof block.baseFeePerGas, 'bigint');
  const fees = await publicClient.estimateFeesPerGas();
  assert.ok(fees.maxFeePerGas > 0n);
});

test('deploy, read, write, events', async () => {
  const hash = await walletClient.deployContract({ abi, bytecode });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
  counter = receipt.contractAddress;
  assert.equal(await publicClient.readContract({ address: counter, abi, functionName: 'count' }), 0n);

  for (let i = 0; i < 2; i++) {
    const { request } = await publicClient.simulateContract({ account, address: counter, abi, functionName: 'increment' });
    const h = await walletClient.writeContract(request);
    const r = await publicClient.waitForTransactionReceipt({ hash: h });
    assert.equal(r.status, 'success');
    const [log] = viem.parseEventLogs({ abi, logs: r.logs, eventName: 'Incremented' });
    assert.equal(log.args.newCount, BigInt(i + 1));
  }
  assert.equal(await publicClient.readContract({ address: counter, abi, functionName: 'count' }), 2n);

  const events = await publicClient.getContractEvents({ address: counter, abi, eventName: 'Incremented', fromBlock: 0n });
  assert.deepEqual(events.map((e) => e.args.newCount), [1n, 2n]);
  assert.deepEqual(events.map((e) => e.args.by), [addresses[0], addresses[0]]);
  const logs = await publicClient.getLogs({
    address: counter,
    event: viem.getAbiItem({ abi, name: 'Incremented' }),
    args: { by: addresses[0] },
    fromBlock: 0n,
  });
  assert.equal(logs.length, 2);
});

test('WebSocket: newHeads and logs subscriptions', async () => {
  const wsClient = viem.createPublicClient({ chain, transport: viem.webSocket(wsURL) });
  const socketClient = await wsClient.transport.getRpcClient();
  let sawBlock, sawLog, failed;
  const gotBlock = new Promise((resolve) => { sawBlock = resolve; });
  const gotLog = new Promise((resolve) => { sawLog = resolve; });
  const subscriptionError = new Promise((_, reject) => { failed = reject; });
  // poll: false makes viem use eth_subscribe (newHeads, logs).
  const unwatchBlocks = wsClient.watchBlockNumber({ poll: false, onBlockNumber: (n) => sawBlock(n), onError: failed });
  const unwatchEvents = wsClient.watchContractEvent({
    address: counter, abi, eventName: 'Incremented', poll: false, onLogs: (logs) => sawLog(logs[0]), onError: failed,
  });
  try {
    // Both eth_subscribe calls must be answered before the transaction; the
    // socket client keeps answered subscriptions by id.
    await within(Promise.race([subscriptionError, until(() => socketClient.subscriptions.size >= 2)]),
      10000, 'answers to eth_subscribe (newHeads, logs)');

    const hash = await walletClient.writeContract({ address: counter, abi, functionName: 'increment' });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    const log = await within(Promise.race([subscriptionError, gotLog]), 15000, 'Incremented log over WebSocket');
    assert.equal(log.args.newCount, 3n);
    assert.equal(log.transactionHash, hash);
    const n = await within(Promise.race([subscriptionError, gotBlock]), 15000, 'newHeads over WebSocket');
    assert.ok(n <= receipt.blockNumber);
  } finally {
    unwatchBlocks();
    unwatchEvents();
    socketClient.close();
  }
});

test('errors: nonce too low and insufficient funds', async () => {
  // A nonce that was used already.
  const lowNonce = await walletClient
    .sendTransaction({ to: addresses[1], value: 1n, nonce: 0, gas: 21000n })
    .then(() => null, (err) => err);
  assert.ok(lowNonce, 'sending with nonce 0 again must fail');
  assert.ok(lowNonce.walk((e) => e instanceof viem.NonceTooLowError), `not NonceTooLowError: ${lowNonce.message}`);

  // An account with nothing, paying for gas and value.
  const poor = viem.createWalletClient({ account: privateKeyToAccount(generatePrivateKey()), chain, transport: viem.http(rpcURL) });
  const noFunds = await poor
    .sendTransaction({ to: addresses[1], value: viem.parseEther('1'), gas: 21000n })
    .then(() => null, (err) => err);
  assert.ok(noFunds, 'spending from an empty account must fail');
  assert.ok(noFunds.walk((e) => e instanceof viem.InsufficientFundsError), `not InsufficientFundsError: ${noFunds.message}`);
});
