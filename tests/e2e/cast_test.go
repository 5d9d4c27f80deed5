//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/infergeth/infergeth/tests/devnode"
)

// cast runs foundry's cast against node and returns its trimmed output.
func cast(t *testing.T, n *devnode.Node, args ...string) string {
	t.Helper()
	// The endpoint goes right after the subcommand: `cast send --create`
	// takes everything after the code as constructor arguments.
	args = append([]string{args[0], "--rpc-url", n.URL}, args[1:]...)
	return strings.TrimSpace(run(t, setup.e2eDir, forgeEnv(t.TempDir()), filepath.Join(setup.toolsBin, "cast"), args...))
}

// castSend sends a transaction signed by dev account 0 and returns the
// receipt cast prints.
func castSend(t *testing.T, n *devnode.Node, args ...string) castReceipt {
	t.Helper()
	out := cast(t, n, append([]string{"send", "--private-key", key0, "--json"}, args...)...)
	var r castReceipt
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("cast send %v: receipt %q: %v", args, out, err)
	}
	if r.Status != "0x1" {
		t.Fatalf("cast send %v: status %s, want 0x1", args, r.Status)
	}
	return r
}

type castReceipt struct {
	Status          string   `json:"status"`
	TransactionHash string   `json:"transactionHash"`
	ContractAddress string   `json:"contractAddress"`
	BlockNumber     string   `json:"blockNumber"`
	Logs            []rpcLog `json:"logs"`
}

type rpcLog struct {
	Address string   `json:"address"`
	Topics  []string `json:"topics"`
	Data    string   `json:"data"`
}

// bytecode is a contract's creation code from forge's artifacts.
func bytecode(t *testing.T, contract string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(setup.artifacts, contract+".sol", contract+".json"))
	if err != nil {
		t.Fatalf("artifact of %s: %v", contract, err)
	}
	var a struct {
		Bytecode struct {
			Object string `json:"object"`
		} `json:"bytecode"`
	}
	if err := json.Unmarshal(raw, &a); err != nil || len(a.Bytecode.Object) < 4 {
		t.Fatalf("artifact of %s: no bytecode (%v)", contract, err)
	}
	return a.Bytecode.Object
}

// word is v as a 32-byte hex word.
func word(hexNoPrefix string) string {
	return "0x" + strings.Repeat("0", 64-len(hexNoPrefix)) + hexNoPrefix
}

func TestCast(t *testing.T) {
	n := startNode(t)

	t.Run("chain", func(t *testing.T) {
		if got := cast(t, n, "chain-id"); got != "31337" {
			t.Errorf("cast chain-id = %q, want 31337", got)
		}
		if got := cast(t, n, "rpc", "web3_clientVersion"); len(got) < 3 {
			t.Errorf("web3_clientVersion = %q", got)
		}
		var block map[string]any
		if err := json.Unmarshal([]byte(cast(t, n, "block", "latest", "--json")), &block); err != nil {
			t.Fatal(err)
		}
		if _, ok := block["baseFeePerGas"]; !ok {
			t.Errorf("latest block has no baseFeePerGas: %v", block)
		}
		if got := cast(t, n, "balance", "--ether", addr1); got != "10000.000000000000000000" {
			t.Errorf("balance of dev account 1 = %s, want 10000 ether", got)
		}
	})

	t.Run("send value", func(t *testing.T) {
		r := castSend(t, n, addr1, "--value", "1ether")
		if got := cast(t, n, "balance", addr1); got != "10001000000000000000000" {
			t.Errorf("balance after receiving 1 ether = %s", got)
		}
		var tx struct {
			From string `json:"from"`
		}
		if err := json.Unmarshal([]byte(cast(t, n, "tx", r.TransactionHash, "--json")), &tx); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(tx.From, addr0) {
			t.Errorf("cast tx: from %s, want %s", tx.From, addr0)
		}
		var receipt castReceipt
		if err := json.Unmarshal([]byte(cast(t, n, "receipt", r.TransactionHash, "--json")), &receipt); err != nil {
			t.Fatal(err)
		}
		if receipt.Status != "0x1" || receipt.BlockNumber != r.BlockNumber {
			t.Errorf("cast receipt: %+v, want status 0x1 in block %s", receipt, r.BlockNumber)
		}
	})

	t.Run("deploy call logs", func(t *testing.T) {
		deploy := castSend(t, n, "--create", bytecode(t, "Counter"))
		counter := deploy.ContractAddress
		if code := cast(t, n, "code", counter); len(code) < 10 {
			t.Fatalf("no code at %s: %q", counter, code)
		}
		if got := cast(t, n, "call", counter, "count()(uint256)"); got != "0" {
			t.Errorf("count() = %s, want 0", got)
		}
		gas, err := strconv.ParseUint(cast(t, n, "estimate", "--from", addr0, counter, "increment()"), 10, 64)
		if err != nil || gas <= 21000 {
			t.Errorf("cast estimate increment() = %d (%v), want more than 21000", gas, err)
		}
		r1 := castSend(t, n, counter, "increment()")
		castSend(t, n, counter, "increment()")
		if got := cast(t, n, "call", counter, "count()(uint256)"); got != "2" {
			t.Errorf("count() after two increments = %s, want 2", got)
		}
		if len(r1.Logs) != 1 || !strings.EqualFold(r1.Logs[0].Address, counter) {
			t.Errorf("receipt logs = %+v, want one log of %s", r1.Logs, counter)
		}

		var logs []rpcLog
		out := cast(t, n, "logs", "--json", "--from-block", "0", "--address", counter, "Incremented(address indexed,uint256)")
		if err := json.Unmarshal([]byte(out), &logs); err != nil {
			t.Fatalf("cast logs: %q: %v", out, err)
		}
		if len(logs) != 2 {
			t.Fatalf("cast logs: %d logs, want 2: %s", len(logs), out)
		}
		by := word(strings.ToLower(addr0[2:]))
		for i, l := range logs {
			if len(l.Topics) != 2 || l.Topics[1] != by {
				t.Errorf("log %d topics %v, want [event, %s]", i, l.Topics, by)
			}
			if want := word(string(rune('1' + i))); l.Data != want {
				t.Errorf("log %d data %s, want %s", i, l.Data, want)
			}
		}
	})
}
