package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestProtocolErrors sends malformed and unusual requests over HTTP: each
// gets a JSON-RPC answer (or an HTTP refusal for an oversized body), never a
// crash.
func TestProtocolErrors(t *testing.T) {
	tn := newTestNode(t, func(c *Config) {
		c.BatchItemLimit = 4
		c.BodyLimit = 2048
	})
	for _, tc := range []struct {
		name     string
		body     string
		status   int
		contains string
	}{
		{"malformed json", `{"jsonrpc":"2.0","id":1,"method":`, 200, `"code":-32700`},
		{"not an object", `42`, 200, `"code":-32600`},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}`, 200, `"code":-32601`},
		{"no params", `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}`, 200, `"result":"0x0"`},
		{"null params", `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":null}`, 200, `"result":"0x7a69"`},
		{"wrong param type", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[42]}`, 200, `"code":-32602`},
		{"missing required param", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[]}`, 200, `"code":-32602`},
		{"empty batch", `[]`, 200, `"code":-32600`},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"net_version"}]`, 200, `"result":"31337"`},
		{"batch too large", `[` + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},`, 4) + `{"jsonrpc":"2.0","id":5,"method":"eth_chainId"}]`, 200, `batch too large`},
		{"oversized body", `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"data":"0x` + strings.Repeat("00", 2048) + `"}]}`, http.StatusRequestEntityTooLarge, ``},
		{"eth_call bad block", `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{},"bogus"]}`, 200, `"code":-32602`},
		{"eth_call too many params", `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{},"latest",{},{},{}]}`, 200, `"code":-32602`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tn.post(tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d (body %s)", status, tc.status, body)
			}
			if !strings.Contains(body, tc.contains) {
				t.Fatalf("body %s does not contain %s", body, tc.contains)
			}
		})
	}
}

// TestFastPathMatchesServer compares eth_call answered by the fast path
// (a single request) with the same call answered by geth's server (inside a
// batch, which the fast path never takes).
func TestFastPathMatchesServer(t *testing.T) {
	tn := newTestNode(t)
	reverter := tn.deploy(initCode(reverterCode))
	clock := tn.deploy(initCode(clockCode))
	for _, params := range []string{
		fmt.Sprintf(`[{"to":"%s"}]`, clock),
		fmt.Sprintf(`[{"to":"%s"},"latest"]`, clock),
		fmt.Sprintf(`[{"to":"%s"},"latest",null,{"time":"0x10"}]`, clock),
		fmt.Sprintf(`[{"to":"%s"}]`, reverter),
		fmt.Sprintf(`[{"to":"%s","gas":"0x1"}]`, clock),
		fmt.Sprintf(`[{"to":"%s"},"0x999"]`, clock),
		fmt.Sprintf(`[{"from":"%s","to":"%s","value":"0xffffffffffffffffffffffffffffffffffff","gasPrice":"0x1"}]`, tn.addr(2), clock),
	} {
		single := fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"method":"eth_call","params":%s}`, params)
		_, fast := tn.post(single)
		_, batch := tn.post("[" + single + "]")
		var one json.RawMessage
		var many []json.RawMessage
		if err := json.Unmarshal([]byte(fast), &one); err != nil {
			t.Fatalf("%s: %v", fast, err)
		}
		if err := json.Unmarshal([]byte(batch), &many); err != nil || len(many) != 1 {
			t.Fatalf("%s: %v", batch, err)
		}
		if !jsonEqual(t, one, many[0]) {
			t.Errorf("params %s:\n fast path %s\n server    %s", params, one, many[0])
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}
