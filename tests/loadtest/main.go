// Command loadtest puts `infergeth devnet` under mixed hostile load on
// 127.0.0.1 for a bounded time and says whether it held: concurrent clients
// making inference eth_calls (the demo MLP and CNN and the costliest demo
// model), eth_sendRawTransaction of inference calls, eth_getLogs over the
// whole chain, debug_traceTransaction of recent transactions, and WebSocket
// clients that subscribe and never read. It fails (exit 1) when the node
// dies, stops answering, or answers an error other than a documented limit,
// and prints p50/p99 latency per method and the node's RSS over time.
//
//	go run ./tests/loadtest -infergeth build/bin/infergeth -duration 60s
//	go run ./tests/loadtest -infergeth build/bin/infergeth -duration 10s -markdown   # make bench
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/gorilla/websocket"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/tests/devnode"
	"github.com/infergeth/infergeth/tests/vectors"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "loadtest: %v\n", err)
		}
		os.Exit(1)
	}
}

type settings struct {
	duration  time.Duration
	perKind   int // clients per kind of request
	idleWS    int // WebSocket subscribers that never read
	markdown  bool
	command   string
	nodeFlags []string
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("infergeth", "build/bin/infergeth", "the infergeth binary to start as `infergeth devnet`")
	var s settings
	fs.DurationVar(&s.duration, "duration", 30*time.Second, "how long to load the node")
	fs.IntVar(&s.perKind, "clients", 2, "concurrent clients per kind of request (6 kinds)")
	fs.IntVar(&s.idleWS, "ws-idle", 8, "WebSocket clients that subscribe to newHeads, logs and pending transactions and never read")
	fs.BoolVar(&s.markdown, "markdown", false, "print a markdown section (for make bench)")
	memory := fs.Bool("memory", false, "keep the chain in memory (its RSS then grows with the chain by design); default a temporary --datadir")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.duration < time.Second || s.perKind < 1 || s.idleWS < 0 {
		return errors.New("need -duration >= 1s, -clients >= 1, -ws-idle >= 0")
	}
	s.command = "go run ./tests/loadtest " + strings.Join(args, " ")
	nodeFlags := []string{"--silent"}
	if !*memory {
		dir, err := os.MkdirTemp("", "infergeth-loadtest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		nodeFlags = append(nodeFlags, "--datadir", dir)
	}
	s.nodeFlags = nodeFlags
	node, err := devnode.Start(devnode.Infergeth(*bin, nodeFlags...))
	if err != nil {
		return err
	}
	defer node.Stop()
	fmt.Fprintf(stderr, "loadtest: %s at %s for %s\n", node.Version, node.URL, s.duration)
	res, err := load(node, s, stderr)
	if err != nil {
		return err
	}
	res.print(stdout, s)
	if len(res.unexpected) > 0 {
		return fmt.Errorf("%d unexpected errors, first: %s", len(res.unexpected), res.unexpected[0])
	}
	if !res.plateau() {
		return fmt.Errorf("RSS did not plateau: %s", res.rssLine())
	}
	return nil
}

// documentedLimits are the refusals docs/devnet.md and docs/reliability.md
// list as the node's bounds; any other error is a failure.
var documentedLimits = regexp.MustCompile(`query returned more than|invalid block range|exceed|too large|request body too large|batch|execution timeout|execution aborted|limit`)

// model is a demo model the clients call.
type model struct {
	name  string
	id    inference.ModelID
	model *inference.Model
	gas   uint64
}

func demoModels() (mlp, cnn, costliest model, err error) {
	var all []model
	add := func(name string, raw []byte) error {
		m, err := inference.Decode(raw)
		if err != nil {
			return fmt.Errorf("demo %s: %w", name, err)
		}
		all = append(all, model{name, inference.ID(raw), m, m.Cost().Gas()})
		return nil
	}
	for _, d := range vectors.Demos() {
		if err := add(d.Name, d.Bytes); err != nil {
			return mlp, cnn, costliest, err
		}
	}
	for _, e := range contracts.ExampleModels() {
		if err := add(e.Name, e.Bytes); err != nil {
			return mlp, cnn, costliest, err
		}
	}
	for _, m := range all {
		switch m.name {
		case "mlp":
			mlp = m
		case "cnn":
			cnn = m
		}
		// A model with declared freshness needs stamps or feeds: not a plain infer.
		if len(m.model.Freshness) == 0 && m.gas > costliest.gas {
			costliest = m
		}
	}
	if mlp.name == "" || cnn.name == "" {
		return mlp, cnn, costliest, errors.New("demo models mlp and cnn not found")
	}
	return mlp, cnn, costliest, nil
}

// inferCalldata is infer(bytes32,bytes) with a random input: uniform for
// int8 and int16 elements, small for int32 ones (token ids, indices).
func inferCalldata(r *rand.Rand, m model) []byte {
	sel := crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]
	out := append([]byte{}, sel...)
	out = append(out, m.id[:]...)
	out = append(out, common.LeftPadBytes([]byte{0x40}, 32)...)
	var n [32]byte
	size := m.model.InputBytes()
	binary.BigEndian.PutUint64(n[24:], uint64(size))
	out = append(out, n[:]...)
	in := make([]byte, 0, (size+31)/32*32)
	for e := range m.model.InputElements() {
		dt, _, _ := m.model.InputElementDType(e)
		switch dt {
		case inference.Int8:
			in = append(in, byte(r.IntN(256)))
		case inference.Int16:
			in = binary.LittleEndian.AppendUint16(in, uint16(r.IntN(1<<16)))
		default:
			in = binary.LittleEndian.AppendUint32(in, uint32(r.IntN(4)))
		}
	}
	out = append(out, in...)
	return append(out, make([]byte, (32-len(in)%32)%32)...)
}

// results gathers latencies, errors and RSS samples.
type results struct {
	mu         sync.Mutex
	latency    map[string][]time.Duration
	limited    map[string]int
	unexpected []string
	rss        []int64
	wsOpen     int
	requests   int
}

func (r *results) record(method string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if err == nil {
		r.latency[method] = append(r.latency[method], d)
		return
	}
	if documentedLimits.MatchString(err.Error()) {
		r.limited[method]++
		r.latency[method] = append(r.latency[method], d)
		return
	}
	if len(r.unexpected) < 100 {
		r.unexpected = append(r.unexpected, fmt.Sprintf("%s: %v", method, err))
	}
}

func load(node *devnode.Node, s settings, stderr io.Writer) (*results, error) {
	mlp, cnn, costliest, err := demoModels()
	if err != nil {
		return nil, err
	}
	keys, err := devkeys.Derive(params.DevnetMnemonic, 1+s.perKind)
	if err != nil {
		return nil, err
	}
	res := &results{latency: map[string][]time.Duration{}, limited: map[string]int{}}

	// Subscribers that never read: the node must drop or bound them, not
	// buffer without end or block block production.
	var idle []*websocket.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := range s.idleWS {
		c, _, err := websocket.DefaultDialer.Dial(node.WS, nil)
		if err != nil {
			return nil, fmt.Errorf("websocket %d: %w", i, err)
		}
		idle = append(idle, c)
		for j, sub := range []string{`["newHeads"]`, `["logs",{}]`, `["newPendingTransactions",true]`} {
			msg := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"eth_subscribe","params":%s}`, j+1, sub)
			if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				return nil, fmt.Errorf("websocket %d subscribe: %w", i, err)
			}
		}
	}
	res.wsOpen = len(idle)

	ctx, cancel := context.WithTimeout(context.Background(), s.duration)
	defer cancel()
	var lastTx atomic.Pointer[common.Hash]
	chainID := big.NewInt(devnode.ChainID)
	signer := types.LatestSignerForChainID(chainID)

	var wg sync.WaitGroup
	worker := func(i int, method string, do func(c *rpc.Client, r *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := rpc.DialHTTP(node.URL)
			if err != nil {
				res.record(method, 0, err)
				return
			}
			defer c.Close()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				start := time.Now()
				err := do(c, r)
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the run
				}
				res.record(method, time.Since(start), err)
			}
		}()
	}
	call := func(m model) func(c *rpc.Client, r *rand.Rand) error {
		return func(c *rpc.Client, r *rand.Rand) error {
			var out hexutil.Bytes
			return c.CallContext(ctx, &out, "eth_call", map[string]any{
				"to": params.InferencePrecompileAddress, "data": hexutil.Bytes(inferCalldata(r, m)),
			}, "latest")
		}
	}
	for i := range s.perKind {
		worker(i, "eth_call "+mlp.name, call(mlp))
		worker(100+i, "eth_call "+cnn.name, call(cnn))
		worker(200+i, "eth_call "+costliest.name+" (costliest)", call(costliest))
		key := keys[1+i]
		var nonce uint64
		worker(300+i, "eth_sendRawTransaction", func(c *rpc.Client, r *rand.Rand) error {
			if nonce == 0 {
				var n hexutil.Uint64
				if err := c.CallContext(ctx, &n, "eth_getTransactionCount", key.Address, "pending"); err != nil {
					return err
				}
				nonce = uint64(n)
			}
			tx, err := types.SignNewTx(key.Key, signer, &types.DynamicFeeTx{
				ChainID: chainID, Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9),
				Gas: 100_000 + params.InferenceCallGas + mlp.gas, To: &params.InferencePrecompileAddress, Data: inferCalldata(r, mlp),
			})
			if err != nil {
				return err
			}
			raw, _ := tx.MarshalBinary()
			var h common.Hash
			if err := c.CallContext(ctx, &h, "eth_sendRawTransaction", hexutil.Bytes(raw)); err != nil {
				nonce = 0 // re-read: a refusal may have left the nonce where it was
				return err
			}
			nonce++
			lastTx.Store(&h)
			return nil
		})
		worker(400+i, "eth_getLogs (block 0 to latest)", func(c *rpc.Client, r *rand.Rand) error {
			var logs []types.Log
			return c.CallContext(ctx, &logs, "eth_getLogs", map[string]any{"fromBlock": "earliest", "toBlock": "latest"})
		})
		worker(500+i, "debug_traceTransaction", func(c *rpc.Client, r *rand.Rand) error {
			h := lastTx.Load()
			if h == nil {
				time.Sleep(10 * time.Millisecond)
				return nil
			}
			var out any
			cfg := map[string]any{}
			if r.IntN(2) == 0 {
				cfg["tracer"] = "callTracer"
			}
			return c.CallContext(ctx, &out, "debug_traceTransaction", *h, cfg)
		})
	}

	// RSS every 250 ms while the load runs.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
sample:
	for {
		select {
		case <-ctx.Done():
			break sample
		case <-tick.C:
			if node.Exited() {
				return nil, fmt.Errorf("the node died under load:\n%s", node.Log(4<<10))
			}
			if v, ok := node.RSS(); ok {
				res.mu.Lock()
				res.rss = append(res.rss, v)
				res.mu.Unlock()
			}
			if time.Since(lastReport) > 5*time.Second {
				lastReport = time.Now()
				res.mu.Lock()
				fmt.Fprintf(stderr, "loadtest: %d requests, RSS %d MiB\n", res.requests, res.rss[len(res.rss)-1]>>20)
				res.mu.Unlock()
			}
		}
	}
	wg.Wait()
	// Still serving, with the idle subscribers still connected.
	c, err := rpc.DialHTTP(node.URL)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var bn hexutil.Uint64
	afterCtx, afterCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer afterCancel()
	if err := c.CallContext(afterCtx, &bn, "eth_blockNumber"); err != nil {
		return nil, fmt.Errorf("the node stopped answering after the load: %w", err)
	}
	return res, nil
}

// plateau: the peak RSS of the run's second half is within 25% (and 64 MiB)
// of the first half's: growth that stops, not growth with the load.
func (r *results) plateau() bool {
	if len(r.rss) < 4 {
		return true
	}
	first, second := peak(r.rss[:len(r.rss)/2]), peak(r.rss[len(r.rss)/2:])
	return second <= first+first/4 || second-first <= 64<<20
}

func peak(v []int64) int64 {
	var m int64
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func (r *results) rssLine() string {
	if len(r.rss) == 0 {
		return "RSS not readable here"
	}
	h := len(r.rss) / 2
	return fmt.Sprintf("RSS start %d MiB, peak of first half %d MiB, peak of second half %d MiB, end %d MiB",
		r.rss[0]>>20, peak(r.rss[:max(h, 1)])>>20, peak(r.rss[h:])>>20, r.rss[len(r.rss)-1]>>20)
}

func (r *results) print(w io.Writer, s settings) {
	methods := make([]string, 0, len(r.latency))
	for m := range r.latency {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	if s.markdown {
		fmt.Fprintln(w, "## RPC under load (docs/reliability.md)")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "`%s`: %d clients per kind, %d WebSocket subscribers that never read, %s, one `infergeth devnet %s` on 127.0.0.1 (instant mining).\n\n",
			s.command, s.perKind, s.idleWS, s.duration, strings.Join(s.nodeFlags, " "))
	}
	fmt.Fprintln(w, "| method | answered | refused by a documented limit | p50 | p99 | max |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, m := range methods {
		d := r.latency[m]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s |\n", m, len(d), r.limited[m], pct(d, 50), pct(d, 99), pct(d, 100))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d requests, %d unexpected errors; %s; %s.\n", r.requests, len(r.unexpected), r.rssLine(),
		map[bool]string{true: "RSS plateaued", false: "RSS kept growing"}[r.plateau()])
	for _, u := range r.unexpected[:min(len(r.unexpected), 5)] {
		fmt.Fprintf(w, "unexpected: %s\n", u)
	}
}

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	i := min(len(d)-1, (len(d)*p)/100)
	return d[i].Round(10 * time.Microsecond).String()
}
