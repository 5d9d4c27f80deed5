package main

import (
	"fmt"
	"io"
)

// Targets of issue 5: eth_call throughput at least anvil's; send-to-receipt
// latency at most 1.5 times anvil's.
const (
	targetCallRatio    = 1.0
	targetLatencyRatio = 1.5
)

// writeMarkdown prints the side-by-side section, ratios infergeth/anvil.
func writeMarkdown(w io.Writer, command string, s settings, anvil, ours result) error {
	latency := ours.LatencyMedian / anvil.LatencyMedian
	latencyP90 := ours.LatencyP90 / anvil.LatencyP90
	calls := ours.CallsPerSec / anvil.CallsPerSec
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	_, err := fmt.Fprintf(w, `## Devnet vs anvil: send-to-receipt latency and eth_call throughput

`+"`infergeth devnet`"+` and anvil, each with its defaults (a block per transaction, in
memory), started one after the other in the same run, %d rounds alternating which
goes first, and measured by the same Go client (tests/bench/devnetbench) over
HTTP keep-alive on 127.0.0.1; each node's samples are pooled over the rounds.
Latency: %d transactions per round (after %d warm-up ones), each signed beforehand, timed
from eth_sendRawTransaction to the first eth_getTransactionReceipt that returns
it (polled with no pause); each calls a contract that increments a storage slot.
Throughput: eth_call of a storage read at "latest" from %d concurrent clients for
%v per round.

| metric | anvil | infergeth | infergeth/anvil | target | |
| --- | ---: | ---: | ---: | --- | --- |
| send-to-receipt median | %.3f ms | %.3f ms | %.2f× | ≤ %.1f× | %s |
| send-to-receipt p90 | %.3f ms | %.3f ms | %.2f× | | |
| receipt polls per transaction | %.2f | %.2f | | | |
| eth_call throughput | %.0f /s | %.0f /s | %.2f× | ≥ %.1f× | %s |

Nodes: anvil %s; infergeth %s.

Command: `+"`%s`"+`
`,
		s.rounds, s.samples, s.warmup, s.clients, s.duration,
		anvil.LatencyMedian, ours.LatencyMedian, latency, targetLatencyRatio, verdict(latency <= targetLatencyRatio),
		anvil.LatencyP90, ours.LatencyP90, latencyP90,
		anvil.PollsPerSample, ours.PollsPerSample,
		anvil.CallsPerSec, ours.CallsPerSec, calls, targetCallRatio, verdict(calls >= targetCallRatio),
		anvil.Version, ours.Version, command)
	return err
}
