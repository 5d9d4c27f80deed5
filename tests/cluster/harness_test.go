//go:build cluster

package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/params"
)

// Bounds of every wait; a test that needs longer has failed.
const (
	readyTimeout = 60 * time.Second
	waitTimeout  = 90 * time.Second
)

// binary is the infergeth binary under test; faultBinary the same built
// with -tags faultinject.
func binaryFrom(t *testing.T, env string) string {
	t.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		t.Fatalf("%s is not set: run the cluster tests with `make test-cluster`", env)
	}
	return bin
}

// node is one `infergeth node` process.
type node struct {
	t      *testing.T
	name   string
	home   string
	bin    string
	env    []string
	args   []string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	url    string
	id     string
	client *ethclient.Client
	log    string
}

// cluster is N validators initialised by `infergeth cluster init`.
type cluster struct {
	t     *testing.T
	dir   string
	nodes []*node
	keys  []*ecdsa.PrivateKey
	addrs []common.Address
}

func newCluster(t *testing.T, validators int) *cluster {
	t.Helper()
	bin := binaryFrom(t, "INFERGETH_BIN")
	dir := t.TempDir()
	out, err := exec.Command(bin, "cluster", "init", "--out", dir, "--validators", fmt.Sprint(validators)).CombinedOutput()
	if err != nil {
		t.Fatalf("cluster init: %v\n%s", err, out)
	}
	accounts, err := devkeys.Derive(params.DevnetMnemonic, params.DevnetAccounts)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, dir: dir}
	for _, a := range accounts {
		c.keys = append(c.keys, a.Key)
		c.addrs = append(c.addrs, a.Address)
	}
	for i := 0; i < validators; i++ {
		name := fmt.Sprintf("node%d", i)
		c.nodes = append(c.nodes, &node{t: t, name: name, home: filepath.Join(dir, name), bin: bin})
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.kill()
		}
		if t.Failed() {
			for _, n := range c.nodes {
				n.dumpLog()
			}
		}
	})
	return c
}

// start runs the node and waits for its ready line.
func (n *node) start() {
	n.t.Helper()
	if err := os.MkdirAll(n.home, 0o755); err != nil {
		n.t.Fatal(err)
	}
	n.log = filepath.Join(n.home, fmt.Sprintf("node-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(n.log)
	if err != nil {
		n.t.Fatal(err)
	}
	args := append([]string{"node", "--home", n.home, "--verbosity", "info"}, n.args...)
	cmd := exec.Command(n.bin, args...)
	cmd.Env = append(os.Environ(), n.env...)
	// A test binary killed by its timeout takes its nodes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start %s: %v", n.name, err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "infergeth node ready:") {
				ready <- sc.Text()
			}
		}
	}()
	go func() { n.err = cmd.Wait(); logf.Close(); close(n.done) }()
	select {
	case line := <-ready:
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "http="); ok {
				n.url = v
			}
			if v, ok := strings.CutPrefix(f, "node-id="); ok {
				n.id = v
			}
		}
	case <-n.done:
		n.dumpLog()
		n.t.Fatalf("%s exited before it was ready: %v", n.name, n.err)
	case <-time.After(readyTimeout):
		n.dumpLog()
		n.t.Fatalf("%s not ready after %s", n.name, readyTimeout)
	}
	n.client, err = ethclient.Dial(n.url)
	if err != nil {
		n.t.Fatal(err)
	}
}

// nodeID is the node's p2p identity, from its ready line.
func (n *node) nodeID() string { return n.id }

func (n *node) running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// kill stops the process with SIGKILL (kill -9) and waits for it.
func (n *node) kill() {
	if !n.running() {
		return
	}
	n.cmd.Process.Signal(syscall.SIGCONT)
	n.cmd.Process.Kill()
	<-n.done
	if n.client != nil {
		n.client.Close()
	}
}

func (n *node) signal(s syscall.Signal) {
	n.t.Helper()
	if err := n.cmd.Process.Signal(s); err != nil {
		n.t.Fatalf("%s: signal %v: %v", n.name, s, err)
	}
}

// logText is everything the node logged so far, all runs.
func (n *node) logText() string {
	files, _ := filepath.Glob(filepath.Join(n.home, "node-*.log"))
	var b bytes.Buffer
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}

func (n *node) dumpLog() {
	text := n.logText()
	lines := strings.Split(text, "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	n.t.Logf("--- last lines of %s's log:\n%s", n.name, strings.Join(lines, "\n"))
}

func (c *cluster) startAll() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.start() }()
	}
	wg.Wait()
	if c.t.Failed() {
		c.t.FailNow()
	}
}

// head is a node's latest block number.
func (n *node) head() uint64 {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := n.client.BlockNumber(ctx)
	if err != nil {
		n.t.Fatalf("%s: eth_blockNumber: %v", n.name, err)
	}
	return h
}

// waitHead waits until the node's head is at least number.
func (n *node) waitHead(number uint64) {
	n.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for n.head() < number {
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: head %d, still below %d after %s", n.name, n.head(), number, waitTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReceipt waits for a transaction's receipt on n.
func (n *node) waitReceipt(hash common.Hash) *types.Receipt {
	n.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := n.client.TransactionReceipt(ctx, hash)
		cancel()
		if err == nil && r != nil {
			return r
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: no receipt for %x after %s (last error %v)", n.name, hash, waitTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assertAgree checks that every running node has the same hash and state
// root at every block up to the lowest head.
func (c *cluster) assertAgree(nodes ...*node) uint64 {
	c.t.Helper()
	if len(nodes) == 0 {
		nodes = c.nodes
	}
	low := ^uint64(0)
	for _, n := range nodes {
		low = min(low, n.head())
	}
	for num := uint64(0); num <= low; num++ {
		var want *types.Header
		for _, n := range nodes {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			h, err := n.client.HeaderByNumber(ctx, new(big.Int).SetUint64(num))
			cancel()
			if err != nil {
				c.t.Fatalf("%s: block %d: %v", n.name, num, err)
			}
			if want == nil {
				want = h
				continue
			}
			if h.Hash() != want.Hash() || h.Root != want.Root {
				c.t.Fatalf("fork at block %d: %s has %x (root %x), %s has %x (root %x)", num, nodes[0].name, want.Hash(), want.Root, n.name, h.Hash(), h.Root)
			}
		}
	}
	return low
}
