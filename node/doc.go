// Package node wires a running devnet node: the database (pebble under
// --datadir, memory otherwise), the chain, the pool, the dev sequencer, and
// the JSON-RPC server (geth's rpc package) over HTTP and WebSocket on one
// port.
//
// Where to start: node.go (Config, New, Start, Close), then the API files,
// one per namespace or concern:
//   - api_eth.go: chain and state reads; blocks.go resolves block arguments.
//   - api_call.go: eth_call, eth_estimateGas (geth's binary search over
//     factory EVMs), eth_createAccessList; overrides.go, txargs.go.
//   - api_send.go: sending and signing, dev accounts and impersonation.
//   - fees.go: gas price, priority fee, fee history.
//   - filters.go, filterquery.go: eth_getLogs, polling filters, eth_subscribe.
//   - api_debug.go: tracing with geth's tracers on factory EVMs.
//   - api_dev.go: evm_, anvil_ and hardhat_ (time control, mining,
//     snapshots, state edits, impersonation).
//   - marshal.go: the JSON shapes of blocks, transactions and receipts.
//   - server.go, fastpath.go: HTTP/WebSocket serving, and the eth_call fast
//     path in front of geth's server.
package node
