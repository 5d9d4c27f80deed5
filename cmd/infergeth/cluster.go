package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/infergeth/infergeth/consensus/bft"
	"github.com/infergeth/infergeth/params"
)

// clusterReadyPrefix starts the line `cluster run` prints when every node
// serves JSON-RPC.
const clusterReadyPrefix = "infergeth cluster ready:"

func runCluster(args []string, stdout, stderr io.Writer) error {
	return dispatch("cluster", map[string]command{
		"init": {"write the homes of a loopback validator network", runClusterInit},
		"run":  {"start every node of a cluster folder and print their RPC URLs", runClusterRun},
	}, args, stdout, stderr)
}

const clusterInitUsage = `Usage: infergeth cluster init --out DIR [flags]

Writes DIR/node0 ... DIR/nodeN-1, the homes of an N-validator network on
127.0.0.1: keys, one CometBFT genesis (the funded accounts of the test
mnemonic, the model registry with the demo models), distinct ports and
every other node as a persistent peer. Run it with 'infergeth cluster run DIR'.

Flags:
`

func runClusterInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clusterInitUsage); fs.PrintDefaults() }
	out := fs.String("out", "", "folder to write the node homes into (required)")
	validators := fs.Int("validators", 4, "number of validators (4 tolerates one faulty)")
	basePort := fs.Int("base-port", 0, "node i listens for peers on BASE+2i and serves JSON-RPC on BASE+2i+1; 0 picks free ports")
	chainID := fs.Uint64("chain-id", params.DevnetChainID, "EVM chain id")
	accounts := fs.Int("accounts", params.DevnetAccounts, "development accounts of --mnemonic funded at genesis")
	balance := fs.String("balance", strconv.Itoa(params.DevnetBalanceEther), "balance of each funded account, in ether")
	mnemonic := fs.String("mnemonic", params.DevnetMnemonic, "BIP-39 mnemonic the funded accounts derive from")
	gasLimit := fs.Uint64("gas-limit", params.DevnetGasLimit, "block gas limit")
	baseFee := fs.Uint64("base-fee", params.DevnetBaseFee, "base fee of the genesis block, in wei")
	noDemos := fs.Bool("no-demo-models", false, "do not register the demo models at genesis")
	interval := fs.Duration("empty-block-interval", bft.DefaultEmptyBlockInterval, "how long an idle proposer waits before an empty block")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "cluster init: --out is required")
		fs.Usage()
		return errUsage
	case *validators < 1 || *validators > 64:
		return errors.New("--validators must be in [1, 64]")
	case *basePort < 0 || *basePort+2**validators > 65535:
		return fmt.Errorf("--base-port %d out of range", *basePort)
	case *gasLimit < 21000:
		return errors.New("--gas-limit must be at least 21000")
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: choose another --out or remove it", *out)
	}
	p := networkParams{
		ChainID: *chainID, Timestamp: uint64(time.Now().Unix()), GasLimit: *gasLimit, BaseFee: *baseFee,
		Mnemonic: *mnemonic, Accounts: *accounts, BalanceEther: *balance, DemoModels: !*noDemos,
	}
	genesisChain, err := p.genesisChain()
	if err != nil {
		return err
	}
	ports, err := clusterPorts(*basePort, 2**validators)
	if err != nil {
		return err
	}
	ids := make([]bft.Identity, *validators)
	homes := make([]string, *validators)
	for i := range ids {
		homes[i] = filepath.Join(*out, fmt.Sprintf("node%d", i))
		if ids[i], err = bft.InitHome(homes[i], fmt.Sprintf("node%d", i)); err != nil {
			return err
		}
	}
	vals := make([]cmttypes.GenesisValidator, len(ids))
	for i, id := range ids {
		vals[i] = id.Validator
	}
	rawParams, err := json.Marshal(p)
	if err != nil {
		return err
	}
	doc, err := bft.NewGenesis(p.cometChainID(), genesisChain, vals, bft.AppState{Params: rawParams, GenesisHash: genesisChain.Genesis().Hash()})
	if err != nil {
		return err
	}
	for i, home := range homes {
		if err := doc.SaveAs(bft.GenesisFile(home)); err != nil {
			return fmt.Errorf("write genesis: %w", err)
		}
		var peers []string
		for j, id := range ids {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", id.NodeID, ports[2*j]))
			}
		}
		s := nodeSettings{
			Moniker:            fmt.Sprintf("node%d", i),
			P2PAddr:            fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			HTTPAddr:           fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			Peers:              peers,
			EmptyBlockInterval: interval.String(),
		}
		if err := writeSettings(home, s); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  validator  node-id=%s p2p=%s http=http://%s\n", home, ids[i].NodeID, s.P2PAddr, s.HTTPAddr)
	}
	fmt.Fprintf(stdout, "\nchain id %d, %d validators, genesis %x\nstart it with: infergeth cluster run %s\n", p.ChainID, *validators, genesisChain.Genesis().Hash(), *out)
	return nil
}

// clusterPorts returns n ports: BASE, BASE+1, ... or, with base 0, free
// ports of 127.0.0.1 (all held open until all are chosen, so none repeats).
func clusterPorts(base, n int) ([]int, error) {
	ports := make([]int, n)
	if base > 0 {
		for i := range ports {
			ports[i] = base + i
		}
		return ports, nil
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

const clusterRunUsage = `Usage: infergeth cluster run DIR [flags]

Starts 'infergeth node --home H' for every home H in DIR (as written by
'cluster init'), each in its own process with its log in H/node.log, and
prints each node's JSON-RPC URL. Ctrl-C stops them all.

Flags:
`

func runClusterRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clusterRunUsage); fs.PrintDefaults() }
	verbosity := fs.String("verbosity", "info", "log level of the nodes (their logs are in DIR/nodeI/node.log)")
	backend := fs.String("backend", "auto", "inference backend of every node")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	homes, err := clusterHomes(pos[0])
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var procs []*exec.Cmd
	stopAll := func() {
		for _, c := range procs {
			c.Process.Signal(syscall.SIGTERM)
		}
		for _, c := range procs {
			done := make(chan struct{})
			go func() { c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				c.Process.Kill()
				<-done
			}
		}
	}
	var urls []string
	exited := make(chan string, len(homes))
	for _, home := range homes {
		logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			stopAll()
			return err
		}
		c := exec.Command(exe, "node", "--home", home, "--verbosity", *verbosity, "--backend", *backend)
		c.Stderr = logf
		out, err := c.StdoutPipe()
		if err != nil {
			stopAll()
			return err
		}
		if err := c.Start(); err != nil {
			stopAll()
			return fmt.Errorf("start node %s: %w", home, err)
		}
		procs = append(procs, c)
		line, err := readReadyLine(out, nodeReadyPrefix, 60*time.Second)
		if err != nil {
			stopAll()
			return fmt.Errorf("node %s: %w (see %s)", home, err, filepath.Join(home, "node.log"))
		}
		url := fieldOf(line, "http")
		urls = append(urls, url)
		fmt.Fprintf(stdout, "%-24s JSON-RPC %s  (log: %s)\n", home, url, filepath.Join(home, "node.log"))
		h := home
		go func() { io.Copy(io.Discard, out); c.Wait(); logf.Close(); exited <- h }()
	}
	fmt.Fprintf(stdout, "%s http=%s\n", clusterReadyPrefix, strings.Join(urls, ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	for {
		select {
		case <-sig:
			stopAll()
			return nil
		case h := <-exited:
			fmt.Fprintf(stdout, "node %s exited (see %s)\n", h, filepath.Join(h, "node.log"))
		}
	}
}

// clusterHomes lists the node homes in dir, in order.
func clusterHomes(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var homes []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), settingsFile)); e.IsDir() && err == nil {
			homes = append(homes, filepath.Join(dir, e.Name()))
		}
	}
	if len(homes) == 0 {
		return nil, fmt.Errorf("%s holds no node homes: run 'infergeth cluster init --out %s' first", dir, dir)
	}
	sort.Slice(homes, func(i, j int) bool { return homeIndex(homes[i]) < homeIndex(homes[j]) })
	return homes, nil
}

func homeIndex(home string) int {
	n, err := strconv.Atoi(strings.TrimLeft(filepath.Base(home), "abcdefghijklmnopqrstuvwxyz"))
	if err != nil {
		return 1 << 30
	}
	return n
}

// readReadyLine waits for the line starting with prefix on r.
func readReadyLine(r io.Reader, prefix string, timeout time.Duration) (string, error) {
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				lines <- sc.Text()
				return
			}
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			return "", errors.New("exited before it was ready")
		}
		return line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("not ready after %s", timeout)
	}
}

// fieldOf returns the value of key=value in a ready line.
func fieldOf(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}
