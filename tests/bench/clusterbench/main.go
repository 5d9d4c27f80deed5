// Command clusterbench measures a four-validator loopback network
// (`infergeth cluster init` + one `infergeth node` process per validator)
// beside the dev engine (`infergeth devnet`) in the same run: block
// interval, transfers per second and inference calls per second at
// saturation, and send-to-receipt latency through one node. It prints a
// markdown section for docs/benchmarks.md (tests/bench/sections/50-cluster.sh).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/tests/vectors"
)

var (
	bin       = flag.String("infergeth", "build/bin/infergeth", "the infergeth binary")
	transfers = flag.Int("transfers", 1200, "transfers per throughput run")
	infers    = flag.Int("inferences", 160, "inference calls per model per throughput run")
	samples   = flag.Int("samples", 40, "send-to-receipt latency samples")
	senders   = 8
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	keys, err := devkeys.Derive(params.DevnetMnemonic, senders+1)
	if err != nil {
		log.Fatal(err)
	}
	dev := startDevnet()
	defer dev.stop()
	net := startCluster()
	defer net.stop()
	// Node 1 receives every transaction: with four validators in rotation
	// it proposes one block in four, so most go through a non-proposer.
	targets := []struct {
		name string
		url  string
	}{{"dev engine (devnet, automine)", dev.url}, {"4-validator CometBFT cluster (via node1)", net.urls[1]}}
	results := make([]map[string]float64, len(targets))
	procs := []*proc{dev, net}
	for i, tg := range targets {
		log.Printf("clusterbench: %s", tg.name)
		results[i] = measure(tg.url, keys, procs[i])
	}
	report(targets[0].name, targets[1].name, results[0], results[1])
}

type proc struct {
	cmds []*exec.Cmd
	url  string
	urls []string
	dir  string
}

func (p *proc) stop() {
	for _, c := range p.cmds {
		c.Process.Kill()
		c.Wait()
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// start runs the binary and returns the http= field of its ready line.
func start(p *proc, prefix string, args ...string) string {
	c := exec.Command(*bin, args...)
	out, err := c.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Start(); err != nil {
		log.Fatal(err)
	}
	p.cmds = append(p.cmds, c)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			go func() {
				for sc.Scan() {
				}
			}()
			for _, f := range strings.Fields(sc.Text()) {
				if v, ok := strings.CutPrefix(f, "http="); ok {
					return v
				}
			}
		}
	}
	log.Fatalf("%v exited before it was ready", args)
	return ""
}

// cpu is the user and system time the processes used so far (/proc).
func (p *proc) cpu() time.Duration {
	var ticks int64
	for _, c := range p.cmds {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Process.Pid))
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces): utime is
		// the 14th field of the line, stime the 15th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func startDevnet() *proc {
	p := &proc{}
	p.url = start(p, "infergeth devnet ready:", "devnet", "--http.port", "0", "--silent", "--accounts", "10")
	return p
}

func startCluster() *proc {
	dir, err := os.MkdirTemp("", "clusterbench")
	if err != nil {
		log.Fatal(err)
	}
	p := &proc{dir: dir}
	if out, err := exec.Command(*bin, "cluster", "init", "--out", dir, "--validators", "4").CombinedOutput(); err != nil {
		log.Fatalf("cluster init: %v\n%s", err, out)
	}
	for i := 0; i < 4; i++ {
		p.urls = append(p.urls, start(p, "infergeth node ready:", "node", "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)), "--verbosity", "error"))
	}
	return p
}

// measure runs every measurement against one node.
func measure(url string, keys []devkeys.Account, p *proc) map[string]float64 {
	c, err := ethclient.Dial(url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	nonces := make([]uint64, len(keys))
	for i, k := range keys {
		if nonces[i], err = c.PendingNonceAt(ctx, k.Address); err != nil {
			log.Fatal(err)
		}
	}
	sign := func(i int, to *common.Address, data []byte, gas uint64) *types.Transaction {
		tx, err := types.SignNewTx(keys[i].Key, types.LatestSignerForChainID(big.NewInt(int64(params.DevnetChainID))), &types.DynamicFeeTx{
			ChainID: big.NewInt(int64(params.DevnetChainID)), Nonce: nonces[i], GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(200e9), Gas: gas, To: to, Data: data, Value: big.NewInt(1),
		})
		if err != nil {
			log.Fatal(err)
		}
		nonces[i]++
		return tx
	}
	// The forwarder of tests/cluster: calls the precompile, logs the answer.
	deploy := sign(senders, nil, forwarderCode(), 300_000)
	send(c, deploy)
	forwarder := waitReceipt(c, deploy.Hash()).ContractAddress
	sink := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	out := map[string]float64{}

	// Latency through this node: one transfer at a time.
	var lat []time.Duration
	for i := 0; i < *samples; i++ {
		tx := sign(senders, &sink, nil, 21000)
		t0 := time.Now()
		send(c, tx)
		waitReceipt(c, tx.Hash())
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	out["latency p50 ms"] = float64(lat[len(lat)/2].Microseconds()) / 1000
	out["latency p90 ms"] = float64(lat[len(lat)*9/10].Microseconds()) / 1000

	rate := func(name string, n int, mk func(i int) *types.Transaction) {
		per := make([][]*types.Transaction, senders)
		for i := 0; i < n; i++ {
			s := i % senders
			per[s] = append(per[s], mk(s))
		}
		head0, _ := c.BlockNumber(ctx)
		cpu0 := p.cpu()
		t0 := time.Now()
		var wg sync.WaitGroup
		for _, txs := range per {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, tx := range txs {
					send(c, tx)
				}
			}()
		}
		wg.Wait()
		var last *types.Receipt
		for _, txs := range per {
			for _, tx := range txs {
				r := waitReceipt(c, tx.Hash())
				if r.Status != types.ReceiptStatusSuccessful {
					log.Fatalf("%s: tx %x failed", name, tx.Hash())
				}
				if last == nil || r.BlockNumber.Cmp(last.BlockNumber) > 0 {
					last = r
				}
			}
		}
		elapsed := time.Since(t0)
		// CPU per call per node: what each node spent (the cluster's four
		// nodes each build or re-execute every block).
		out[name+" cpu us"] = (p.cpu() - cpu0).Seconds() * 1e6 / float64(n) / float64(len(p.cmds))
		blocks := last.BlockNumber.Uint64() - head0
		out[name+" /s"] = float64(n) / elapsed.Seconds()
		out[name+" blocks"] = float64(blocks)
		out[name+" interval ms"] = float64(elapsed.Milliseconds()) / float64(max(blocks, 1))
	}
	rate("transfers", *transfers, func(s int) *types.Transaction { return sign(s, &sink, nil, 21000) })
	for _, model := range []string{"mlp", "cnn"} {
		data := inferCalldata(model)
		rate("inference "+model, *infers, func(s int) *types.Transaction { return sign(s, &forwarder, data, 3_000_000) })
	}
	return out
}

func send(c *ethclient.Client, tx *types.Transaction) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.SendTransaction(ctx, tx); err != nil {
		log.Fatalf("send %x: %v", tx.Hash(), err)
	}
}

func waitReceipt(c *ethclient.Client, hash common.Hash) *types.Receipt {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if r, err := c.TransactionReceipt(context.Background(), hash); err == nil {
			return r
		}
		time.Sleep(2 * time.Millisecond)
	}
	log.Fatalf("no receipt for %x", hash)
	return nil
}

// forwarderCode: see tests/cluster/txs_test.go.
func forwarderCode() []byte {
	runtime := []byte{0x36, 0x5f, 0x5f, 0x37, 0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x73}
	runtime = append(runtime, params.InferencePrecompileAddress.Bytes()...)
	runtime = append(runtime, 0x5a, 0xf1, 0x50, 0x3d, 0x5f, 0x5f, 0x3e, 0x3d, 0x5f, 0xa0, 0x3d, 0x5f, 0x20, 0x5f, 0x55, 0x00)
	initCode := []byte{0x60, byte(len(runtime)), 0x80, 0x60, 10, 0x5f, 0x39, 0x5f, 0xf3, 0x00}
	return append(initCode, runtime...)
}

func inferCalldata(model string) []byte {
	for _, d := range vectors.Demos() {
		if d.Name != model {
			continue
		}
		m, err := inference.Decode(d.Bytes)
		if err != nil {
			log.Fatal(err)
		}
		input := make([]byte, m.InputBytes())
		for i := range input {
			input[i] = byte(i * 7)
		}
		id := inference.ID(d.Bytes)
		out := append([]byte{}, crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]...)
		out = append(out, id[:]...)
		out = append(out, word(64)...)
		out = append(out, word(uint64(len(input)))...)
		out = append(out, input...)
		if pad := len(input) % 32; pad != 0 {
			out = append(out, make([]byte, 32-pad)...)
		}
		return out
	}
	log.Fatalf("no demo model %q", model)
	return nil
}

func word(v uint64) []byte {
	w := make([]byte, 32)
	binary.BigEndian.PutUint64(w[24:], v)
	return w
}

func report(devName, bftName string, dev, bft map[string]float64) {
	fmt.Println("## Validator network (CometBFT, 4 validators) beside the dev engine")
	fmt.Println()
	fmt.Printf("`%s` and `%s`, both on 127.0.0.1 at the same time, on this machine's cores\n", devName, bftName)
	fmt.Println("together with the client (tests/bench/clusterbench). Every transaction goes to one")
	fmt.Println("node (node1 of the cluster: with four validators in rotation it proposes one block in")
	fmt.Println("four, so most transactions reach the proposer through CometBFT's gossip). Throughput:")
	fmt.Printf("%d transfers, then %d inference calls per demo model (a contract that calls the\n", *transfers, *infers)
	fmt.Println("precompile and logs the answer), signed beforehand, sent by 8 concurrent senders, timed")
	fmt.Println("from the first send to the last receipt. Block interval: that time over the blocks it")
	fmt.Printf("took. Latency: %d transfers one at a time, send to first receipt.\n\n", *samples)
	fmt.Println("| metric | dev engine | CometBFT cluster | cluster/dev | target |")
	fmt.Println("| --- | ---: | ---: | ---: | --- |")
	row := func(label, key, unit, target string) {
		d, b := dev[key], bft[key]
		ratio := "n/a"
		if d > 0 {
			ratio = fmt.Sprintf("%.2f×", b/d)
		}
		fmt.Printf("| %s | %.1f %s | %.1f %s | %s | %s |\n", label, d, unit, b, unit, ratio, target)
	}
	row("send-to-receipt median (via node1)", "latency p50 ms", "ms", "")
	row("send-to-receipt p90 (via node1)", "latency p90 ms", "ms", "")
	row("transfers per second", "transfers /s", "/s", "")
	row("block interval under transfers", "transfers interval ms", "ms", "≤ 1000 ms (cluster)")
	row("inference calls per second (mlp)", "inference mlp /s", "/s", "≥ 0.5× dev")
	row("inference calls per second (cnn)", "inference cnn /s", "/s", "≥ 0.5× dev")
	row("block interval under inference (cnn)", "inference cnn interval ms", "ms", "≤ 1000 ms (cluster)")
	row("CPU per transfer, per node", "transfers cpu us", "µs", "")
	row("CPU per inference call (mlp), per node", "inference mlp cpu us", "µs", "")
	row("CPU per inference call (cnn), per node", "inference cnn cpu us", "µs", "")
	fmt.Println()
	fmt.Printf("Blocks used: transfers %v (dev) / %v (cluster); mlp %v / %v; cnn %v / %v. The dev engine mines\n",
		dev["transfers blocks"], bft["transfers blocks"], dev["inference mlp blocks"], bft["inference mlp blocks"], dev["inference cnn blocks"], bft["inference cnn blocks"])
	fmt.Println("a block per transaction, so its block interval is its per-transaction time; an idle")
	fmt.Println("cluster makes no EVM blocks (CometBFT heights without transactions make none).")
	fmt.Println()
	fmt.Println("The cluster's four validators each build or re-execute every block on the same cores")
	fmt.Println("as the client and each other, so on one machine its throughput is bounded by a quarter")
	fmt.Println("of it per execution; CPU per call, per node (user and system time of each node's")
	fmt.Println("process over the run, from /proc, averaged over the nodes) is what one validator on its")
	fmt.Println("own machine would spend. Latency is mostly the idle proposer's wait")
	fmt.Println("(`create_empty_blocks_interval`, 500 ms; docs/network.md).")
	fmt.Println()
	fmt.Printf("Command: `go run ./tests/bench/clusterbench -infergeth build/bin/infergeth -transfers %d -inferences %d -samples %d`\n", *transfers, *infers, *samples)
}
