//go:build e2e

package e2e

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/tests/devnode"
)

// TestModelCacheCannotBePoisoned (issue 11, item 1): a request whose state
// names model A by model B's bytes (an eth_call state override, the same
// through gas estimation, tracing and access lists, or anvil_setStorageAt
// later undone by evm_revert) computes B for itself, and no honest call or
// transaction afterwards computes anything but A.
func TestModelCacheCannotBePoisoned(t *testing.T) {
	if setup.kind != "infergeth" {
		t.Skip("the inference precompile exists only on infergeth")
	}
	dir := t.TempDir()
	const input = "649c0700" // 100, -100, 7, 0: the twins differ on it

	// model is a Clamp model the devnet registers at genesis (--model);
	// want is what `infergeth model run` computes for input.
	type model struct{ file, id, want string }
	newModel := func(bound int) model {
		p, err := modeltext.Parse(fmt.Sprintf("input x: int8[4]\ny: int8[4] = Clamp(x) min=-%d max=%d\noutput y\n", bound, bound))
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("clamp%d.bin", bound))
		if err := os.WriteFile(file, p.Bytes, 0o644); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(run(t, setup.root, os.Environ(), setup.infergeth, "model", "run", file, "--input", input))
		return model{file: file, id: crypto.Keccak256Hash(p.Bytes).Hex(), want: "0x" + want}
	}
	// One pair (a model, the model its state is made to name instead) per
	// way in, so that each request is the first to load its model.
	type pair struct{ a, b model }
	var pairs []pair
	args := []string{"--accounts", "10", "--balance", "10000"}
	for _, bounds := range [][2]int{{10, 5}, {20, 3}, {30, 4}, {40, 6}, {50, 7}} {
		p := pair{newModel(bounds[0]), newModel(bounds[1])}
		if p.a.want == p.b.want {
			t.Fatalf("twin models agree on the input: %s", p.a.want)
		}
		pairs = append(pairs, p)
		args = append(args, "--model", p.a.file, "--model", p.b.file)
	}
	n, err := devnode.Start(devnode.Infergeth(setup.infergeth, args...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("infergeth log (last 8 KiB):\n%s", n.Log(8<<10))
		}
	})

	// The registry's two slots of a model (vm/modelstore.go's layout).
	slots := func(id string) [2]string {
		var out [2]string
		for i := range out {
			key := append(common.HexToHash(id).Bytes(), common.BigToHash(common.Big0).Bytes()...)
			key[63] = byte(i)
			out[i] = crypto.Keccak256Hash(key).Hex()
		}
		return out
	}
	storageAt := func(slot string) string {
		var v string
		if err := json.Unmarshal(rpc(t, n, "eth_getStorageAt", params.ModelRegistryAddress.Hex(), slot, "latest"), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// pointing is the registry's state with a's slots holding b's values.
	pointing := func(a, b model) map[string]string {
		sa, sb := slots(a.id), slots(b.id)
		return map[string]string{sa[0]: storageAt(sb[0]), sa[1]: storageAt(sb[1])}
	}
	inferData := "0x" + hex.EncodeToString(crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4])
	callData := func(id string) string {
		return inferData + strings.TrimPrefix(id, "0x") + strings.TrimPrefix(word("40"), "0x") + strings.TrimPrefix(word("4"), "0x") + input + strings.Repeat("0", 56)
	}
	precompile := params.InferencePrecompileAddress.Hex()
	decode := func(res json.RawMessage) string {
		var hexOut string
		if err := json.Unmarshal(res, &hexOut); err != nil {
			t.Fatal(err)
		}
		return "0x" + strings.TrimPrefix(hexOut, "0x")[128:128+8]
	}
	user := castSend(t, n, "--create", bytecode(t, "InferenceUser")).ContractAddress
	// honest checks that an honest eth_call of a computes a.want.
	honest := func(after string, a model) {
		t.Helper()
		if got := decode(rpc(t, n, "eth_call", map[string]any{"to": precompile, "data": callData(a.id)}, "latest")); got != a.want {
			t.Fatalf("after %s, an honest eth_call of model A computed %s; A computes %s", after, got, a.want)
		}
	}
	// transaction checks that a block computes a.want.
	transaction := func(after string, a model) {
		t.Helper()
		castSend(t, n, user, "run(bytes32,bytes)", a.id, "0x"+input)
		if stored := cast(t, n, "call", user, "last()(bytes)"); stored != a.want {
			t.Fatalf("after %s, a transaction stored %s for model A; A computes %s", after, stored, a.want)
		}
	}
	// (a) State overrides. The overriding request computes what its state
	// holds (B); honest calls and a block afterwards compute A.
	for i, method := range []string{"eth_call", "eth_estimateGas", "debug_traceCall", "eth_createAccessList"} {
		a, b := pairs[i].a, pairs[i].b
		override := map[string]any{params.ModelRegistryAddress.Hex(): map[string]any{"stateDiff": pointing(a, b)}}
		call := map[string]any{"from": addr0, "to": precompile, "data": callData(a.id)}
		switch method {
		case "eth_call":
			if got := decode(rpc(t, n, "eth_call", call, "latest", override)); got != b.want {
				t.Fatalf("eth_call with A pointing at B computed %s, want B's %s", got, b.want)
			}
		case "debug_traceCall":
			rpc(t, n, method, call, "latest", map[string]any{"tracer": "callTracer", "stateOverrides": override})
		default:
			rpc(t, n, method, call, "latest", override)
		}
		honest("a state-override "+method, a)
		transaction("a state-override "+method, a)
	}

	// (b) anvil_setStorageAt, a call, evm_revert.
	c, d := pairs[4].a, pairs[4].b
	var snap string
	if err := json.Unmarshal(rpc(t, n, "evm_snapshot"), &snap); err != nil {
		t.Fatal(err)
	}
	for slot, v := range pointing(c, d) {
		rpc(t, n, "anvil_setStorageAt", params.ModelRegistryAddress.Hex(), slot, v)
	}
	if got := decode(rpc(t, n, "eth_call", map[string]any{"to": precompile, "data": callData(c.id)}, "latest")); got != d.want {
		t.Fatalf("eth_call with C set to point at D computed %s, want D's %s", got, d.want)
	}
	var reverted bool
	if err := json.Unmarshal(rpc(t, n, "evm_revert", snap), &reverted); err != nil || !reverted {
		t.Fatalf("evm_revert: %v %v", reverted, err)
	}
	honest("anvil_setStorageAt and evm_revert", c)
	transaction("anvil_setStorageAt and evm_revert", c)
}
