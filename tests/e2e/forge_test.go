//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestForgeScript deploys with `forge script --broadcast`, the way dApp
// projects deploy, then checks the chain with cast. The second run passes
// --skip-simulation, which a script needs when one of its transactions
// itself calls a model (forge's on-chain simulation has no precompile; see
// README.md and starter_test.go).
func TestForgeScript(t *testing.T) {
	n := startNode(t)
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"broadcast", nil},
		{"broadcast skip-simulation", []string{"--skip-simulation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broadcast := t.TempDir()
			args := append([]string{"script", "script/Deploy.s.sol:Deploy",
				"--rpc-url", n.URL, "--private-key", key0, "--broadcast"}, tc.extra...)
			out := run(t, setup.e2eDir, forgeEnv(broadcast), filepath.Join(setup.toolsBin, "forge"), args...)
			if !strings.Contains(out, "ONCHAIN EXECUTION COMPLETE & SUCCESSFUL") {
				t.Fatalf("forge script did not report success:\n%s", out)
			}
			record := readBroadcast(t, filepath.Join(broadcast, "Deploy.s.sol", "31337", "run-latest.json"))
			if len(record.Transactions) != 3 || len(record.Receipts) != 3 {
				t.Fatalf("broadcast: %d transactions, %d receipts, want 3 and 3", len(record.Transactions), len(record.Receipts))
			}
			for i, r := range record.Receipts {
				if r.Status != "0x1" {
					t.Errorf("receipt %d status %s", i, r.Status)
				}
			}
			create := record.Transactions[0]
			if create.TransactionType != "CREATE" || create.ContractName != "Counter" {
				t.Fatalf("first transaction %+v, want CREATE of Counter", create)
			}
			if got := cast(t, n, "call", create.ContractAddress, "count()(uint256)"); got != "42" {
				t.Errorf("count() of the deployed Counter = %s, want 42", got)
			}
		})
	}
}
