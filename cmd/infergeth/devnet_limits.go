package main

import (
	"flag"

	"github.com/infergeth/infergeth/node"
)

// rpcLimits are the devnet's RPC bounds as flags, named and defaulted as
// geth's where geth has the flag (docs/reliability.md lists them all).
type rpcLimits struct {
	bodyLimit     int
	batchItems    int
	batchResponse int
	gasCap        uint64
	logsRange     uint64
	logsResults   int
	subBacklog    int
}

func (l *rpcLimits) register(fs *flag.FlagSet) {
	fs.IntVar(&l.bodyLimit, "rpc.body-limit", node.DefaultBodyLimit, "largest JSON-RPC request body in bytes, HTTP and WebSocket message (geth's fixed 5 MiB)")
	fs.IntVar(&l.batchItems, "rpc.batch-request-limit", node.DefaultBatchItemLimit, "most requests in one JSON-RPC batch (as geth)")
	fs.IntVar(&l.batchResponse, "rpc.batch-response-max-size", node.DefaultBatchResponseSize, "most bytes of answers to one batch (as geth)")
	fs.Uint64Var(&l.gasCap, "rpc.gascap", node.DefaultRPCGasCap, "gas cap of eth_call and eth_estimateGas (as geth)")
	fs.Uint64Var(&l.logsRange, "rpc.logs-range-limit", node.DefaultLogRangeLimit, "most blocks one eth_getLogs may span")
	fs.IntVar(&l.logsResults, "rpc.logs-result-limit", node.DefaultLogResultLimit, "most logs one eth_getLogs may answer")
	fs.IntVar(&l.subBacklog, "ws.subscription-backlog", node.DefaultSubscriptionBacklog, "events a WebSocket subscriber may fall behind before it is dropped")
}

// apply sets the limits on cfg; zero or negative values keep the defaults.
func (l *rpcLimits) apply(cfg *node.Config) {
	cfg.BodyLimit = max(l.bodyLimit, 0)
	cfg.BatchItemLimit = max(l.batchItems, 0)
	cfg.BatchResponseSize = max(l.batchResponse, 0)
	cfg.RPCGasCap = l.gasCap
	cfg.LogRangeLimit = l.logsRange
	cfg.LogResultLimit = max(l.logsResults, 0)
	cfg.SubscriptionBacklog = max(l.subBacklog, 0)
}
