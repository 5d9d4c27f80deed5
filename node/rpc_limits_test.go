package node

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLogQueryLimits: the configured eth_getLogs bounds refuse what exceeds
// them, with geth's messages, and allow what is within.
func TestLogQueryLimits(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.LogRangeLimit = 2; c.LogResultLimit = 1 })
	logger := tn.deploy(initCode(loggerCode))
	for range 2 {
		tn.mustSend(tn.signed(0, tn.nonce(tn.addr(0)), &logger, nil, 100_000, nil))
	}
	var logs []json.RawMessage
	tn.call(&logs, "eth_getLogs", map[string]any{"fromBlock": "latest", "toBlock": "latest"})
	if len(logs) != 1 {
		t.Fatalf("one block's logs: got %d, want 1", len(logs))
	}
	err := tn.callErr("eth_getLogs", map[string]any{"fromBlock": "0x0", "toBlock": "latest"})
	if !strings.Contains(err.Error(), "block range 3 exceeds 2") {
		t.Fatalf("range over the limit: %v", err)
	}
	err = tn.callErr("eth_getLogs", map[string]any{"fromBlock": "0x2", "toBlock": "0x3"})
	if !strings.Contains(err.Error(), "query returned more than 1 results") {
		t.Fatalf("results over the limit: %v", err)
	}
}
