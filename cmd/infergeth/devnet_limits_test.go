package main

import (
	"io"
	"testing"

	"github.com/infergeth/infergeth/node"
)

func TestRPCLimitFlags(t *testing.T) {
	f, err := parseDevnetFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var cfg node.Config
	f.rpcLimits.apply(&cfg)
	want := node.Config{BodyLimit: node.DefaultBodyLimit, BatchItemLimit: node.DefaultBatchItemLimit,
		BatchResponseSize: node.DefaultBatchResponseSize, RPCGasCap: node.DefaultRPCGasCap,
		LogRangeLimit: node.DefaultLogRangeLimit, LogResultLimit: node.DefaultLogResultLimit,
		SubscriptionBacklog: node.DefaultSubscriptionBacklog}
	if cfg.BodyLimit != want.BodyLimit || cfg.BatchItemLimit != want.BatchItemLimit || cfg.BatchResponseSize != want.BatchResponseSize ||
		cfg.RPCGasCap != want.RPCGasCap || cfg.LogRangeLimit != want.LogRangeLimit || cfg.LogResultLimit != want.LogResultLimit ||
		cfg.SubscriptionBacklog != want.SubscriptionBacklog {
		t.Fatalf("defaults: %+v, want %+v", cfg, want)
	}
	f, err = parseDevnetFlags([]string{"--rpc.body-limit", "1024", "--rpc.batch-request-limit", "3", "--rpc.batch-response-max-size", "5000",
		"--rpc.gascap", "1000000", "--rpc.logs-range-limit", "7", "--rpc.logs-result-limit", "9", "--ws.subscription-backlog", "11"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg = node.Config{}
	f.rpcLimits.apply(&cfg)
	if cfg.BodyLimit != 1024 || cfg.BatchItemLimit != 3 || cfg.BatchResponseSize != 5000 || cfg.RPCGasCap != 1_000_000 ||
		cfg.LogRangeLimit != 7 || cfg.LogResultLimit != 9 || cfg.SubscriptionBacklog != 11 {
		t.Fatalf("flags not applied: %+v", cfg)
	}
}
