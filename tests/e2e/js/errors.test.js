// The inference precompile's custom errors as ethers v6 and viem users meet
// them: the node's message names the error with its arguments (what a person
// reads), the revert data is intact, and the SDK's errors ABI
// (contracts/artifacts/InferenceErrors.json) decodes it in one line.
// Runs on infergeth only (js_test.go): anvil has no precompile.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { tools, rpcURL, chainId } = require('./lib');
const { ethers } = tools('ethers');
const viem = tools('viem');

// What the SDK ships for JS users.
const errors = require(path.join(__dirname, '..', '..', '..', 'contracts', 'artifacts', 'InferenceErrors.json'));

const INFERENCE = '0x0000000000000000000000000000000000000A00';
// The demo model `fraud` (genesis): input element 3 must be at most two days old.
const FRAUD = '0x07229321799522605f4c4bceb884fd0cb0218e8c6a8d5b0f74003979a9b851fb';
const inferenceAbi = [
  'function infer(bytes32 modelId, bytes input) view returns (bytes)',
  'function inferFresh(bytes32 modelId, bytes input, (uint32 inputIndex, uint64 observedAt, uint64 maxAge)[] stamps) view returns (bytes)',
];

const provider = new ethers.JsonRpcProvider(rpcURL, chainId, { cacheTimeout: -1, staticNetwork: true });
after(() => provider.destroy());
const client = viem.createPublicClient({ transport: viem.http(rpcURL) });

async function now() {
  return BigInt((await provider.getBlock('latest')).timestamp);
}

test('ethers: StaleInput named in the message, decoded by the errors ABI', async () => {
  const t = await now();
  const data = new ethers.Interface(inferenceAbi).encodeFunctionData('inferFresh', [FRAUD, '0x0c00000a', [[3, t - 7200n, 3600]]]);
  const err = await provider.call({ to: INFERENCE, data }).then(
    () => assert.fail('a stale stamp did not revert'),
    (e) => e,
  );
  assert.equal(err.code, 'CALL_EXCEPTION');
  // The node's JSON-RPC error, as ethers received it (a Contract call
  // rethrows without it; provider.call keeps it in info).
  assert.match(err.info.error.message, new RegExp(`^execution reverted: StaleInput\\(3, ${t - 7200n}, \\d+, 3600\\)$`));
  // The one line of the docs.
  const decoded = new ethers.Interface(errors).parseError(err.data);
  assert.equal(decoded.name, 'StaleInput');
  assert.deepEqual([...decoded.args].map(String).filter((_, i) => i !== 2), ['3', String(t - 7200n), '3600']);
});

test('ethers: a contract whose ABI includes the errors names them itself', async () => {
  const precompile = new ethers.Contract(INFERENCE, [...inferenceAbi, ...errors], provider);
  const err = await precompile.infer(FRAUD, '0x0c00000a').then(() => assert.fail('no revert'), (e) => e);
  assert.equal(err.revert.name, 'MissingFreshness');
  assert.deepEqual([...err.revert.args], [3n]);
});

test('viem: BadInput named in the message, decoded by the errors ABI', async () => {
  const data = viem.encodeFunctionData({
    abi: viem.parseAbi(inferenceAbi),
    functionName: 'infer',
    args: [FRAUD, '0x0c0000'],
  });
  const err = await client.call({ to: INFERENCE, data }).then(() => assert.fail('no revert'), (e) => e);
  // The node's message reaches viem's error details.
  const rpcErr = err.walk((e) => e.code === 3);
  assert.ok(rpcErr, `no JSON-RPC error with code 3 in ${err}`);
  assert.match(rpcErr.details, /^execution reverted: BadInput\(".+"\)$/);
  // The one line of the docs.
  const decoded = viem.decodeErrorResult({ abi: errors, data: rpcErr.data });
  assert.equal(decoded.errorName, 'BadInput');
  assert.match(decoded.args[0], /4/);
});

test('viem: readContract with the errors ABI throws ContractFunctionRevertedError', async () => {
  const t = await now();
  const abi = [...viem.parseAbi(inferenceAbi), ...errors];
  const err = await client
    .readContract({ address: INFERENCE, abi, functionName: 'inferFresh', args: [FRAUD, '0x0c00000a', [{ inputIndex: 3, observedAt: t + 3600n, maxAge: 60n }]] })
    .then(() => assert.fail('no revert'), (e) => e);
  const reverted = err.walk((e) => e instanceof viem.ContractFunctionRevertedError);
  assert.ok(reverted, `no ContractFunctionRevertedError in ${err}`);
  assert.equal(reverted.data.errorName, 'FutureInput');
  assert.equal(reverted.data.args[0], 3n);
  assert.equal(reverted.data.args[1], t + 3600n);
});
