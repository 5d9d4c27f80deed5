//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/tests/devnode"
)

// freshModelText declares that input element 1 must be at most 60 s old.
const freshModelText = `
input x: int8[4]
y: int8[4] = Clamp(x) min=-100 max=100
output y
fresh element=1 maxAge=60
`

// TestInferenceEndToEnd: register models with the CLI, call them from a
// deployed contract, compare the bytes with `infergeth model run`; advance
// time and see StaleInput; the same through eth_call with a block-time
// override.
func TestInferenceEndToEnd(t *testing.T) {
	if setup.kind != "infergeth" {
		t.Skip("the inference precompile exists only on infergeth (E2E_NODE=anvil runs the client tests only)")
	}
	n := startNode(t)
	dir := t.TempDir()

	// A model with a freshness requirement, written to a file, and a
	// conformance vector's model.
	p, err := modeltext.Parse(freshModelText)
	if err != nil {
		t.Fatal(err)
	}
	freshFile := filepath.Join(dir, "fresh.bin")
	if err := os.WriteFile(freshFile, p.Bytes, 0o644); err != nil {
		t.Fatal(err)
	}
	oddFile := filepath.Join(setup.root, "tests/vectors/odd_shapes/model.bin")
	oddInput := strings.TrimSpace(readFile(t, filepath.Join(setup.root, "tests/vectors/odd_shapes/input.hex")))

	register := func(file string) string {
		out := run(t, setup.root, os.Environ(), setup.infergeth, "model", "register", "--quiet", "--rpc", n.URL, "--key", key0, "--metadata", "e2e", file)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		id := lines[len(lines)-1]
		var info struct{ ID string }
		inspect := run(t, setup.root, os.Environ(), setup.infergeth, "model", "inspect", file)
		if err := json.Unmarshal([]byte(inspect), &info); err != nil || info.ID != id {
			t.Fatalf("register printed %s, inspect says %s (%v)", id, info.ID, err)
		}
		return id
	}
	oddID := register(oddFile)
	freshID := register(freshFile)

	user := castSend(t, n, "--create", bytecode(t, "InferenceUser")).ContractAddress

	// The bytes a transaction stores are exactly what the CLI computes.
	castSend(t, n, user, "run(bytes32,bytes)", oddID, "0x"+oddInput)
	stored := cast(t, n, "call", user, "last()(bytes)")
	want := strings.TrimSpace(run(t, setup.root, os.Environ(), setup.infergeth, "model", "run", oddFile, "--input", oddInput))
	if stored != "0x"+want {
		t.Fatalf("contract stored %s, infergeth model run prints %s", stored, want)
	}
	// eth_call through the contract agrees, and so does the precompile directly.
	if got := cast(t, n, "call", "0x0000000000000000000000000000000000000A00", "infer(bytes32,bytes)(bytes)", oddID, "0x"+oddInput); got != "0x"+want {
		t.Fatalf("eth_call to the precompile: %s, want 0x%s", got, want)
	}

	// Gas estimation runs the precompile through the same factory: a
	// transaction with exactly the estimate succeeds.
	runArgs := []string{user, "run(bytes32,bytes)", oddID, "0x" + oddInput}
	estimate := cast(t, n, append([]string{"estimate"}, runArgs...)...)
	castSend(t, n, append([]string{"--gas-limit", estimate}, runArgs...)...)

	// A callTracer trace shows the inline call to 0x0A00 and its output.
	runData := strings.TrimSpace(run(t, setup.e2eDir, forgeEnv(t.TempDir()), filepath.Join(setup.toolsBin, "cast"), "calldata", "run(bytes32,bytes)", oddID, "0x"+oddInput))
	trace := rpc(t, n, "debug_traceCall", map[string]any{"from": addr0, "to": user, "data": runData}, "latest", map[string]any{"tracer": "callTracer"})
	var frame struct {
		Calls []struct {
			To     string `json:"to"`
			Type   string `json:"type"`
			Output string `json:"output"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(trace, &frame); err != nil || len(frame.Calls) == 0 {
		t.Fatalf("callTracer: %s (%v)", trace, err)
	}
	inner := frame.Calls[0]
	if !strings.EqualFold(inner.To, "0x0000000000000000000000000000000000000a00") || inner.Type != "STATICCALL" || !strings.Contains(inner.Output, want) {
		t.Fatalf("trace of the inline call: %+v, want a STATICCALL to 0x0A00 returning %s", inner, want)
	}

	// Freshness: observe now, then a fresh call succeeds...
	input := "0x01020304"
	castSend(t, n, user, "observe()")
	castSend(t, n, user, "runFresh(bytes32,bytes,uint32,uint64)", freshID, input, "1", "1000")
	if got := cast(t, n, "call", user, "last()(bytes)"); got != input {
		t.Fatalf("fresh run stored %s", got)
	}
	observed, err := strconv.ParseUint(strings.Fields(cast(t, n, "call", user, "observedAt()(uint64)"))[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	// ...until time moves past the model's 60 s: StaleInput, in a
	// transaction (which reverts) and in eth_call.
	rpc(t, n, "evm_increaseTime", 61)
	rpc(t, n, "evm_mine")
	stale := fmt.Sprintf("%x", crypto.Keccak256([]byte("StaleInput(uint256,uint64,uint64,uint64)"))[:4])
	out, err := tryRun(setup.e2eDir, forgeEnv(t.TempDir()), filepath.Join(setup.toolsBin, "cast"), "send", "--rpc-url", n.URL,
		"--private-key", key0, user, "runFresh(bytes32,bytes,uint32,uint64)", freshID, input, "1", "1000")
	if err == nil || !strings.Contains(err.Error(), stale) {
		t.Fatalf("stale runFresh: want a revert with StaleInput (0x%s), got %v\n%s", stale, err, out)
	}

	// eth_call with a block-time override: the same call, one second inside
	// and one second past the model's 60 s from the observation.
	call := map[string]any{"to": user, "data": runFreshCalldata(t, freshID, input)}
	for _, c := range []struct {
		at    uint64
		stale bool
	}{{observed + 60, false}, {observed + 61, true}} {
		res, rpcErr := rpcCall(n, "eth_call", call, "latest", nil, map[string]any{"time": fmt.Sprintf("0x%x", c.at)})
		switch {
		case c.stale && (rpcErr == nil || !strings.Contains(rpcErr.Data, stale)):
			t.Fatalf("eth_call at time %d: want StaleInput data, got %s %+v", c.at, res, rpcErr)
		case !c.stale && rpcErr != nil:
			t.Fatalf("eth_call at time %d: %+v", c.at, rpcErr)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func runFreshCalldata(t *testing.T, id, input string) string {
	return strings.TrimSpace(run(t, setup.e2eDir, forgeEnv(t.TempDir()), filepath.Join(setup.toolsBin, "cast"),
		"calldata", "runFresh(bytes32,bytes,uint32,uint64)", id, input, "1", "1000"))
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

// rpcCall posts one JSON-RPC request and returns the result or the error.
func rpcCall(n *devnode.Node, method string, params ...any) (json.RawMessage, *rpcError) {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	resp, err := http.Post(n.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, &rpcError{Message: err.Error()}
	}
	defer resp.Body.Close()
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, &rpcError{Message: err.Error()}
	}
	return out.Result, out.Error
}

func rpc(t *testing.T, n *devnode.Node, method string, params ...any) json.RawMessage {
	t.Helper()
	res, err := rpcCall(n, method, params...)
	if err != nil {
		t.Fatalf("%s: %+v", method, err)
	}
	return res
}
