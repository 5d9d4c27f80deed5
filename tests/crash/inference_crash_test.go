package crash

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/tests/vectors"
)

var inferenceRounds = flag.Int("crash.rounds", 3, "kill -9 rounds of TestKillNineUnderInferenceTraffic (make test runs 3)")

// acked is an inference transaction's receipt as the node returned it,
// with the state root of its block.
type acked struct {
	seen
	root common.Hash
}

// registration is a model registration the test started: acked when
// `infergeth model register` reported success before the kill.
type registration struct {
	id    common.Hash
	acked bool
	input int
}

// TestKillNineUnderInferenceTraffic kills the devnet (kill -9) at random
// moments while one client streams inference transactions (the demo MLP
// through the precompile) and another registers fresh multi-chunk models
// with `infergeth model register`. After each restart: every acknowledged
// transaction's receipt is there, in the same block, whose state root is
// the one reported before the crash; every acknowledged registration is
// complete (described and callable); one cut short is complete or absent,
// never half there.
func TestKillNineUnderInferenceTraffic(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	keys, err := devkeys.Derive(params.DevnetMnemonic, 3)
	if err != nil {
		t.Fatal(err)
	}
	sender, registrar := keys[1], keys[2]
	mlp := demoModel(t, "mlp")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 16))
	signer := types.LatestSignerForChainID(big.NewInt(chainID))

	receipts := make(map[common.Hash]acked)
	var regs []registration
	for round := 0; round < *inferenceRounds; round++ {
		n := start(t, bin, dir)
		c := &client{url: n.url}
		verifyInferenceState(t, c, receipts, regs, mlp)
		killAfter := time.Duration(300+rng.IntN(1500)) * time.Millisecond
		stopped := make(chan struct{})
		go func() {
			time.Sleep(killAfter)
			n.cmd.Process.Kill()
			close(stopped)
		}()
		var mu sync.Mutex
		var wg sync.WaitGroup
		sent := 0
		wg.Add(2)
		go func() { // inference transactions
			defer wg.Done()
			c := &client{url: n.url}
			nonce, err := c.nonceErr(sender.Address)
			if err != nil {
				return
			}
			r := rand.New(rand.NewPCG(seed, uint64(round)))
			for {
				tx, err := types.SignNewTx(sender.Key, signer, &types.DynamicFeeTx{
					ChainID: big.NewInt(chainID), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(50e9),
					Gas: 200_000 + params.InferenceCallGas + mlp.Cost().Gas(), To: &params.InferencePrecompileAddress,
					Data: inferCall(inference.ID(vectors.Demos()[0].Bytes), randomInput(r, mlp.InputBytes())),
				})
				if err != nil {
					t.Error(err)
					return
				}
				s, err := c.trySend(tx)
				if err != nil {
					return // the node is gone
				}
				root, err := c.stateRoot(s.block)
				if err != nil {
					return
				}
				if s.status != 1 {
					t.Errorf("inference transaction %x failed (status %d)", tx.Hash(), s.status)
				}
				mu.Lock()
				receipts[tx.Hash()] = acked{s, root}
				sent++
				mu.Unlock()
				nonce++
			}
		}()
		go func() { // registrations, one after another
			defer wg.Done()
			for i := 0; ; i++ {
				raw, input, err := randomModel(rng)
				if err != nil {
					t.Error(err)
					return
				}
				path := filepath.Join(t.TempDir(), fmt.Sprintf("m%d-%d.bin", round, i))
				if err := os.WriteFile(path, raw, 0o644); err != nil {
					t.Error(err)
					return
				}
				reg := registration{id: common.Hash(inference.ID(raw)), input: input}
				cmd := exec.Command(bin, "model", "register", "--rpc", n.url, "--key", hex.EncodeToString(crypto.FromECDSA(registrar.Key)),
					"--chunk-size", "4096", "--timeout", "20s", "--quiet", path)
				out, err := cmd.CombinedOutput()
				reg.acked = err == nil && strings.Contains(string(out), reg.id.Hex()[2:])
				mu.Lock()
				regs = append(regs, reg)
				mu.Unlock()
				if err != nil {
					return // the node is gone (or the CLI failed: verify says which)
				}
			}
		}()
		wg.Wait()
		<-stopped
		n.wait()
		ackedRegs := 0
		for _, r := range regs {
			if r.acked {
				ackedRegs++
			}
		}
		t.Logf("round %d: killed after %v; %d inference transactions this round, %d in all; %d registrations started, %d acknowledged",
			round, killAfter, sent, len(receipts), len(regs), ackedRegs)
	}
	n := start(t, bin, dir)
	complete, absent := verifyInferenceState(t, &client{url: n.url}, receipts, regs, mlp)
	t.Logf("after %d kills: %d inference receipts and their state roots held; of %d registrations, %d cut short by a kill: %d complete, %d absent",
		*inferenceRounds, len(receipts), len(regs), complete+absent, complete, absent)
	n.cmd.Process.Signal(syscall.SIGTERM)
	n.wait()
	// A run where the node died at once each time would check nothing.
	if len(receipts) < 5 || len(regs) == 0 {
		t.Fatalf("only %d inference receipts and %d registrations over %d rounds: the traffic did not run", len(receipts), len(regs), *inferenceRounds)
	}
}

// verifyInferenceState checks a restarted node against what it
// acknowledged before the kill.
// It returns how many registrations cut short by a kill were found
// complete and how many absent.
func verifyInferenceState(t *testing.T, c *client, receipts map[common.Hash]acked, regs []registration, mlp *inference.Model) (complete, absent int) {
	t.Helper()
	head := c.blockNumber(t)
	for hash, want := range receipts {
		checkReceiptKept(t, c, hash, want.seen, head)
		var b struct {
			Hash      common.Hash `json:"hash"`
			StateRoot common.Hash `json:"stateRoot"`
		}
		c.call(t, "eth_getBlockByNumber", []any{hexutil.Uint64(want.number), false}, &b)
		if b.Hash != want.block || b.StateRoot != want.root {
			t.Fatalf("block %d after restart: hash %x root %x, reported before the crash: hash %x root %x",
				want.number, b.Hash, b.StateRoot, want.block, want.root)
		}
	}
	for _, r := range regs {
		var info map[string]any
		err := c.rawCall("inference_modelInfo", []any{r.id}, &info)
		registered := err == nil
		if err != nil && !strings.Contains(err.Error(), "is not registered") {
			t.Fatalf("model %x: inference_modelInfo: %v", r.id, err)
		}
		if r.acked && !registered {
			t.Fatalf("model %x: registration acknowledged, absent after restart", r.id)
		}
		if !registered {
			absent++
			continue
		}
		if !r.acked {
			complete++
		}
		// Registered means whole: the precompile loads it and runs it.
		var out hexutil.Bytes
		if err := c.rawCall("eth_call", []any{map[string]any{
			"to": params.InferencePrecompileAddress, "data": hexutil.Bytes(inferCall(r.id, make([]byte, r.input))),
		}, "latest"}, &out); err != nil {
			t.Fatalf("model %x is registered (acknowledged %v) but does not run: %v", r.id, r.acked, err)
		}
	}
	return complete, absent
}

func demoModel(t *testing.T, name string) *inference.Model {
	t.Helper()
	for _, d := range vectors.Demos() {
		if d.Name == name {
			m, err := inference.Decode(d.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no demo model %s", name)
	return nil
}

// randomModel is a fully connected layer with random weights: 12 KB, three
// chunks of 4 KB, a distinct model ID each time.
func randomModel(r *rand.Rand) (raw []byte, inputBytes int, err error) {
	const k, n = 128, 96
	var w strings.Builder
	for i := range k * n {
		if i > 0 {
			w.WriteByte(' ')
		}
		fmt.Fprint(&w, r.IntN(255)-127) // weights lie in [-127, 127]
	}
	text := fmt.Sprintf(`input x: int8[1,%d]
const w: int8[%d,%d] = [%s]
const b: int32[%d] = fill(0)
const m: int32[%d] = fill(1)
const s: int8[%d] = fill(10)
y: int8[1,%d] = FullyConnected(x, w, b, m, s) qmin=-128 qmax=127
output y
`, k, n, k, w.String(), n, n, n, n)
	p, err := modeltext.Parse(text)
	if err != nil {
		return nil, 0, fmt.Errorf("random model: %w", err)
	}
	return p.Bytes, p.Model.InputBytes(), nil
}

func randomInput(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// inferCall is the precompile's infer(bytes32,bytes) calldata.
func inferCall(id [32]byte, input []byte) []byte {
	out := append([]byte{}, crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]...)
	out = append(out, id[:]...)
	out = append(out, common.LeftPadBytes([]byte{0x40}, 32)...)
	out = append(out, common.LeftPadBytes(big.NewInt(int64(len(input))).Bytes(), 32)...)
	out = append(out, input...)
	return append(out, make([]byte, (32-len(input)%32)%32)...)
}

func (c *client) nonceErr(addr common.Address) (uint64, error) {
	var n hexutil.Uint64
	err := c.rawCall("eth_getTransactionCount", []any{addr, "pending"}, &n)
	return uint64(n), err
}

func (c *client) stateRoot(block common.Hash) (common.Hash, error) {
	var b *struct {
		StateRoot common.Hash `json:"stateRoot"`
	}
	if err := c.rawCall("eth_getBlockByHash", []any{block, false}, &b); err != nil {
		return common.Hash{}, err
	}
	if b == nil {
		return common.Hash{}, errors.New("acknowledged block not found")
	}
	return b.StateRoot, nil
}
