//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergeth/infergeth/tests/devnode"
)

// The first dev accounts of the mnemonic "test test ... junk" (anvil's and
// Hardhat's), which every devnet funds.
const (
	chainID = devnode.ChainID
	key0    = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	addr0   = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
	addr1   = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
)

// Bounds on the commands the tests run (nodes: devnode.StartTimeout).
const (
	commandTimeout = 90 * time.Second
	buildTimeout   = 5 * time.Minute
)

// setup is what TestMain prepared: where the tools are, the compiled
// contracts, and which node the tests run against.
var setup struct {
	root      string // repository root
	e2eDir    string // tests/e2e
	toolsBin  string // tests/tools/node_modules/.bin
	scratch   string // temporary folder, removed at the end
	artifacts string // forge's output folder (ARTIFACTS for the JS tests)
	kind      string // "infergeth" or "anvil"
	infergeth string // the infergeth binary
}

func TestMain(m *testing.M) {
	code, err := prepare()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		code = 1
	} else {
		code = m.Run()
	}
	if setup.scratch != "" {
		os.RemoveAll(setup.scratch)
	}
	os.Exit(code)
}

// prepare checks the tools, picks the node, builds infergeth if needed and
// compiles the contracts once for every test.
func prepare() (int, error) {
	var err error
	if setup.e2eDir, err = filepath.Abs("."); err != nil {
		return 1, err
	}
	setup.root = filepath.Dir(filepath.Dir(setup.e2eDir))
	setup.toolsBin = filepath.Join(setup.root, "tests", "tools", "node_modules", ".bin")
	for _, tool := range []string{"forge", "cast", "anvil"} {
		if _, err := os.Stat(filepath.Join(setup.toolsBin, tool)); err != nil {
			return 1, fmt.Errorf("%s is not installed in %s: run `make tools` (npm ci --prefix tests/tools)", tool, setup.toolsBin)
		}
	}
	for _, mod := range []string{"ethers", "viem", "solc"} {
		if _, err := os.Stat(filepath.Join(setup.root, "tests", "tools", "node_modules", mod, "package.json")); err != nil {
			return 1, fmt.Errorf("npm package %s is not installed: run `make tools`", mod)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		return 1, fmt.Errorf("node (Node.js 20 or later) is not on PATH: %w", err)
	}
	setup.kind = os.Getenv("E2E_NODE")
	if setup.kind == "" {
		setup.kind = defaultNode
	}
	if setup.kind != "infergeth" && setup.kind != "anvil" {
		return 1, fmt.Errorf("E2E_NODE=%q: want infergeth or anvil", setup.kind)
	}
	if setup.scratch, err = os.MkdirTemp("", "infergeth-e2e-"); err != nil {
		return 1, err
	}
	if setup.kind == "infergeth" {
		if setup.infergeth, err = infergethBinary(); err != nil {
			return 1, err
		}
	}
	setup.artifacts = filepath.Join(setup.scratch, "out")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(setup.toolsBin, "forge"), "build")
	cmd.Dir = setup.e2eDir
	cmd.Env = forgeEnv(filepath.Join(setup.scratch, "broadcast"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("forge build: %w\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: clients against %s (E2E_NODE=anvil|infergeth)\n", setup.kind)
	return 0, nil
}

// defaultNode is the node the tests run against when E2E_NODE is unset;
// E2E_NODE=anvil runs the same tests against anvil 1.7.1, the reference.
const defaultNode = "infergeth"

// infergethBinary is INFERGETH_BIN (what `make` built) or a fresh build.
func infergethBinary() (string, error) {
	if bin := os.Getenv("INFERGETH_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("INFERGETH_BIN: %w", err)
		}
		return filepath.Abs(bin)
	}
	bin := filepath.Join(setup.scratch, "infergeth")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/infergeth")
	cmd.Dir = setup.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/infergeth: %w\n%s", err, out)
	}
	return bin, nil
}

// forgeEnv points forge's outputs at the scratch folder, so that the tests
// write nothing into the repository.
func forgeEnv(broadcast string) []string {
	return append(os.Environ(),
		"FOUNDRY_OUT="+filepath.Join(setup.scratch, "out"),
		"FOUNDRY_CACHE_PATH="+filepath.Join(setup.scratch, "cache"),
		"FOUNDRY_BROADCAST="+broadcast,
		"FOUNDRY_DISABLE_NIGHTLY_WARNING=1",
		"NO_COLOR=1",
	)
}

// startNode starts a fresh node on a free 127.0.0.1 port with the dev
// accounts funded, and kills it when the test ends; its log is printed if the
// test failed.
func startNode(t *testing.T) *devnode.Node {
	t.Helper()
	spec := devnode.Anvil(filepath.Join(setup.toolsBin, "anvil"), "--accounts", "10", "--balance", "10000")
	if setup.kind == "infergeth" {
		spec = devnode.Infergeth(setup.infergeth, "--accounts", "10", "--balance", "10000")
	}
	n, err := devnode.Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("%s log (last 8 KiB):\n%s", setup.kind, n.Log(8<<10))
		}
	})
	return n
}

// run runs a tool with a bounded time and returns its standard output; the
// test fails with all output if it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// tryRun is run without failing the test.
func tryRun(dir string, env []string, name string, args ...string) (string, error) {
	return tryRunFor(commandTimeout, dir, env, name, args...)
}

// tryRunFor is tryRun with its own time bound (a compilation from scratch).
func tryRunFor(timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v", timeout)
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\nstdout:\n%s\nstderr:\n%s",
			filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}
