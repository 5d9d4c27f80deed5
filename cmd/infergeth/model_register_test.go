package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNode answers the few JSON-RPC methods model register asks before it
// sends anything: code is what eth_getCode returns for every address,
// registered what isRegistered (eth_call) says.
func fakeNode(t *testing.T, code string, registered bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var result any
		switch req.Method {
		case "eth_chainId":
			result = "0x7a69"
		case "eth_getCode":
			result = code
		case "eth_call":
			word := strings.Repeat("0", 63) + "0"
			if registered {
				word = strings.Repeat("0", 63) + "1"
			}
			result = "0x" + word
		default:
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32601, "message": "no " + req.Method}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const testKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

func mlpFile() string { return filepath.Join("..", "..", "tests", "vectors", "mlp", "model.bin") }

// TestModelRegisterAlreadyRegistered: a model the chain already has is not
// reported as registered by this run: stdout says "already registered", the
// ID is still the last line, and the exit status is 0.
func TestModelRegisterAlreadyRegistered(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"model", "register", "--quiet", "--rpc", fakeNode(t, "0x60", true), "--key", testKey, mlpFile()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	out := stdout.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.Contains(out, "already registered") || strings.Contains(out, "registered model") ||
		lines[len(lines)-1] != "0x47708a9201a89091e3f0299afea021b84d6f39a54da87b62abe203316c310f71" {
		t.Fatalf("stdout:\n%s", out)
	}
}

// TestModelRegisterMissingKeyNamesIt: usage alone does not say what is wrong.
func TestModelRegisterMissingKeyNamesIt(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"model", "register", mlpFile()}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "--key is required") {
		t.Fatalf("stderr does not name the missing flag:\n%s", stderr.String())
	}
	stderr.Reset()
	run([]string{"model", "register", "--key", testKey}, &stdout, &stderr)
	if !strings.Contains(stderr.String(), "one model FILE") {
		t.Fatalf("stderr does not name the missing file:\n%s", stderr.String())
	}
}

// TestModelRegisterNotInfergeth: a node with no registry gets a sentence,
// not "...: <nil>".
func TestModelRegisterNotInfergeth(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"model", "register", "--quiet", "--rpc", fakeNode(t, "0x", false), "--key", testKey, mlpFile()}, &stdout, &stderr); code == 0 {
		t.Fatal("exit 0 against a node with no registry")
	}
	msg := stderr.String()
	if strings.Contains(msg, "<nil>") || !strings.Contains(msg, "no model registry") {
		t.Fatalf("stderr: %s", msg)
	}
}
