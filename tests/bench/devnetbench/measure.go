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

	Samples        int             `json:"latency_samples"`
	latencies      []time.Duration // sorted, for pooling rounds
	LatencyMedian  float64         `json:"latency_median_ms"`
	LatencyP90     float64         `json:"latency_p90_ms"`
	LatencyMin     float64         `json:"latency_min_ms"`
	LatencyMax     float64         `json:"latency_max_ms"`
	PollsPerSample float64         `json:"receipt_polls_per_sample"`

	Clients     int     `json:"call_clients"`
	CallSeconds float64 `json:"call_seconds"`
	Calls       int64   `json:"calls"`
	CallsPerSec float64 `json:"calls_per_second"`
}

// measure runs both measurements against the node at url.
func measure(ctx context.Context, url string, s settings, progress func(string, ...any)) (result, error) {
	c := newClient(url, s.clients+1)
	key, err := crypto.HexToECDSA(devKey)
	if err != nil {
		return result{}, err
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	var id hexutil.Big
	if err := c.call(ctx, "eth_chainId", nil, &id); err != nil {
		return result{}, err
	}
	signer := types.LatestSignerForChainID(id.ToInt())
	var nonce hexutil.Uint64
	if err := c.call(ctx, "eth_getTransactionCount", []any{from, "pending"}, &nonce); err != nil {
		return result{}, err
	}
	sign := func(to *common.Address, gas uint64, data []byte) (hexutil.Bytes, common.Hash, error) {
		tx, err := types.SignNewTx(key, signer, &types.DynamicFeeTx{
			ChainID: id.ToInt(), Nonce: uint64(nonce), GasTipCap: tipCap, GasFeeCap: maxFee,
			Gas: gas, To: to, Data: data,
		})
		if err != nil {
			return nil, common.Hash{}, err
		}
		nonce++
		raw, err := tx.MarshalBinary()
		return raw, tx.Hash(), err
	}

	// Deploy the contract.
	raw, hash, err := sign(nil, deployGas, initCode(benchRuntime))
	if err != nil {
		return result{}, err
	}
	receipt, _, err := sendAndWait(ctx, c, raw, hash)
	if err != nil {
		return result{}, fmt.Errorf("deploying the benchmark contract: %w", err)
	}
	if receipt.Status != "0x1" || receipt.ContractAddress == nil {
		return result{}, fmt.Errorf("deploying the benchmark contract: receipt %+v", receipt)
	}
	contract := *receipt.ContractAddress

	// Latency: transactions signed beforehand; the clock runs from the send
	// to the first receipt.
	var r result
	total := s.warmup + s.samples
	txs := make([]struct {
		raw  hexutil.Bytes
		hash common.Hash
	}, total)
	for i := range txs {
		if txs[i].raw, txs[i].hash, err = sign(&contract, incrementGas, nil); err != nil {
			return result{}, err
		}
	}
	progress("  send-to-receipt: %d warm-up transactions, then %d samples", s.warmup, s.samples)
	var latencies []time.Duration
	polls := 0
	for i, tx := range txs {
		start := time.Now()
		receipt, n, err := sendAndWait(ctx, c, tx.raw, tx.hash)
		elapsed := time.Since(start)
		if err != nil {
			return result{}, fmt.Errorf("transaction %d: %w", i, err)
		}
		if receipt.Status != "0x1" {
			return result{}, fmt.Errorf("transaction %d failed: %+v", i, receipt)
		}
		if i >= s.warmup {
			latencies = append(latencies, elapsed)
			polls += n
		}
	}
	r.setLatencies(latencies, polls)

	// eth_call: check the answer once, then count for the duration.
	call := []any{map[string]any{"to": contract, "data": "0x01"}, "latest"}
	var out hexutil.Bytes
	if err := c.call(ctx, "eth_call", call, &out); err != nil {
		return result{}, err
	}
	if got := new(big.Int).SetBytes(out); got.Int64() != int64(total) {
		return result{}, fmt.Errorf("eth_call returned %v, want %d increments", got, total)
	}
	progress("  eth_call: %d clients for %v", s.clients, s.duration)
	calls, elapsed, err := callLoad(ctx, c, call, s.clients, time.Second) // warm-up
	if err != nil {
		return result{}, err
	}
	calls, elapsed, err = callLoad(ctx, c, call, s.clients, s.duration)
	if err != nil {
		return result{}, err
	}
	r.Clients = s.clients
	r.Calls = calls
	r.CallSeconds = elapsed.Seconds()
	r.CallsPerSec = float64(calls) / elapsed.Seconds()
	progress("  median %.3f ms, p90 %.3f ms; %.0f calls/s", r.LatencyMedian, r.LatencyP90, r.CallsPerSec)
	return r, nil
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

// setLatencies fills the latency statistics from samples.
func (r *result) setLatencies(samples []time.Duration, polls int) {
	slices.Sort(samples)
	r.latencies = samples
	r.Samples = len(samples)
	r.LatencyMedian = ms(percentile(samples, 50))
	r.LatencyP90 = ms(percentile(samples, 90))
	r.LatencyMin = ms(samples[0])
	r.LatencyMax = ms(samples[len(samples)-1])
	r.PollsPerSample = float64(polls) / float64(len(samples))
}

// pool merges the results of one node's rounds.
func pool(rounds []result) result {
	p := rounds[0]
	var samples []time.Duration
	polls := 0.0
	p.Calls, p.CallSeconds = 0, 0
	for _, r := range rounds {
		samples = append(samples, r.latencies...)
		polls += r.PollsPerSample * float64(r.Samples)
		p.Calls += r.Calls
		p.CallSeconds += r.CallSeconds
	}
	p.setLatencies(samples, int(polls+0.5))
	p.CallsPerSec = float64(p.Calls) / p.CallSeconds
	return p
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
