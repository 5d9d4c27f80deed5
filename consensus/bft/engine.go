package bft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/core"
)

// Config is how a node takes part in the network. Everything here is
// node-local: nothing in it changes a block.
type Config struct {
	// Home is the node's folder: config/ holds genesis.json, node_key.json
	// and priv_validator_key.json; data/ holds CometBFT's databases and the
	// validator's last-signed state.
	Home    string
	Moniker string
	// P2PAddr is where this node listens for peers (host:port).
	P2PAddr string
	// Peers are the nodes kept connected, as ID@host:port.
	Peers []string
	// EmptyBlockInterval is how long the proposer waits, with nothing
	// changed, before it proposes an (empty) block; see docs/network.md.
	EmptyBlockInterval time.Duration
	// Timeouts are CometBFT's round timeouts; zero values take Fast.
	Timeouts Timeouts
	Log      *slog.Logger
}

// Timeouts are the consensus round timeouts.
type Timeouts struct {
	Propose, Prevote, Precommit, Commit time.Duration
}

// FastTimeouts suit a network on one host or one LAN: a block every few
// hundred milliseconds under load, a missing proposer skipped in a second.
var FastTimeouts = Timeouts{Propose: 1000 * time.Millisecond, Prevote: 200 * time.Millisecond, Precommit: 200 * time.Millisecond, Commit: 50 * time.Millisecond}

// DefaultEmptyBlockInterval is how long an idle proposer waits before it
// proposes: the longest wait of a transaction sent to an idle network.
// Idle blocks carry no transaction and make no EVM block.
const DefaultEmptyBlockInterval = 500 * time.Millisecond

// Engine is CometBFT running the application in this process.
type Engine struct {
	app    *App
	node   *cmtnode.Node
	pool   *core.Pool
	chain  *core.Chain
	cancel context.CancelFunc
	wg     sync.WaitGroup

	halted   chan struct{}
	haltErr  error
	haltOnce sync.Once
	stopOnce sync.Once
}

// New assembles CometBFT over the chain, executor and pool. It reads the
// genesis and keys from cfg.Home; Start runs it.
func New(chain *core.Chain, exec *core.Executor, pool *core.Pool, cfg Config) (*Engine, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{pool: pool, chain: chain, halted: make(chan struct{})}
	e.app = NewApp(chain, exec, pool, cfg.Log.With("module", "app"), e.halt)
	ccfg, err := cometConfig(cfg)
	if err != nil {
		return nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(ccfg.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	if _, err := os.Stat(ccfg.PrivValidatorKeyFile()); err != nil {
		return nil, fmt.Errorf("validator key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(ccfg.PrivValidatorStateFile()), 0o700); err != nil {
		return nil, err
	}
	pv := privval.LoadOrGenFilePV(ccfg.PrivValidatorKeyFile(), ccfg.PrivValidatorStateFile())
	genesis, err := LoadGenesis(ccfg.GenesisFile())
	if err != nil {
		return nil, err
	}
	if err := checkGenesis(genesis, chain); err != nil {
		return nil, err
	}
	n, err := cmtnode.NewNode(ccfg, pv, nodeKey,
		proxy.NewConnSyncLocalClientCreator(e.app),
		func() (*cmttypes.GenesisDoc, error) { return genesis, nil },
		pebbleProvider,
		cmtnode.DefaultMetricsProvider(ccfg.Instrumentation),
		newLogger(cfg.Log.With("module", "cometbft")),
	)
	if err != nil {
		return nil, fmt.Errorf("cometbft: %w", err)
	}
	e.node = n
	return e, nil
}

// cometConfig is CometBFT's configuration for cfg: the app mempool, fast
// timeouts, loopback-friendly p2p, no CometBFT RPC (the node serves
// Ethereum JSON-RPC).
func cometConfig(cfg Config) (*cmtcfg.Config, error) {
	if cfg.Home == "" {
		return nil, errors.New("bft: no home folder")
	}
	c := cmtcfg.DefaultConfig()
	c.SetRoot(cfg.Home)
	c.Moniker = cfg.Moniker
	c.RPC.ListenAddress = ""
	c.RPC.GRPCListenAddress = ""
	c.P2P.ListenAddress = "tcp://" + cfg.P2PAddr
	c.P2P.PersistentPeers = strings.Join(cfg.Peers, ",")
	c.P2P.AddrBookStrict = false
	c.P2P.AllowDuplicateIP = true
	c.Mempool.Type = cmtcfg.MempoolTypeApp
	c.Mempool.ReapInterval = 20 * time.Millisecond
	c.Mempool.MaxTxBytes = 1 << 20
	t := cfg.Timeouts
	if t == (Timeouts{}) {
		t = FastTimeouts
	}
	cc := c.Consensus
	cc.TimeoutPropose, cc.TimeoutProposeDelta = t.Propose, t.Propose/4
	cc.TimeoutPrevote, cc.TimeoutPrevoteDelta = t.Prevote, t.Prevote/2
	cc.TimeoutPrecommit, cc.TimeoutPrecommitDelta = t.Precommit, t.Precommit/2
	cc.TimeoutCommit = t.Commit
	cc.SkipTimeoutCommit = true
	cc.PeerGossipSleepDuration = 10 * time.Millisecond
	cc.PeerQueryMaj23SleepDuration = 500 * time.Millisecond
	// The app mempool never reports "transactions available" to CometBFT,
	// so create_empty_blocks=false would never propose. An interval makes
	// an idle proposer wait before each block; a CometBFT block without
	// transactions makes no EVM block and leaves the AppHash as it was, so
	// an idle network makes no EVM blocks. After a block that changed
	// state the next height is proposed at once (CometBFT's proof block),
	// so a stream of transactions is not slowed by the interval.
	cc.CreateEmptyBlocks = true
	cc.CreateEmptyBlocksInterval = cfg.EmptyBlockInterval
	if cc.CreateEmptyBlocksInterval <= 0 {
		cc.CreateEmptyBlocksInterval = DefaultEmptyBlockInterval
	}
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("cometbft config: %w", err)
	}
	return c, nil
}

// Start runs CometBFT: it first replays any decided blocks the chain lacks
// (a crash between CometBFT's commit and ours), then syncs and joins
// consensus.
func (e *Engine) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.app.gossip.run(ctx) }()
	if err := e.node.Start(); err != nil {
		cancel()
		e.wg.Wait()
		return fmt.Errorf("start cometbft: %w", err)
	}
	return nil
}

// Stop stops CometBFT and the gossip loop.
func (e *Engine) Stop() error {
	var err error
	e.stopOnce.Do(func() {
		if e.node.IsRunning() {
			err = e.node.Stop()
			e.node.Wait()
		}
		if e.cancel != nil {
			e.cancel()
		}
		e.wg.Wait()
	})
	return err
}

func (e *Engine) halt(err error) {
	e.haltOnce.Do(func() {
		e.haltErr = err
		close(e.halted)
	})
}

// Halted is closed when this node stopped taking part in consensus for a
// local fault or a decided block it executes differently; HaltErr says why.
func (e *Engine) Halted() <-chan struct{} { return e.halted }

// HaltErr is why the node halted (nil while it has not).
func (e *Engine) HaltErr() error {
	select {
	case <-e.halted:
		return e.haltErr
	default:
		return nil
	}
}

// NodeID is this node's p2p identity, for peers' ID@host:port.
func (e *Engine) NodeID() string { return string(e.node.NodeInfo().ID()) }

// Submit adds a signed transaction to the pool; CometBFT's app mempool
// broadcasts it from there to every peer, so it reaches the proposer.
func (e *Engine) Submit(_ context.Context, tx *types.Transaction) error {
	return e.pool.Add(tx)
}

// NextBaseFee is the base fee of the block after the head.
func (e *Engine) NextBaseFee() *big.Int {
	head := e.chain.HeadHeader()
	return e.app.builder.NextHeader(head, core.BuildAttrs{Timestamp: head.Time}).BaseFee
}
