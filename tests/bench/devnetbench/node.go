package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// chainID is the devnets' chain id (anvil's default; infergeth's too).
const chainID = 31337

// nodeSpec says how to start one kind of node on a port.
type nodeSpec struct {
	name string
	path string
	args func(port string) []string
}

// anvilSpec runs anvil with its defaults (instant mining, request logging),
// as a developer runs it.
func anvilSpec(path string) nodeSpec {
	return nodeSpec{name: "anvil", path: path, args: func(port string) []string {
		return []string{"--host", "127.0.0.1", "--port", port, "--chain-id", strconv.Itoa(chainID)}
	}}
}

// infergethSpec runs `infergeth devnet` with its defaults (a block per
// transaction, in memory).
func infergethSpec(path string) nodeSpec {
	return nodeSpec{name: "infergeth", path: path, args: func(port string) []string {
		return []string{"devnet", "--http.port", port, "--chain-id", strconv.Itoa(chainID)}
	}}
}

// node is a started node.
type node struct {
	url, version string
	cmd          *exec.Cmd
	log          *tailBuffer
	exited       chan struct{}
}

const startTimeout = 30 * time.Second

func start(spec nodeSpec) (*node, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a port taken in between: try another
		n, err := tryStart(spec)
		if err == nil {
			return n, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStart(spec nodeSpec) (*node, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	n := &node{
		url:    "http://127.0.0.1:" + port,
		cmd:    exec.Command(spec.path, spec.args(port)...),
		log:    &tailBuffer{max: 64 << 10},
		exited: make(chan struct{}),
	}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", spec.path, err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	c := newClient(n.url, 1)
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return nil, fmt.Errorf("%s exited before serving (%v):\n%s", spec.name, n.cmd.ProcessState, n.log.tail(4<<10))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.call(ctx, "web3_clientVersion", nil, &n.version)
		cancel()
		if err == nil {
			return n, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.stop()
	return nil, fmt.Errorf("%s did not answer on %s within %v:\n%s", spec.name, n.url, startTimeout, n.log.tail(4<<10))
}

func (n *node) stop() {
	select {
	case <-n.exited:
	default:
		n.cmd.Process.Kill()
		<-n.exited
	}
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
		return string(b.buf[len(b.buf)-n:])
	}
	return string(b.buf)
}
