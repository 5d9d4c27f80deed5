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

`+"`infergeth devnet`"+` and anvil 1.7.1, each with its defaults (a block per
transaction, in memory), run at the same time on 127.0.0.1 and measured by the
same Go client (tests/bench/devnetbench, HTTP keep-alive), which alternates
between them in short turns so that other load on the machine falls on both
alike. Latency: %d transactions per node (after %d warm-up ones), %d per turn,
each signed beforehand and timed from eth_sendRawTransaction to the first
eth_getTransactionReceipt that returns it (polled with no pause); each calls a
contract that increments a storage slot. Throughput: eth_call of a storage read
at "latest" from %d concurrent clients, %v per node in turns of %v. The client
shares the machine's cores with the nodes; node CPU per operation (user and
system time of the node's process over its turns, from /proc) says how much of
a ratio is the node's own work.

| metric | anvil | infergeth | infergeth/anvil | target | |
| --- | ---: | ---: | ---: | --- | --- |
| send-to-receipt median | %.3f ms | %.3f ms | %.2f× | ≤ %.1f× | %s |
| send-to-receipt p90 | %.3f ms | %.3f ms | %.2f× | | |
| receipt polls per transaction | %.2f | %.2f | | | |
| eth_call throughput | %.0f /s | %.0f /s | %.2f× | ≥ %.1f× | %s |
| node CPU per transaction (send and polls) | %.0f µs | %.0f µs | %.2f× | | |
| node CPU per eth_call | %.0f µs | %.0f µs | %.2f× | | |

Nodes: anvil %s; infergeth %s.

Command: `+"`%s`"+`
`,
		s.samples, s.warmup, s.chunk, s.clients, s.duration, s.burst,
		anvil.LatencyMedian, ours.LatencyMedian, latency, targetLatencyRatio, verdict(latency <= targetLatencyRatio),
		anvil.LatencyP90, ours.LatencyP90, latencyP90,
		anvil.PollsPerSample, ours.PollsPerSample,
		anvil.CallsPerSec, ours.CallsPerSec, calls, targetCallRatio, verdict(calls >= targetCallRatio),
		anvil.TxCPU, ours.TxCPU, ours.TxCPU/anvil.TxCPU,
		anvil.CallCPU, ours.CallCPU, ours.CallCPU/anvil.CallCPU,
		anvil.Version, ours.Version, command)
	return err
}
