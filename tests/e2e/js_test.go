//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestJS runs each js/*.test.js file (node's test runner; ethers v6 and viem
// from tests/tools) against a fresh node of its own.
func TestJS(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(setup.e2eDir, "js", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no js/*.test.js files (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if infergethOnly[filepath.Base(file)] && setup.kind != "infergeth" {
				t.Skip("the inference precompile exists only on infergeth")
			}
			n := startNode(t)
			env := append(os.Environ(),
				"RPC_URL="+n.URL,
				"WS_URL="+n.WS,
				"CHAIN_ID="+strconv.Itoa(chainID),
				"ARTIFACTS="+setup.artifacts,
				"E2E_NODE="+setup.kind,
			)
			out, err := tryRun(setup.e2eDir, env, "node", "--test", "--test-force-exit", "--test-reporter=spec", file)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkNodeSummary(out); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			t.Logf("node --test %s:\n%s", filepath.Base(file), out)
		})
	}
}

// infergethOnly are the files that need the inference precompile.
var infergethOnly = map[string]bool{"errors.test.js": true}

var summaryLine = regexp.MustCompile(`(?m)^\S+ (tests|pass|fail|cancelled|skipped|todo) (\d+)$`)

// checkNodeSummary refuses a run in which no test passed or any test was
// skipped, cancelled or left to do: only passing tests count.
func checkNodeSummary(out string) error {
	counts := map[string]int{}
	for _, m := range summaryLine.FindAllStringSubmatch(out, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(counts) == 0 {
		return fmt.Errorf("no summary from node --test")
	}
	if counts["pass"] == 0 || counts["pass"] != counts["tests"] ||
		counts["fail"]+counts["cancelled"]+counts["skipped"]+counts["todo"] != 0 {
		return fmt.Errorf("node --test summary %v: want every test passed", counts)
	}
	return nil
}
