//go:build e2e

package l1

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/batch"
	"github.com/infergeth/infergeth/l1/batcher"
	"github.com/infergeth/infergeth/l1/derive"
	"github.com/infergeth/infergeth/l1/l1test"
	"github.com/infergeth/infergeth/l1/oracle"
	"github.com/infergeth/infergeth/l1/submit"
	"github.com/infergeth/infergeth/tests/devnode"
	"github.com/infergeth/infergeth/tests/vectors"
)

// The dev accounts of "test test ... junk": 0 is the batcher and proposer
// on the L1, 1 the L2 user, 3 a stranger on the L1.
const (
	key0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	key1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
	key3 = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
)

// recorderInit deploys l1test's recorder: it forwards calldata to the
// inference precompile and stores keccak256 of the answer in slot 0.
const recorderInit = "0x6019600a5f3960195ff3365f5f375f5f365f5f610a005af1503d5f5f3e3d5f205f5500"

var l1Line = regexp.MustCompile(`infergeth l1: oracle=(\S+) inbox=(\S+) batcher=(\S+) proposer=(\S+) interval=(\d+) start-block=(\d+) genesis=(\S+)`)

type env struct {
	t     *testing.T
	ctx   context.Context
	bin   string
	tools string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := os.Getenv("INFERGETH_BIN")
	if bin == "" {
		bin = filepath.Join(root, "build", "bin", "infergeth")
	}
	tools := filepath.Join(root, "tests", "tools", "node_modules", ".bin")
	for _, p := range []string{bin, filepath.Join(tools, "anvil"), filepath.Join(tools, "cast")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing (run make build tools): %v", p, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, bin: bin, tools: tools}
}

func (e *env) anvil(extra ...string) *devnode.Node {
	e.t.Helper()
	n, err := devnode.Start(devnode.Anvil(filepath.Join(e.tools, "anvil"), extra...))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(n.Stop)
	return n
}

type l1Info struct {
	oracle, inbox, batcher common.Address
	genesis                string
}

// devnet starts `infergeth devnet --l1` and reads its l1 line.
func (e *env) devnet(l1URL, datadir string, extra ...string) (*devnode.Node, l1Info) {
	e.t.Helper()
	args := append([]string{"--silent", "--datadir", datadir, "--l1", l1URL, "--l1.key", key0, "--l1.poll", "0.1", "--l1.resubmit", "3"}, extra...)
	n, err := devnode.Start(devnode.Infergeth(e.bin, args...))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(n.Stop)
	// The RPC answers first; the l1 line follows the oracle's deployment.
	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; time.Sleep(50 * time.Millisecond) {
		m = l1Line.FindStringSubmatch(n.Log(64 << 10))
		if m == nil && time.Now().After(deadline) {
			e.t.Fatalf("no l1 line in the devnet's output:\n%s", n.Log(8<<10))
		}
	}
	return n, l1Info{oracle: common.HexToAddress(m[1]), inbox: common.HexToAddress(m[2]), batcher: common.HexToAddress(m[3]), genesis: m[7]}
}

func (e *env) cast(args ...string) string {
	e.t.Helper()
	cmd := exec.CommandContext(e.ctx, filepath.Join(e.tools, "cast"), args...)
	cmd.Env = append(os.Environ(), "FOUNDRY_DISABLE_NIGHTLY_WARNING=1", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("cast %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// verify runs `infergeth verify` and returns its output and exit code.
func (e *env) verify(l1URL string, info l1Info, datadir string) (string, int) {
	e.t.Helper()
	cmd := exec.CommandContext(e.ctx, e.bin, "verify", "--l1", l1URL, "--inbox", info.inbox.Hex(), "--batcher", info.batcher.Hex(),
		"--oracle", info.oracle.Hex(), "--genesis", info.genesis, "--datadir", datadir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("verify: %v", err)
		}
		code = ee.ExitCode()
	}
	return out.String(), code
}

func (e *env) dial(url string) *ethclient.Client {
	e.t.Helper()
	c, err := ethclient.DialContext(e.ctx, url)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(c.Close)
	return c
}

// posted reads the L1 as a verifier would: the last L2 block derived, the
// incomplete channels, and the last output.
func (e *env) posted(c l1.Client, info l1Info) (last uint64, incomplete int, proposed uint64) {
	e.t.Helper()
	o, err := oracle.New(c, info.oracle)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := o.Settings(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	head, err := c.BlockNumber(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := derive.NewReader(e.ctx, c, derive.Config{Inbox: s.Inbox, Batcher: s.Batcher, StartBlock: s.StartBlock})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := r.ReadTo(e.ctx, head, func(*batch.Batch) error { return nil }); err != nil {
		e.t.Fatal(err)
	}
	next, err := o.NextBlockNumber(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.NextL2() - 1, r.Incomplete(), next - s.Interval
}

// waitPosted waits until the L1 holds L2 blocks up to l2Head and the
// outputs due.
func (e *env) waitPosted(c l1.Client, info l1Info, l2Head, interval uint64) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		last, _, proposed := e.posted(c, info)
		if last >= l2Head && proposed >= l2Head/interval*interval {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("L1 holds L2 blocks up to %d and outputs up to %d; want %d", last, proposed, l2Head)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func demoInferCalldata(t *testing.T, name string) []byte {
	for _, d := range vectors.Demos() {
		if d.Name == name {
			m, err := inference.Decode(d.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			id := inference.ID(d.Bytes)
			input := bytes.Repeat([]byte{3}, m.InputBytes())
			word := func(v uint64) []byte { w := make([]byte, 32); new(big.Int).SetUint64(v).FillBytes(w); return w }
			out := append(crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4], id[:]...)
			out = append(append(append(out, word(64)...), word(uint64(len(input)))...), input...)
			return append(out, make([]byte, (32-len(input)%32)%32)...)
		}
	}
	t.Fatalf("no demo model %s", name)
	return nil
}

// TestDevnetSettlesAndVerifies: a devnet with inference traffic (cast as
// the client) posts batches and outputs to anvil; the batcher key's
// garbage and another key's forged batch sit in the inbox between them;
// two verifiers rebuild the same state roots, skip the same garbage for
// the same reasons, and never read the forged batch.
func TestDevnetSettlesAndVerifies(t *testing.T) {
	e := newEnv(t)
	anvil := e.anvil()
	dir := t.TempDir()
	l2, info := e.devnet(anvil.URL, filepath.Join(dir, "l2"), "--l1.interval", "3")
	c := e.dial(anvil.URL)

	recorder := e.cast("send", "--rpc-url", l2.URL, "--private-key", key1, "--json", "--create", recorderInit)
	addr := regexp.MustCompile(`"contractAddress":"(0x[0-9a-fA-F]{40})"`).FindStringSubmatch(recorder)
	if addr == nil {
		t.Fatalf("no contract address in %s", recorder)
	}
	calldata := fmt.Sprintf("0x%x", demoInferCalldata(t, "cnn"))
	for i := 0; i < 3; i++ {
		e.cast("send", "--rpc-url", l2.URL, "--private-key", key1, addr[1], calldata)
		e.cast("send", "--rpc-url", l2.URL, "--private-key", key1, "--value", "1", "0x000000000000000000000000000000000000dEaD")
	}
	e.cast("send", "--rpc-url", l2.URL, "--private-key", key1, "0x0000000000000000000000000000000000000A00", fmt.Sprintf("0x%x", demoInferCalldata(t, "mlp")))
	l2c := e.dial(l2.URL)
	head, err := l2c.BlockNumber(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.waitPosted(c, info, head, 3)

	// Garbage from the batcher's key (the devnet's batcher is idle: no new
	// L2 blocks), and a well-formed batch of a forged next block from key 3.
	garbage := []string{
		"0x01deadbeef", // unknown version
		fmt.Sprintf("0x00%x", bytes.Repeat([]byte{7}, 30)),                 // declares 0x07070707 bytes
		fmt.Sprintf("0x00%x0000000000100102", bytes.Repeat([]byte{9}, 16)), // declares 16 bytes, has 2
	}
	for _, g := range garbage {
		e.cast("send", "--rpc-url", anvil.URL, "--private-key", key0, info.inbox.Hex(), g)
	}
	parent, err := l2c.BlockByNumber(e.ctx, new(big.Int).SetUint64(head))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := batch.Compress(&batch.Batch{ParentHash: parent.Hash(), First: head + 1, Blocks: []batch.Block{{Time: parent.Time() + 1, StateRoot: common.HexToHash("0xf0f0")}}})
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := batch.Split(forged, 0)
	e.cast("send", "--rpc-url", anvil.URL, "--private-key", key3, info.inbox.Hex(), fmt.Sprintf("0x%x", batch.MarshalFrames(frames...)))

	for i := 0; i < 2; i++ {
		e.cast("send", "--rpc-url", l2.URL, "--private-key", key1, addr[1], calldata)
	}
	head += 2
	e.waitPosted(c, info, head, 3)

	out1, code1 := e.verify(anvil.URL, info, filepath.Join(dir, "v1"))
	out2, code2 := e.verify(anvil.URL, info, filepath.Join(dir, "v2"))
	if code1 != 0 || code2 != 0 || !strings.Contains(out1, fmt.Sprintf("verify: agree: L2 blocks 1-%d rebuilt", head)) {
		t.Fatalf("verify exit %d, %d:\n%s\n%s", code1, code2, out1, out2)
	}
	if n := strings.Count(out1, "agrees (state root"); uint64(n) != head/3 {
		t.Fatalf("%d outputs agree, want %d:\n%s", n, head/3, out1)
	}
	skips := func(out string) []string {
		var s []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "verify: skipped") {
				s = append(s, line)
			}
		}
		return s
	}
	s1, s2 := skips(out1), skips(out2)
	if len(s1) != len(garbage) || strings.Join(s1, "\n") != strings.Join(s2, "\n") {
		t.Fatalf("skips differ or miss the garbage:\n%s\n--\n%s", strings.Join(s1, "\n"), strings.Join(s2, "\n"))
	}
	if !strings.Contains(s1[0], "unknown version 1") || !strings.Contains(s1[1], "over 120000") || !strings.Contains(s1[2], "truncated") {
		t.Fatalf("skip reasons: %v", s1)
	}
	// The last output checked is the sequencer's own state root.
	last := head / 3 * 3
	b, err := l2c.BlockByNumber(e.ctx, new(big.Int).SetUint64(last))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("output L2 block %d: agrees (state root %s)", last, b.Root().Hex()); !strings.Contains(out1, want) {
		t.Fatalf("no %q in:\n%s", want, out1)
	}
}

// TestBatcherKilledMidChannel: anvil mines a block a second, frames are
// small, and the devnet is killed with -9 while a channel is half posted.
// Restarted on its datadir, it works out from the L1 what is posted and
// posts the rest; the verifier derives every block once, none missing.
func TestBatcherKilledMidChannel(t *testing.T) {
	e := newEnv(t)
	anvil := e.anvil("--block-time", "1")
	dir := t.TempDir()
	datadir := filepath.Join(dir, "l2")
	l2, info := e.devnet(anvil.URL, datadir, "--l1.interval", "4", "--l1.max-frame", "120")
	c := e.dial(anvil.URL)
	l2c := e.dial(l2.URL)

	key := mustKey(key1)
	chainID, err := l2c.ChainID(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(chainID)
	precompile := common.HexToAddress("0x0000000000000000000000000000000000000A00")
	data := demoInferCalldata(t, "cnn")
	const blocks = 6
	for i := uint64(0); i < blocks; i++ {
		tx := types.MustSignNewTx(key, signer, &types.DynamicFeeTx{ChainID: chainID, Nonce: i, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(1e11), Gas: 3_000_000, To: &precompile, Data: data})
		if err := l2c.SendTransaction(e.ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	// Kill as soon as the L1 shows a channel begun and not finished.
	deadline := time.Now().Add(60 * time.Second)
	for {
		last, incomplete, _ := e.posted(c, info)
		if incomplete > 0 && last < blocks {
			break
		}
		if last >= blocks || time.Now().After(deadline) {
			t.Fatalf("could not catch the batcher mid-channel (posted up to %d)", last)
		}
		time.Sleep(50 * time.Millisecond)
	}
	l2.Stop()                           // SIGKILL
	time.Sleep(2500 * time.Millisecond) // what it sent last gets mined
	before, incomplete, _ := e.posted(c, info)
	if before >= blocks || incomplete == 0 {
		t.Fatalf("after the kill the L1 holds blocks up to %d and %d incomplete channels: not mid-channel", before, incomplete)
	}

	_, info2 := e.devnet(anvil.URL, datadir, "--l1.oracle", info.oracle.Hex(), "--l1.max-frame", "120")
	info2.genesis = info.genesis
	e.waitPosted(c, info2, blocks, 4)

	out, code := e.verify(anvil.URL, info2, filepath.Join(dir, "v"))
	if code != 0 || !strings.Contains(out, fmt.Sprintf("verify: agree: L2 blocks 1-%d rebuilt (%d executed", blocks, blocks)) {
		t.Fatalf("verify exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "already derived") || strings.Contains(out, "gap") {
		t.Fatalf("a block was posted twice or left out:\n%s", out)
	}
}

// TestTamperedSequencerCaught: an in-process sequencer whose inference
// answers are wrong from block 5 on posts its blocks and outputs to anvil
// with the real batcher; `infergeth verify` re-executes and names block 5,
// its inference transaction, and the output of block 6 as the first wrong.
func TestTamperedSequencerCaught(t *testing.T) {
	e := newEnv(t)
	anvil := e.anvil()
	c := e.dial(anvil.URL)
	l2, err := l1test.NewL2()
	if err != nil {
		t.Fatal(err)
	}
	sender, err := submit.New(e.ctx, c, submit.Config{Key: mustKey(key0)})
	if err != nil {
		t.Fatal(err)
	}
	set := oracle.Settings{L2GenesisHash: l2.Chain.Genesis().Hash(), Batcher: sender.From(), Proposer: sender.From(), Inbox: l1.InboxFor(l2.Config.ChainID().Uint64()), Interval: 3}
	addr, err := oracle.Deploy(e.ctx, sender, set)
	if err != nil {
		t.Fatal(err)
	}
	mine := func(txs ...*types.Transaction) {
		if _, err := l2.Mine(txs...); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		mine(l2.InferenceTx())
	}
	l2.Tamper.Store(true)
	bad := l2.InferenceTx()
	mine(bad)
	mine(l2.InferenceTx())
	b, err := batcher.New(e.ctx, c, l2.Chain, l2.Builder, batcher.Config{Oracle: addr, BatcherKey: mustKey(key0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Resume(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Step(e.ctx); err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(t.TempDir(), "l2-genesis.json")
	if err := l1.WriteGenesisFile(genesis, l2.Config, l2.Genesis); err != nil {
		t.Fatal(err)
	}
	out, code := e.verify(anvil.URL, l1Info{oracle: addr, inbox: set.Inbox, batcher: set.Batcher, genesis: genesis}, filepath.Join(t.TempDir(), "v"))
	if code != 1 {
		t.Fatalf("verify exit %d, want 1:\n%s", code, out)
	}
	want := fmt.Sprintf("verify: DIVERGENCE at L2 block 5: state root differs (posted state root %s", l2.Chain.BlockByNumber(5).Root())
	if !strings.Contains(out, want) || !strings.Contains(out, bad.Hash().Hex()) || !strings.Contains(out, "first differing output: L2 block 6") {
		t.Fatalf("verify output lacks block 5, tx %s or output 6:\n%s", bad.Hash(), out)
	}
	if !strings.Contains(out, "output L2 block 3: agrees") {
		t.Fatalf("the output before the tampering should agree:\n%s", out)
	}
}

func mustKey(h string) *ecdsa.PrivateKey {
	k, err := crypto.HexToECDSA(strings.TrimPrefix(h, "0x"))
	if err != nil {
		panic(err)
	}
	return k
}
