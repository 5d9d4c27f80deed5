// Package devnode starts a development chain for tests and benchmarks:
// `infergeth devnet` or anvil, on a free port of 127.0.0.1, and kills it when
// asked. The end-to-end tests (tests/e2e) and the devnet benchmark
// (tests/bench/devnetbench) start their nodes with it, so both run the nodes
// the same way.
package devnode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ChainID is the chain id every node is started with (anvil's and Hardhat's
// default).
const ChainID = 31337

// StartTimeout bounds the wait for a node to answer JSON-RPC.
const StartTimeout = 30 * time.Second

// Spec says how to start one kind of node on a port.
type Spec struct {
	// Name is "anvil" or "infergeth".
	Name string
	// Path is the binary.
	Path string
	// Args are its arguments for a port.
	Args func(port string) []string
}

// Anvil runs anvil on 127.0.0.1 with chain id 31337 and extra flags.
func Anvil(path string, extra ...string) Spec {
	return Spec{Name: "anvil", Path: path, Args: func(port string) []string {
		return append([]string{"--host", "127.0.0.1", "--port", port, "--chain-id", strconv.Itoa(ChainID)}, extra...)
	}}
}

// Infergeth runs `infergeth devnet` with chain id 31337 and extra flags.
func Infergeth(path string, extra ...string) Spec {
	return Spec{Name: "infergeth", Path: path, Args: func(port string) []string {
		return append([]string{"devnet", "--http.port", port, "--chain-id", strconv.Itoa(ChainID)}, extra...)
	}}
}

// Node is a started node.
type Node struct {
	// URL and WS are its JSON-RPC endpoints (WebSocket on the same port).
	URL, WS string
	// Version is its answer to web3_clientVersion.
	Version string

	cmd    *exec.Cmd
	log    *tailBuffer
	exited chan struct{}
}

// Start starts a node on a free port and waits until it answers JSON-RPC
// with chain id 31337. It tries three ports, in case one is taken between
// choosing and binding it.
func Start(spec Spec) (*Node, error) {
	var lastErr error
	for range 3 {
		n, err := tryStart(spec)
		if err == nil {
			return n, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("starting %s: %w", spec.Name, lastErr)
}

func tryStart(spec Spec) (*Node, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	n := &Node{
		URL:    "http://127.0.0.1:" + port,
		WS:     "ws://127.0.0.1:" + port,
		cmd:    exec.Command(spec.Path, spec.Args(port)...),
		log:    &tailBuffer{max: 256 << 10},
		exited: make(chan struct{}),
	}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Path, err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	deadline := time.Now().Add(StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return nil, fmt.Errorf("%s exited before serving (%v):\n%s", spec.Name, n.cmd.ProcessState, n.Log(4<<10))
		default:
		}
		var id string
		if err := call(n.URL, "eth_chainId", &id); err == nil {
			if id != fmt.Sprintf("0x%x", ChainID) {
				n.Stop()
				return nil, fmt.Errorf("%s: eth_chainId = %s, want 0x%x", spec.Name, id, ChainID)
			}
			if err := call(n.URL, "web3_clientVersion", &n.Version); err != nil {
				n.Stop()
				return nil, fmt.Errorf("%s: %w", spec.Name, err)
			}
			return n, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.Stop()
	return nil, fmt.Errorf("%s did not answer eth_chainId on %s within %v:\n%s", spec.Name, n.URL, StartTimeout, n.Log(4<<10))
}

// Stop kills the node and waits for it to exit.
func (n *Node) Stop() {
	select {
	case <-n.exited:
	default:
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// CPUTime is the CPU time (user and system) the node has used so far, read
// from /proc (Linux only; ok is false elsewhere or once it exited).
func (n *Node) CPUTime() (d time.Duration, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are fields 14 and 15 of the line, in USER_HZ (100 per second on
	// Linux, a fixed ABI value).
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(raw[i+1:]))
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * (time.Second / 100), true
}

// Log returns the last max bytes of the node's output.
func (n *Node) Log(max int) string { return n.log.tail(max) }

// call makes a parameterless JSON-RPC call.
func call(url, method string, out any) error {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":[]}`, method)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
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
	return json.Unmarshal(reply.Result, out)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > n {
		return "..." + string(b.buf[len(b.buf)-n:])
	}
	return string(b.buf)
}
