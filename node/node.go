package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/ethdb/pebble"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/infergeth/infergeth/consensus/bft"
	"github.com/infergeth/infergeth/consensus/dev"
	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// Config is everything a devnet node is started with.
type Config struct {
	Chain *params.ChainConfig
	// Genesis describes a new chain; it is ignored when DataDir already
	// holds one (with the same chain id).
	Genesis core.GenesisSpec
	// Accounts are the unlocked development accounts: eth_accounts lists
	// them and eth_sendTransaction signs with their keys.
	Accounts []devkeys.Account
	// DataDir keeps the chain on disk (pebble); empty keeps it in memory.
	DataDir string
	// BlockTime is the interval between blocks; zero mines per transaction.
	BlockTime time.Duration
	// Factory makes every EVM; nil makes plain geth EVMs.
	Factory *vm.Factory
	// Inference is the inference precompile the factory installs, for the
	// inference_ RPC namespace; nil serves no such namespace.
	Inference *vm.Inference
	// HTTPAddr is host:port for JSON-RPC over HTTP and WebSocket on the same
	// port; port 0 picks a free one.
	HTTPAddr string
	// WSAddr, when set, serves WebSocket on its own port as well.
	WSAddr string
	// Limits of the RPC server; zero values take the defaults below.
	BatchItemLimit    int
	BatchResponseSize int
	BodyLimit         int
	// RPCGasCap bounds eth_call and eth_estimateGas (0: 50M, geth's default).
	RPCGasCap uint64
	// LogRangeLimit and LogResultLimit bound one eth_getLogs or
	// eth_getFilterLogs: blocks spanned and logs answered (0: 1,000,000
	// and 100,000). SubscriptionBacklog is how many events a WebSocket
	// subscriber may fall behind before it is dropped (0: 4096).
	LogRangeLimit       uint64
	LogResultLimit      int
	SubscriptionBacklog int
	// Log receives the node's log lines; nil discards them.
	Log *slog.Logger
	// Now is the wall clock (tests pass a fake); nil is time.Now.
	Now func() time.Time
	// BFT, when set, runs the node in a CometBFT validator network
	// (consensus/bft) instead of the devnet's sequencer: no time control,
	// no state setters, blocks when the validators agree.
	BFT *bft.Config
}

// RPC server defaults: geth's.
const (
	DefaultBatchItemLimit    = 1000
	DefaultBatchResponseSize = 25 * 1000 * 1000
	DefaultBodyLimit         = 5 * 1024 * 1024
	DefaultRPCGasCap         = 50_000_000
	// The log query and subscription bounds (filters.go).
	DefaultLogRangeLimit       = maxBlockRange
	DefaultLogResultLimit      = maxLogResults
	DefaultSubscriptionBacklog = subscriberBacklog
)

// ClientVersion is what web3_clientVersion answers.
const ClientVersion = "infergeth/v0.1.0-dev"

// Node is a running devnet node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	kv    ethdb.Database
	chain *core.Chain
	pool  *core.Pool
	exec  *core.Executor
	// producer takes transactions into blocks: the devnet's sequencer or
	// the BFT engine. seq is the sequencer, nil on a BFT node (the devnet-only
	// methods check it with devOnly).
	producer producer
	seq      *dev.Sequencer
	bft      *bft.Engine
	filters  *filterSystem

	keys map[common.Address]*ecdsa.PrivateKey

	impMu           sync.RWMutex
	impersonated    map[common.Address]bool
	autoImpersonate bool

	rpc       *rpc.Server
	servers   []*http.Server
	listeners []net.Listener
	httpURL   string
	wsURL     string

	// bodyBuffers recycles the eth_call fast path's request buffers.
	bodyBuffers sync.Pool
	// headCtx is the EVM block context of the head, built once per head.
	headCtx atomic.Pointer[blockContext]

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
	mu     sync.Mutex
}

// New opens the chain and wires the node; Start serves RPC.
func New(cfg Config) (*Node, error) {
	if cfg.Chain == nil {
		return nil, errors.New("node: no chain config")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BatchItemLimit == 0 {
		cfg.BatchItemLimit = DefaultBatchItemLimit
	}
	if cfg.BatchResponseSize == 0 {
		cfg.BatchResponseSize = DefaultBatchResponseSize
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.RPCGasCap == 0 {
		cfg.RPCGasCap = DefaultRPCGasCap
	}
	if cfg.LogRangeLimit == 0 {
		cfg.LogRangeLimit = maxBlockRange
	}
	if cfg.LogResultLimit == 0 {
		cfg.LogResultLimit = maxLogResults
	}
	if cfg.SubscriptionBacklog == 0 {
		cfg.SubscriptionBacklog = subscriberBacklog
	}
	kv, err := openDatabase(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Log, kv: kv, keys: make(map[common.Address]*ecdsa.PrivateKey), impersonated: make(map[common.Address]bool)}
	if err := n.open(); err != nil {
		kv.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) open() error {
	cfg := n.cfg
	var genesis *gethcore.Genesis
	if rawdb.ReadCanonicalHash(n.kv, 0) == (common.Hash{}) {
		spec := cfg.Genesis
		spec.Config = cfg.Chain
		g, err := spec.Genesis()
		if err != nil {
			return err
		}
		genesis = g
	}
	chain, err := core.OpenChain(n.kv, cfg.Chain, genesis, cfg.DataDir != "")
	if err != nil {
		return err
	}
	n.chain = chain
	pool, err := core.NewPool(chain)
	if err != nil {
		return err
	}
	n.pool = pool
	n.exec = core.NewExecutor(chain.Config(), cfg.Factory, chain, chain.Senders())
	if err := n.openEngine(); err != nil {
		return err
	}
	for _, a := range cfg.Accounts {
		n.keys[a.Address] = a.Key
	}
	n.filters = newFilterSystem(n)
	return nil
}

func openDatabase(dir string) (ethdb.Database, error) {
	if dir == "" {
		return rawdb.NewMemoryDatabase(), nil
	}
	kv, err := pebble.New(dir, 128, 256, "infergeth/chaindata/", false)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return rawdb.NewDatabase(kv), nil
}

// Chain is the node's chain store.
func (n *Node) Chain() *core.Chain { return n.chain }

// Sequencer is the node's block producer.
func (n *Node) Sequencer() *dev.Sequencer { return n.seq }

// Start serves JSON-RPC and starts interval mining.
func (n *Node) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.rpc = rpc.NewServer()
	n.rpc.SetBatchLimits(n.cfg.BatchItemLimit, n.cfg.BatchResponseSize)
	n.rpc.SetHTTPBodyLimit(n.cfg.BodyLimit)
	n.rpc.SetWebsocketReadLimit(int64(n.cfg.BodyLimit))
	if err := n.registerAPIs(); err != nil {
		return err
	}
	n.filters.start(ctx, &n.wg)
	url, err := n.serve(n.cfg.HTTPAddr, true)
	if err != nil {
		n.Close()
		return err
	}
	n.httpURL, n.wsURL = "http://"+url, "ws://"+url
	if n.cfg.WSAddr != "" {
		wsURL, err := n.serve(n.cfg.WSAddr, false)
		if err != nil {
			n.Close()
			return err
		}
		n.wsURL = "ws://" + wsURL
	}
	if err := n.startEngine(ctx); err != nil {
		n.Close()
		return err
	}
	return nil
}

// HTTPURL is where JSON-RPC over HTTP is served.
func (n *Node) HTTPURL() string { return n.httpURL }

// WSURL is where JSON-RPC over WebSocket is served.
func (n *Node) WSURL() string { return n.wsURL }

// Close stops serving, then flushes and closes the chain.
func (n *Node) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, s := range n.servers {
		s.Shutdown(shutdownCtx)
	}
	if n.rpc != nil {
		n.rpc.Stop()
	}
	if n.cancel != nil {
		n.cancel()
	}
	var errs []error
	if n.bft != nil {
		errs = append(errs, n.bft.Stop())
	}
	n.wg.Wait()
	if n.pool != nil {
		errs = append(errs, n.pool.Close())
	}
	if n.chain != nil {
		errs = append(errs, n.chain.Close())
	}
	errs = append(errs, n.kv.Close())
	return errors.Join(errs...)
}

// unlocked returns the key of a development account.
func (n *Node) unlocked(addr common.Address) (*ecdsa.PrivateKey, bool) {
	k, ok := n.keys[addr]
	return k, ok
}

func (n *Node) isImpersonated(addr common.Address) bool {
	n.impMu.RLock()
	defer n.impMu.RUnlock()
	return n.autoImpersonate || n.impersonated[addr]
}

// accounts lists the development accounts in their derivation order.
func (n *Node) accounts() []common.Address {
	out := make([]common.Address, len(n.cfg.Accounts))
	for i, a := range n.cfg.Accounts {
		out[i] = a.Address
	}
	return out
}

func (n *Node) chainID() *big.Int { return n.chain.Config().ChainID() }
