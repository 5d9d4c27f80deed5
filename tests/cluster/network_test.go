//go:build cluster

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/infergeth/infergeth/params"
)

// TestValidatorNetwork runs one four-validator network through the
// scenarios in order: a mixed stream of transactions sent to different
// nodes, cast through validator 3, kill -9 and restart, SIGSTOP/SIGCONT,
// two of four stopped, and a full node joining late. After each, every
// node must report the same hash and state root at every block.
func TestValidatorNetwork(t *testing.T) {
	c := newCluster(t, 4)
	c.startAll()
	deployer := c.account(0)
	forwarder := c.deployForwarder(c.nodes[0], deployer)
	// Each scenario starts from where the last left the network.
	step := func(name string, f func(t *testing.T)) {
		if !t.Failed() {
			t.Run(name, f)
		}
	}

	step("stream of transfers, contract and inference calls to different nodes", func(t *testing.T) {
		c.t = t
		for _, n := range c.nodes {
			n.t = t
		}
		// Subscriptions work on every node: node2 streams new heads over
		// WebSocket while the transactions go in.
		ws, err := ethclient.Dial(strings.Replace(c.nodes[2].url, "http://", "ws://", 1))
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		heads := make(chan *types.Header, 256)
		sub, err := ws.SubscribeNewHead(context.Background(), heads)
		if err != nil {
			t.Fatalf("eth_subscribe newHeads on node2: %v", err)
		}
		defer sub.Unsubscribe()
		var sent []*types.Transaction
		payer := c.account(1)
		sink := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
		// Out of nonce order: nonce k+1 reaches node1 before nonce k reaches node2.
		for k := 0; k < 8; k += 2 {
			first := payer.tx(t, uint64(k+1), &sink, 1, nil, 21000, 1)
			second := payer.tx(t, uint64(k), &sink, 1, nil, 21000, 1)
			c.nodes[1].send(first)
			c.nodes[2].send(second)
			sent = append(sent, first, second)
		}
		caller := c.account(2)
		var inferences []*types.Transaction
		for i, model := range []string{"mlp", "cnn", "mlp", "cnn"} {
			tx := caller.next(t, &forwarder, 0, inferCalldata(t, model, byte(i)), 3_000_000)
			c.nodes[3-i%2].send(tx)
			inferences = append(inferences, tx)
		}
		// A replacement: nonce 1 waits for nonce 0, is replaced at a
		// higher tip on the same node, then nonce 0 arrives elsewhere.
		replacer := c.account(3)
		original := replacer.tx(t, 1, &sink, 5, nil, 21000, 1)
		replacement := replacer.tx(t, 1, &sink, 6, nil, 21000, 30)
		gapFill := replacer.tx(t, 0, &sink, 1, nil, 21000, 1)
		c.nodes[0].send(original)
		c.nodes[0].send(replacement)
		c.nodes[2].send(gapFill)
		sent = append(sent, replacement, gapFill)

		for _, tx := range append(sent, inferences...) {
			if r := c.nodes[0].waitReceipt(tx.Hash()); r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("tx %x failed", tx.Hash())
			}
		}
		for _, tx := range inferences {
			r := c.nodes[3].waitReceipt(tx.Hash())
			if len(r.Logs) != 1 || len(r.Logs[0].Data) == 0 {
				t.Fatalf("inference tx %x: want one log with the model's answer, got %d logs", tx.Hash(), len(r.Logs))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, _, err := c.nodes[0].client.TransactionByHash(ctx, original.Hash()); err == nil {
			t.Fatalf("the replaced transaction %x is still known", original.Hash())
		}
		c.syncAndAgree(c.nodes...)
		// The subscription saw the block of the last inference call.
		last := c.nodes[2].waitReceipt(inferences[len(inferences)-1].Hash())
		for seen := false; !seen; {
			select {
			case h := <-heads:
				seen = h.Hash() == last.BlockHash
			case err := <-sub.Err():
				t.Fatalf("newHeads subscription: %v", err)
			case <-time.After(waitTimeout):
				t.Fatalf("node2's newHeads never delivered block %d", last.BlockNumber)
			}
		}
		// Traces work on a node that did not propose the block.
		var trace struct {
			Calls []struct {
				To     common.Address `json:"to"`
				Output string         `json:"output"`
			} `json:"calls"`
		}
		if err := c.nodes[3].client.Client().CallContext(ctx, &trace, "debug_traceTransaction", inferences[0].Hash(), map[string]any{"tracer": "callTracer"}); err != nil {
			t.Fatalf("debug_traceTransaction on node3: %v", err)
		}
		if len(trace.Calls) != 1 || trace.Calls[0].To != params.InferencePrecompileAddress || len(trace.Calls[0].Output) <= 2 {
			t.Fatalf("node3's call trace does not show the precompile call with its answer: %+v", trace)
		}
	})

	step("cast deploys and calls an inference contract through validator 3", func(t *testing.T) {
		c.t = t
		cast := filepath.Join(repoRoot(t), "tests", "tools", "node_modules", ".bin", "cast")
		key := fmt.Sprintf("0x%x", c.keys[4].D.Bytes())
		url := c.nodes[3].url
		out := runCast(t, cast, "send", "--json", "--private-key", key, "--rpc-url", url, "--create", hexutil.Encode(forwarderCode()))
		var deployed struct {
			ContractAddress string `json:"contractAddress"`
			Status          string `json:"status"`
		}
		if err := json.Unmarshal(out, &deployed); err != nil || deployed.Status != "0x1" {
			t.Fatalf("cast send --create: status %q, err %v\n%s", deployed.Status, err, out)
		}
		out = runCast(t, cast, "send", "--json", "--private-key", key, "--rpc-url", url, "--gas-limit", "3000000", deployed.ContractAddress, hexutil.Encode(inferCalldata(t, "mlp", 9)))
		var called struct {
			TransactionHash string `json:"transactionHash"`
			Status          string `json:"status"`
			BlockNumber     string `json:"blockNumber"`
			Logs            []struct {
				Data string `json:"data"`
			} `json:"logs"`
		}
		if err := json.Unmarshal(out, &called); err != nil || called.Status != "0x1" || len(called.Logs) != 1 {
			t.Fatalf("cast send: %v\n%s", err, out)
		}
		// Every other validator has the same receipt, answer included.
		for _, n := range c.nodes[:3] {
			r := n.waitReceipt(common.HexToHash(called.TransactionHash))
			if got := hexutil.Encode(r.Logs[0].Data); got != called.Logs[0].Data {
				t.Fatalf("%s logged %s, validator 3 %s", n.name, got, called.Logs[0].Data)
			}
		}
		c.syncAndAgree(c.nodes...)
	})

	step("kill -9 and restart replays and agrees", func(t *testing.T) {
		c.t = t
		victim := c.nodes[2]
		victim.kill()
		payer := c.account(5)
		txs := c.sendTransfers(payer, 5, c.nodes[0], c.nodes[1], c.nodes[3])
		c.nodes[0].waitReceipt(txs[len(txs)-1].Hash())
		victim.t = t
		victim.start()
		c.syncAndAgree(c.nodes...)
		victim.waitReceipt(txs[len(txs)-1].Hash())
	})

	step("SIGSTOP then SIGCONT catches up", func(t *testing.T) {
		c.t = t
		paused := c.nodes[1]
		paused.signal(syscall.SIGSTOP)
		payer := c.account(6)
		txs := c.sendTransfers(payer, 5, c.nodes[0], c.nodes[3])
		c.nodes[0].waitReceipt(txs[len(txs)-1].Hash())
		paused.signal(syscall.SIGCONT)
		c.syncAndAgree(c.nodes...)
	})

	step("two of four stopped stalls, resumes without a fork", func(t *testing.T) {
		c.t = t
		c.nodes[1].signal(syscall.SIGSTOP)
		c.nodes[2].signal(syscall.SIGSTOP)
		before := c.nodes[0].head()
		payer := c.account(7)
		tx := payer.next(t, &c.addrs[0], 1, nil, 21000)
		c.nodes[0].send(tx)
		// Two of four is less than two thirds of the voting power: nothing
		// may be committed, however long we look.
		time.Sleep(3 * time.Second)
		for _, n := range []*node{c.nodes[0], c.nodes[3]} {
			if h := n.head(); h != before {
				t.Fatalf("%s committed block %d with two of four validators stopped", n.name, h)
			}
		}
		c.nodes[1].signal(syscall.SIGCONT)
		if r := c.nodes[0].waitReceipt(tx.Hash()); r.Status != types.ReceiptStatusSuccessful {
			t.Fatal("transfer failed")
		}
		c.nodes[2].signal(syscall.SIGCONT)
		c.syncAndAgree(c.nodes...)
	})

	step("a full node joining late syncs from genesis and agrees", func(t *testing.T) {
		c.t = t
		var settings struct {
			P2PAddr string `json:"p2pAddr"`
		}
		raw, err := os.ReadFile(filepath.Join(c.nodes[0].home, "infergeth.json"))
		if err != nil || json.Unmarshal(raw, &settings) != nil {
			t.Fatalf("read node0 settings: %v", err)
		}
		full := &node{t: t, name: "full", home: filepath.Join(c.dir, "full"), bin: c.nodes[0].bin}
		full.args = []string{
			"--genesis", filepath.Join(c.nodes[0].home, "config", "genesis.json"),
			"--peers", c.nodes[0].nodeID() + "@" + settings.P2PAddr,
			"--p2p.addr", freeAddr(t), "--http.addr", freeAddr(t),
		}
		c.nodes = append(c.nodes, full)
		full.start()
		c.syncAndAgree(c.nodes...)
		// It follows new blocks too.
		payer := c.account(8)
		txs := c.sendTransfers(payer, 2, c.nodes[1])
		full.waitReceipt(txs[len(txs)-1].Hash())
		c.syncAndAgree(c.nodes...)
	})
}

// syncAndAgree waits until every node has the highest head seen, then
// compares every block.
func (c *cluster) syncAndAgree(nodes ...*node) {
	c.t.Helper()
	var top uint64
	for _, n := range nodes {
		n.t = c.t
		top = max(top, n.head())
	}
	for _, n := range nodes {
		n.waitHead(top)
	}
	if got := c.assertAgree(nodes...); got < top {
		c.t.Fatalf("agreed up to %d, want %d", got, top)
	}
}

// sendTransfers sends count transfers from payer, round robin over nodes.
func (c *cluster) sendTransfers(payer *account, count int, nodes ...*node) []*types.Transaction {
	c.t.Helper()
	var txs []*types.Transaction
	for i := 0; i < count; i++ {
		tx := payer.next(c.t, &c.addrs[0], 1, nil, 21000)
		nodes[i%len(nodes)].t = c.t
		nodes[i%len(nodes)].send(tx)
		txs = append(txs, tx)
	}
	return txs
}

func runCast(t *testing.T, cast string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cast, args...)
	cmd.Env = append(os.Environ(), "FOUNDRY_DISABLE_NIGHTLY_WARNING=1", "NO_COLOR=1")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("cast %s: %v\n%s%s", strings.Join(args[:1], " "), err, out, stderr)
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
