package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// devKey is dev account 0 of the mnemonic "test test ... junk", funded by
// both nodes.
const devKey = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

// benchRuntime is the measured contract, hand-assembled so that no compiler
// is needed: called with no data it increments storage slot 0 (the
// transaction of the latency test); called with any data it returns slot 0
// (the eth_call of the throughput test).
var benchRuntime = []byte{
	0x36, 0x60, 0x0e, 0x57, // CALLDATASIZE PUSH1 14 JUMPI
	0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00, // slot0 += 1; STOP
	0x5b, 0x60, 0x00, 0x54, 0x60, 0x00, 0x52, // 14: JUMPDEST; mem[0] = slot0
	0x60, 0x20, 0x60, 0x00, 0xf3, // RETURN mem[0:32]
}

// initCode returns code that deploys runtime.
func initCode(runtime []byte) []byte {
	n := byte(len(runtime))
	prefix := []byte{0x60, n, 0x60, 12, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3} // CODECOPY; RETURN
	return append(prefix, runtime...)
}

// Gas and fees of the benchmark's transactions: fixed, so that no
// eth_estimateGas or fee query runs inside the measured interval.
const (
	incrementGas = 60_000
	deployGas    = 200_000
)

var (
	maxFee = big.NewInt(20_000_000_000) // 20 gwei, above either devnet's base fee
	tipCap = big.NewInt(1_000_000_000)
)

// result is what one node measured.
type result struct {
	Node    string `json:"node,omitempty"`
	Version string `json:"version,omitempty"`

	Samples        int     `json:"latency_samples"`
	LatencyMedian  float64 `json:"latency_median_ms"`
	LatencyP90     float64 `json:"latency_p90_ms"`
	LatencyMin     float64 `json:"latency_min_ms"`
	LatencyMax     float64 `json:"latency_max_ms"`
	PollsPerSample float64 `json:"receipt_polls_per_sample"`

	// Node CPU time (user+system) per operation, when the node's process is
	// known (0 otherwise): less sensitive to other load on the machine than
	// wall-clock rates.
	TxCPU   float64 `json:"node_cpu_per_tx_us,omitempty"`
	CallCPU float64 `json:"node_cpu_per_call_us,omitempty"`

	Clients     int     `json:"call_clients"`
	CallSeconds float64 `json:"call_seconds"`
	Calls       int64   `json:"calls"`
	CallsPerSec float64 `json:"calls_per_second"`
}

// cpuClock reads a node's CPU time; ok is false when it cannot.
type cpuClock func() (d time.Duration, ok bool)

// noCPU is the cpuClock of a node whose process is not ours.
func noCPU() (time.Duration, bool) { return 0, false }

// target is one node under measurement and what was measured of it so far.
type target struct {
	name, version, url string
	cpu                cpuClock
	log                func(max int) string // the node's output, if started here

	c        *client
	contract common.Address
	txs      []signedTx // signed beforehand, sent in order
	sent     int

	latencies []time.Duration
	polls     int
	calls     int64
	callTime  time.Duration
	txCPU     time.Duration
	callCPU   time.Duration
	cpuOK     bool
}

type signedTx struct {
	raw  hexutil.Bytes
	hash common.Hash
}

// wrap adds the node's name and the tail of its log to err.
func (t *target) wrap(err error) error {
	if t.log == nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	return fmt.Errorf("%s: %w\nnode log (tail):\n%s", t.name, err, t.log(4<<10))
}

// measure runs both measurements on every target, alternating between them
// in turns (latency: chunk transactions; eth_call: one burst) and rotating
// which goes first, so that other load on the machine falls on all alike.
func measure(ctx context.Context, targets []*target, s settings, progress func(string, ...any)) ([]result, error) {
	for _, t := range targets {
		t.cpuOK = true
		if err := t.prepare(ctx, s.warmup+s.samples, s.clients); err != nil {
			return nil, t.wrap(err)
		}
	}
	progress("warm-up: %d transactions and %v of eth_call per node", s.warmup, s.burst)
	for _, t := range targets {
		if err := t.sendTxs(ctx, s.warmup, false); err != nil {
			return nil, t.wrap(err)
		}
		if _, _, err := callLoad(ctx, t.c, t.callParams(), s.clients, s.burst); err != nil {
			return nil, t.wrap(err)
		}
	}
	progress("send-to-receipt: %d samples per node, %d at a time", s.samples, s.chunk)
	for turn := 0; targets[0].sent < s.warmup+s.samples; turn++ {
		n := min(s.chunk, s.warmup+s.samples-targets[0].sent)
		for _, t := range rotate(targets, turn) {
			if err := t.sendTxs(ctx, n, true); err != nil {
				return nil, t.wrap(err)
			}
		}
	}
	for _, t := range targets {
		if err := t.checkCall(ctx, s.warmup+s.samples); err != nil {
			return nil, t.wrap(err)
		}
	}
	bursts := int((s.duration + s.burst - 1) / s.burst)
	progress("eth_call: %d clients, %d bursts of %v per node", s.clients, bursts, s.burst)
	for b := range bursts {
		for _, t := range rotate(targets, b) {
			if err := t.callBurst(ctx, s); err != nil {
				return nil, t.wrap(err)
			}
		}
	}
	results := make([]result, len(targets))
	for i, t := range targets {
		results[i] = t.result(s)
		r := results[i]
		progress("%s: median %.3f ms, p90 %.3f ms; %.0f calls/s; node CPU %.0f µs/tx, %.0f µs/call",
			t.name, r.LatencyMedian, r.LatencyP90, r.CallsPerSec, r.TxCPU, r.CallCPU)
	}
	return results, nil
}

// rotate returns targets starting at index turn (mod len).
func rotate(targets []*target, turn int) []*target {
	k := turn % len(targets)
	return append(append([]*target(nil), targets[k:]...), targets[:k]...)
}

// prepare deploys the benchmark contract and signs txs transactions to it.
func (t *target) prepare(ctx context.Context, txs, clients int) error {
	t.c = newClient(t.url, clients+1)
	key, err := crypto.HexToECDSA(devKey)
	if err != nil {
		return err
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	var id hexutil.Big
	if err := t.c.call(ctx, "eth_chainId", nil, &id); err != nil {
		return err
	}
	signer := types.LatestSignerForChainID(id.ToInt())
	var nonce hexutil.Uint64
	if err := t.c.call(ctx, "eth_getTransactionCount", []any{from, "pending"}, &nonce); err != nil {
		return err
	}
	sign := func(to *common.Address, gas uint64, data []byte) (signedTx, error) {
		tx, err := types.SignNewTx(key, signer, &types.DynamicFeeTx{
			ChainID: id.ToInt(), Nonce: uint64(nonce), GasTipCap: tipCap, GasFeeCap: maxFee,
			Gas: gas, To: to, Data: data,
		})
		if err != nil {
			return signedTx{}, err
		}
		nonce++
		raw, err := tx.MarshalBinary()
		return signedTx{raw, tx.Hash()}, err
	}
	deploy, err := sign(nil, deployGas, initCode(benchRuntime))
	if err != nil {
		return err
	}
	receipt, _, err := sendAndWait(ctx, t.c, deploy.raw, deploy.hash)
	if err != nil {
		return fmt.Errorf("deploying the benchmark contract: %w", err)
	}
	if receipt.Status != "0x1" || receipt.ContractAddress == nil {
		return fmt.Errorf("deploying the benchmark contract: receipt %+v", receipt)
	}
	t.contract = *receipt.ContractAddress
	t.txs = make([]signedTx, txs)
	for i := range t.txs {
		if t.txs[i], err = sign(&t.contract, incrementGas, nil); err != nil {
			return err
		}
	}
	return nil
}

// sendTxs sends the next n transactions one by one, each timed from the
// send to its receipt; record keeps the samples and the node's CPU time.
func (t *target) sendTxs(ctx context.Context, n int, record bool) error {
	cpu0, ok0 := t.cpu()
	for range n {
		tx := t.txs[t.sent]
		start := time.Now()
		receipt, polls, err := sendAndWait(ctx, t.c, tx.raw, tx.hash)
		elapsed := time.Since(start)
		if err != nil {
			return fmt.Errorf("transaction %d: %w", t.sent, err)
		}
		if receipt.Status != "0x1" {
			return fmt.Errorf("transaction %d failed: %+v", t.sent, receipt)
		}
		t.sent++
		if record {
			t.latencies = append(t.latencies, elapsed)
			t.polls += polls
		}
	}
	if record {
		cpu1, ok1 := t.cpu()
		t.txCPU += cpu1 - cpu0
		t.cpuOK = t.cpuOK && ok0 && ok1
	}
	return nil
}

// callParams is the measured eth_call: a storage read at "latest".
func (t *target) callParams() []any {
	return []any{map[string]any{"to": t.contract, "data": "0x01"}, "latest"}
}

// checkCall makes sure eth_call answers the slot the transactions wrote.
func (t *target) checkCall(ctx context.Context, want int) error {
	var out hexutil.Bytes
	if err := t.c.call(ctx, "eth_call", t.callParams(), &out); err != nil {
		return err
	}
	if got := new(big.Int).SetBytes(out); got.Cmp(big.NewInt(int64(want))) != 0 {
		return fmt.Errorf("eth_call returned %v, want %d increments", got, want)
	}
	return nil
}

// callBurst runs eth_call from s.clients clients for s.burst.
func (t *target) callBurst(ctx context.Context, s settings) error {
	cpu0, ok0 := t.cpu()
	calls, elapsed, err := callLoad(ctx, t.c, t.callParams(), s.clients, s.burst)
	if err != nil {
		return err
	}
	cpu1, ok1 := t.cpu()
	t.calls += calls
	t.callTime += elapsed
	t.callCPU += cpu1 - cpu0
	t.cpuOK = t.cpuOK && ok0 && ok1
	return nil
}

// result summarises what was measured.
func (t *target) result(s settings) result {
	r := result{Node: t.name, Version: t.version, Clients: s.clients}
	samples := append([]time.Duration(nil), t.latencies...)
	slices.Sort(samples)
	r.Samples = len(samples)
	r.LatencyMedian = ms(percentile(samples, 50))
	r.LatencyP90 = ms(percentile(samples, 90))
	r.LatencyMin = ms(samples[0])
	r.LatencyMax = ms(samples[len(samples)-1])
	r.PollsPerSample = float64(t.polls) / float64(len(samples))
	r.Calls = t.calls
	r.CallSeconds = t.callTime.Seconds()
	r.CallsPerSec = float64(t.calls) / t.callTime.Seconds()
	if t.cpuOK {
		r.TxCPU = float64(t.txCPU) / float64(time.Microsecond) / float64(len(samples))
		r.CallCPU = float64(t.callCPU) / float64(time.Microsecond) / float64(t.calls)
	}
	return r
}

type receipt struct {
	Status          string          `json:"status"`
	ContractAddress *common.Address `json:"contractAddress"`
}

// receiptTimeout bounds the wait for one receipt.
const receiptTimeout = 30 * time.Second

// sendAndWait sends a raw transaction and polls eth_getTransactionReceipt,
// with no pause, until it answers; it returns the receipt and the number of
// polls.
func sendAndWait(ctx context.Context, c *client, raw hexutil.Bytes, hash common.Hash) (receipt, int, error) {
	var sent common.Hash
	if err := c.call(ctx, "eth_sendRawTransaction", []any{raw}, &sent); err != nil {
		return receipt{}, 0, err
	}
	if sent != hash {
		return receipt{}, 0, fmt.Errorf("eth_sendRawTransaction returned %s, want %s", sent, hash)
	}
	deadline := time.Now().Add(receiptTimeout)
	for polls := 1; ; polls++ {
		var r json.RawMessage
		if err := c.call(ctx, "eth_getTransactionReceipt", []any{hash}, &r); err != nil {
			return receipt{}, polls, err
		}
		if len(r) > 0 && string(r) != "null" {
			var rec receipt
			if err := json.Unmarshal(r, &rec); err != nil {
				return receipt{}, polls, fmt.Errorf("receipt %q: %w", truncate(r, 200), err)
			}
			return rec, polls, nil
		}
		if time.Now().After(deadline) {
			return receipt{}, polls, fmt.Errorf("no receipt for %s within %v", hash, receiptTimeout)
		}
	}
}

// callLoad runs eth_call from clients goroutines for d and counts the
// answers; any error stops it.
func callLoad(ctx context.Context, c *client, params []any, clients int, d time.Duration) (int64, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		count    atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	start := time.Now()
	stopAt := start.Add(d)
	for range clients {
		wg.Go(func() {
			var out hexutil.Bytes
			for time.Now().Before(stopAt) && ctx.Err() == nil {
				if err := c.call(ctx, "eth_call", params, &out); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, elapsed, fmt.Errorf("eth_call under load: %w", firstErr)
	}
	return count.Load(), elapsed, nil
}

// percentile is the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted) + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
