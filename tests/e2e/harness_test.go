//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The first dev accounts of the mnemonic "test test ... junk" (anvil's and
// Hardhat's), which every devnet funds.
const (
	chainID = 31337
	key0    = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	addr0   = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
	addr1   = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
)

// Bounds on everything the tests start.
const (
	nodeStartTimeout = 30 * time.Second
	commandTimeout   = 90 * time.Second
	buildTimeout     = 5 * time.Minute
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

// defaultNode is the node the tests run against when E2E_NODE is unset.
const defaultNode = "anvil"

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

// devnode is a running node: anvil or `infergeth devnet`.
type devnode struct {
	URL, WS string
	cmd     *exec.Cmd
	log     *lockedBuffer
	exited  chan struct{}
}

// startNode starts a fresh node on a free 127.0.0.1 port and kills it when
// the test ends; its log is printed if the test failed.
func startNode(t *testing.T) *devnode {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		n, err := tryStartNode()
		if err == nil {
			t.Cleanup(func() {
				n.stop()
				if t.Failed() {
					t.Logf("%s log (last 8 KiB):\n%s", setup.kind, n.log.tail(8<<10))
				}
			})
			return n
		}
		lastErr = err // most likely the port was taken in between: try another
	}
	t.Fatalf("starting %s: %v", setup.kind, lastErr)
	return nil
}

func tryStartNode() (*devnode, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := strconv.Itoa(port)
	var cmd *exec.Cmd
	switch setup.kind {
	case "anvil":
		cmd = exec.Command(filepath.Join(setup.toolsBin, "anvil"),
			"--host", "127.0.0.1", "--port", p, "--chain-id", strconv.Itoa(chainID),
			"--accounts", "10", "--balance", "10000")
	default:
		cmd = exec.Command(setup.infergeth, "devnet",
			"--http.port", p, "--chain-id", strconv.Itoa(chainID),
			"--accounts", "10", "--balance", "10000")
	}
	n := &devnode{
		URL:    "http://127.0.0.1:" + p,
		WS:     "ws://127.0.0.1:" + p,
		cmd:    cmd,
		log:    &lockedBuffer{},
		exited: make(chan struct{}),
	}
	cmd.Stdout, cmd.Stderr = n.log, n.log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd.Path, err)
	}
	go func() { cmd.Wait(); close(n.exited) }()
	deadline := time.Now().Add(nodeStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return nil, fmt.Errorf("%s exited before serving (%v):\n%s", setup.kind, cmd.ProcessState, n.log.tail(4<<10))
		default:
		}
		var id string
		if err := rpcCall(n.URL, "eth_chainId", nil, &id); err == nil {
			if id != fmt.Sprintf("0x%x", chainID) {
				n.stop()
				return nil, fmt.Errorf("eth_chainId = %s, want 0x%x", id, chainID)
			}
			return n, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.stop()
	return nil, fmt.Errorf("%s did not answer eth_chainId on %s within %v:\n%s", setup.kind, n.URL, nodeStartTimeout, n.log.tail(4<<10))
}

func (n *devnode) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	n.cmd.Process.Kill()
	<-n.exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// rpcCall makes one JSON-RPC call over HTTP and decodes the result into out.
func rpcCall(url, method string, params []any, out any) error {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		return err
	}
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return fmt.Errorf("%s: HTTP %s: %w", method, resp.Status, err)
	}
	if reply.Error != nil {
		return fmt.Errorf("%s: error %d: %s", method, reply.Error.Code, reply.Error.Message)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(reply.Result, out); err != nil {
		return fmt.Errorf("%s: result %s: %w", method, reply.Result, err)
	}
	return nil
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
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v", commandTimeout)
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\nstdout:\n%s\nstderr:\n%s",
			filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
