package bft

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/vm"
)

// App is the ABCI++ application: one type whose methods are the phases of
// a block. State changes only in Commit.
type App struct {
	abci.BaseApplication

	chain   *core.Chain
	exec    *core.Executor
	builder *core.Builder
	pool    *core.Pool
	gossip  *gossip
	log     *slog.Logger
	// halt stops this node: a local fault, or a decided block this node
	// executes differently. It is called at most once.
	halt     func(error)
	haltOnce sync.Once

	// mu guards the blocks of the height being decided. CometBFT calls the
	// consensus methods one at a time; the mempool and query methods come
	// concurrently and do not touch these.
	mu sync.Mutex
	// executed holds every block built or re-executed at the current
	// height, by EVM block hash, so a decided block is committed without a
	// second execution (BeaconKit's issue #1151).
	executed map[common.Hash]*core.Built
	// decided is the block FinalizeBlock accepted, committed by Commit;
	// nil with finalized set for a CometBFT block without transactions.
	decided   *core.Built
	finalized bool
	// height is the last CometBFT height committed. It runs ahead of the
	// EVM block number: a CometBFT block with no transactions makes no EVM
	// block (an idle network makes no empty EVM blocks).
	height int64
}

// heightKey is where the chain keeps the last committed CometBFT height.
var heightKey = []byte("bft-height")

// NewApp returns the application over the node's chain, executor and pool.
// halt is called when the node must stop.
func NewApp(chain *core.Chain, exec *core.Executor, pool *core.Pool, log *slog.Logger, halt func(error)) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{
		chain:    chain,
		exec:     exec,
		builder:  core.NewBuilder(chain, exec),
		pool:     pool,
		gossip:   newGossip(pool),
		log:      log,
		halt:     halt,
		executed: make(map[common.Hash]*core.Built),
	}
	if v := chain.ReadMeta(heightKey); len(v) == 8 {
		a.height = int64(binary.BigEndian.Uint64(v))
	}
	return a
}

// stop halts this node once, with the reason logged.
func (a *App) stop(err error) {
	a.haltOnce.Do(func() {
		a.log.Error("validator halting", "err", err)
		if a.halt != nil {
			go a.halt(err)
		}
	})
}

// Info tells CometBFT how far the chain is, so that it replays the blocks
// the application lacks after a crash.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	head, _ := a.chain.Head()
	res := &abci.ResponseInfo{Data: "infergeth", Version: "v0.1.0-dev", AppVersion: 1}
	if a.height > 0 {
		res.LastBlockHeight = a.height
		res.LastBlockAppHash = head.Root().Bytes()
	}
	return res, nil
}

// InitChain checks that CometBFT's genesis starts where the EVM genesis
// does and answers the genesis state root as the first AppHash.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	if req.InitialHeight != 1 {
		return nil, fmt.Errorf("initial height %d: infergeth maps CometBFT height N to EVM block N and starts at 1", req.InitialHeight)
	}
	genesis := a.chain.Genesis()
	return &abci.ResponseInitChain{AppHash: genesis.Root().Bytes()}, nil
}

// PrepareProposal builds the block this validator proposes on the
// committed head, from the pool, and executes it without committing.
func (a *App) PrepareProposal(ctx context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	parent, root := a.head()
	cd := consensusData{height: req.Height, time: req.Time, proposer: req.ProposerAddress}
	if err := a.checkHeight(req.Height); err != nil {
		return nil, err
	}
	attrs := attrsFor(parent, cd)
	built, err := a.builder.BuildOn(ctx, parent, root, attrs, nil, a.pool)
	if err != nil {
		if errors.Is(err, vm.ErrNodeFault) {
			a.stop(fmt.Errorf("local node fault building block %d: %w", req.Height, err))
			return nil, err
		}
		// Propose an empty block rather than none: the chain moves on and
		// the error is in the log.
		a.log.Error("build failed; proposing an empty block", "number", req.Height, "err", err)
		if built, err = a.builder.BuildOn(ctx, parent, root, attrs, nil, nil); err != nil {
			return nil, fmt.Errorf("build empty block %d: %w", req.Height, err)
		}
	}
	if len(built.Block.Transactions()) == 0 {
		// Nothing to include: a CometBFT block without an EVM block.
		return &abci.ResponsePrepareProposal{}, nil
	}
	enc, err := encodeProposal(built.Block, built.Receipts)
	if err != nil {
		return nil, err
	}
	if limit := min(req.MaxTxBytes, MaxProposalBytes); int64(len(enc)) > limit {
		a.log.Error("block too large for a proposal; proposing an empty block", "number", req.Height, "bytes", len(enc), "limit", limit)
		if built, err = a.builder.BuildOn(ctx, parent, root, attrs, nil, nil); err != nil {
			return nil, fmt.Errorf("build empty block %d: %w", req.Height, err)
		}
		if enc, err = encodeProposal(built.Block, built.Receipts); err != nil {
			return nil, err
		}
	}
	a.executed[built.Block.Hash()] = built
	for hash, reason := range built.Refused {
		a.log.Debug("left out of block", "number", req.Height, "tx", hash, "reason", reason)
	}
	a.log.Debug("proposing", "number", req.Height, "txs", len(built.Block.Transactions()), "hash", built.Block.Hash(), "root", built.Block.Root())
	return &abci.ResponsePrepareProposal{Txs: [][]byte{enc}}, nil
}

// ProcessProposal re-executes a proposed block, inference included, and
// accepts it only if every root, total and header field agrees.
func (a *App) ProcessProposal(ctx context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cd := consensusData{height: req.Height, time: req.Time, proposer: req.ProposerAddress}
	_, err := a.execute(ctx, cd, req.Txs)
	if err == nil && len(req.Txs) > 0 {
		a.log.Debug("accepted proposal", "height", req.Height)
	}
	switch {
	case err == nil:
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
	case errors.Is(err, vm.ErrNodeFault):
		// Not a verdict on the block: this node cannot compute it. It must
		// not vote on a result its own hardware could not produce.
		a.stop(fmt.Errorf("local node fault executing proposal at height %d: %w", req.Height, err))
		return nil, err
	default:
		a.log.Error("rejecting proposal", "height", req.Height, "proposer", fmt.Sprintf("%X", req.ProposerAddress), "err", err)
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
	}
}

// execute returns the executed form of the block in txs: the one already
// built or re-executed at this height, else a fresh re-execution; nil for
// a CometBFT block without transactions (no EVM block).
func (a *App) execute(ctx context.Context, cd consensusData, txs [][]byte) (*core.Built, error) {
	parent, root := a.head()
	if err := a.checkHeight(cd.height); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if len(txs) == 0 {
		return nil, nil
	}
	if len(txs) != 1 {
		return nil, fmt.Errorf("%w: %d transactions in the CometBFT block, want one encoded EVM block", ErrBadProposal, len(txs))
	}
	p, err := decodeProposal(txs[0])
	if err != nil {
		return nil, err
	}
	if built, ok := a.executed[p.Block.Hash()]; ok {
		// The header hash commits to every field checked below; this exact
		// block was executed here already with this result. Only the
		// consensus data might differ (another round, another time).
		want := a.builder.NextHeader(parent, attrsFor(parent, cd))
		if diff := diffConsensusFields(want, p.Block.Header()); len(diff) > 0 {
			return nil, &MismatchError{Number: p.Block.NumberU64(), Hash: p.Block.Hash(), FirstTx: -1, Differs: diff}
		}
		return built, nil
	}
	built, err := reexecute(ctx, a.builder, a.exec, a.chain, parent, root, cd, p)
	if err != nil {
		return nil, err
	}
	a.executed[built.Block.Hash()] = built
	return built, nil
}

// FinalizeBlock takes the decided block. It was executed in ProcessProposal
// or PrepareProposal, unless this node is replaying or catching up (then it
// is executed now) or had rejected it: then the network decided a block
// this node computes differently, and this node halts rather than follow
// or fork.
func (a *App) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cd := consensusData{height: req.Height, time: req.Time, proposer: req.ProposerAddress}
	built, err := a.execute(ctx, cd, req.Txs)
	if err != nil {
		if errors.Is(err, vm.ErrNodeFault) {
			err = fmt.Errorf("local node fault executing the block decided at height %d: %w", req.Height, err)
		} else {
			err = fmt.Errorf("block decided at height %d differs from this node's execution: %w", req.Height, err)
		}
		a.stop(err)
		return nil, err
	}
	a.decided, a.finalized = built, true
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i := range results {
		results[i] = &abci.ExecTxResult{Code: abci.CodeTypeOK}
	}
	root := a.chain.HeadHeader().Root
	if built != nil {
		root = built.Block.Root()
	}
	return &abci.ResponseFinalizeBlock{TxResults: results, AppHash: root.Bytes()}, nil
}

// Commit makes the decided block the head, durably, and brings the pool
// onto it.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	built := a.decided
	if !a.finalized {
		return nil, errors.New("commit without a finalized block")
	}
	height := a.height + 1
	var heightEnc [8]byte
	binary.BigEndian.PutUint64(heightEnc[:], uint64(height))
	var err error
	if built == nil {
		err = a.chain.WriteMeta(heightKey, heightEnc[:])
	} else {
		err = a.chain.CommitWithMeta(built.Block, built.Receipts, built.State, heightKey, heightEnc[:])
	}
	if err != nil {
		err = fmt.Errorf("commit height %d: %w", height, err)
		a.stop(err)
		return nil, err
	}
	a.height = height
	a.decided, a.finalized = nil, false
	clear(a.executed)
	if built != nil {
		a.pool.Sync()
		a.log.Info("committed", "number", built.Block.NumberU64(), "height", height, "txs", len(built.Block.Transactions()), "hash", built.Block.Hash(), "root", built.Block.Root())
	}
	return &abci.ResponseCommit{}, nil
}

func (a *App) head() (*types.Header, common.Hash) {
	head, root := a.chain.Head()
	return head.Header(), root
}

// checkHeight refuses a height that does not follow the last committed.
func (a *App) checkHeight(height int64) error {
	if height != a.height+1 {
		return fmt.Errorf("height %d does not follow the committed height %d", height, a.height)
	}
	return nil
}
