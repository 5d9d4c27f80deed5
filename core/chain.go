package core

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/lru"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/triedb"

	"github.com/infergeth/infergeth/params"
)

// Keys infergeth adds beside geth's rawdb schema.
var (
	configKey      = []byte("infergeth-chain-config")
	headStateKey   = []byte("infergeth-head-state") // head hash ++ state root
	senderPrefix   = []byte("infergeth-sender-")    // tx hash -> impersonated sender
	preStatePrefix = []byte("infergeth-prestate-")  // block hash -> edited state it was built on
)

// recentBlocks is how many blocks, with their receipts, stay decoded in memory.
const recentBlocks = 512

// ErrNotFound is returned for blocks, transactions and states the chain lacks.
var ErrNotFound = errors.New("not found")

// ChainEvent is posted after a block became the head.
type ChainEvent struct {
	Block    *types.Block
	Receipts types.Receipts
}

// Chain is the chain store: blocks, receipts, transaction index and state,
// on one key-value database (pebble on disk, or memory).
//
// Durability: Commit writes the state trie nodes, then the block, receipts,
// index and head pointer in one batch, and (when durable) syncs the
// write-ahead log before it returns, so anything a caller saw committed
// survives a kill -9 or power loss. State uses geth's hash scheme with every
// block's trie committed to the database: nothing lives only in memory.
type Chain struct {
	config  *params.ChainConfig
	db      ethdb.Database
	triedb  *triedb.Database
	state   *state.MPTDatabase
	durable bool
	senders *Senders

	// writeMu serializes writers (Commit, SetHeadState, Rewind), which do
	// their slow work (trie commit, batch write, fsync) holding it alone;
	// mu guards the head fields and is held only to swap them, so reads
	// and eth_calls never wait for a disk sync.
	writeMu  sync.Mutex
	mu       sync.RWMutex
	genesis  *types.Block
	head     *types.Block
	headRoot common.Hash // state of the head; differs from head.Root() after devnet state edits

	cacheMu sync.Mutex
	blocks  lru.BasicLRU[common.Hash, *storedBlock]
	txIndex lru.BasicLRU[common.Hash, txLocation]

	chainFeed event.Feed

	// readers caches the account and storage reads of recent states, so
	// that eth_calls and blocks on the head do not walk the trie for
	// what an earlier one already read. A state's cache is valid forever:
	// states are immutable, named by their root.
	readerMu sync.Mutex
	readers  lru.BasicLRU[common.Hash, state.Reader]
}

type storedBlock struct {
	block    *types.Block
	receipts types.Receipts
}

type txLocation struct {
	blockHash common.Hash
	number    uint64
	index     int
}

// OpenChain opens the chain in db, writing genesis first when db is empty.
// durable makes every commit sync the write-ahead log (on-disk databases).
func OpenChain(db ethdb.Database, config *params.ChainConfig, genesis *gethcore.Genesis, durable bool) (*Chain, error) {
	if err := config.Check(); err != nil {
		return nil, err
	}
	tdb := triedb.NewDatabase(db, triedb.HashDefaults)
	c := &Chain{
		db:      db,
		triedb:  tdb,
		state:   state.NewMPTDatabase(tdb, nil),
		durable: durable,
		blocks:  lru.NewBasicLRU[common.Hash, *storedBlock](recentBlocks),
		txIndex: lru.NewBasicLRU[common.Hash, txLocation](recentBlocks * 8),
		readers: lru.NewBasicLRU[common.Hash, state.Reader](cachedStates),
	}
	if rawdb.ReadCanonicalHash(db, 0) == (common.Hash{}) {
		if genesis == nil {
			return nil, fmt.Errorf("empty database and no genesis")
		}
		if genesis.Config != config.Ethereum {
			return nil, fmt.Errorf("genesis config is not the chain config")
		}
		// The configuration first: a crash before genesis is complete
		// leaves no canonical block 0, and the next start writes both again.
		enc, err := config.Encode()
		if err != nil {
			return nil, err
		}
		if err := db.Put(configKey, enc); err != nil {
			return nil, fmt.Errorf("write chain config: %w", err)
		}
		block, err := genesis.Commit(db, tdb, nil)
		if err != nil {
			return nil, fmt.Errorf("write genesis: %w", err)
		}
		if err := c.sync(); err != nil {
			return nil, err
		}
		c.config = config
		c.genesis, c.head, c.headRoot = block, block, block.Root()
	} else {
		if err := c.load(config); err != nil {
			return nil, err
		}
	}
	c.senders = NewSenders(types.LatestSigner(c.config.Ethereum))
	if err := c.loadSenders(); err != nil {
		return nil, err
	}
	return c, nil
}

// load reads an existing chain and checks it against the configuration the
// node was started with.
func (c *Chain) load(want *params.ChainConfig) error {
	enc, err := c.db.Get(configKey)
	if err != nil {
		return fmt.Errorf("read chain config: %w", err)
	}
	stored, err := params.DecodeChainConfig(enc)
	if err != nil {
		return err
	}
	if stored.ChainID().Cmp(want.ChainID()) != 0 {
		return fmt.Errorf("database holds chain id %v, node configured for %v", stored.ChainID(), want.ChainID())
	}
	c.config = stored
	genesisHash := rawdb.ReadCanonicalHash(c.db, 0)
	if c.genesis = rawdb.ReadBlock(c.db, genesisHash, 0); c.genesis == nil {
		return fmt.Errorf("genesis block %x missing", genesisHash)
	}
	headHash := rawdb.ReadHeadBlockHash(c.db)
	number, ok := rawdb.ReadHeaderNumber(c.db, headHash)
	if !ok {
		return fmt.Errorf("head block %x has no number", headHash)
	}
	if c.head = rawdb.ReadBlock(c.db, headHash, number); c.head == nil {
		return fmt.Errorf("head block %x missing", headHash)
	}
	c.headRoot = c.head.Root()
	if v, err := c.db.Get(headStateKey); err == nil && len(v) == 64 && bytes.Equal(v[:32], headHash[:]) {
		c.headRoot = common.BytesToHash(v[32:])
	}
	if _, err := c.StateAt(c.headRoot); err != nil {
		return fmt.Errorf("head state %x of block %d: %w", c.headRoot, number, err)
	}
	return nil
}

func (c *Chain) loadSenders() error {
	it := c.db.NewIterator(senderPrefix, nil)
	defer it.Release()
	for it.Next() {
		if len(it.Key()) != len(senderPrefix)+32 || len(it.Value()) != 20 {
			continue
		}
		c.senders.Record(common.BytesToHash(it.Key()[len(senderPrefix):]), common.BytesToAddress(it.Value()))
	}
	return it.Error()
}

// sync makes everything written so far durable, when the chain is.
func (c *Chain) sync() error {
	if !c.durable {
		return nil
	}
	if err := c.db.SyncKeyValue(); err != nil {
		return fmt.Errorf("sync database: %w", err)
	}
	return nil
}

// Config is the chain configuration.
func (c *Chain) Config() *params.ChainConfig { return c.config }

// Senders is the chain's signer.
func (c *Chain) Senders() *Senders { return c.senders }

// Genesis is block 0.
func (c *Chain) Genesis() *types.Block { return c.genesis }

// Head returns the head block and the root of its current state.
func (c *Chain) Head() (*types.Block, common.Hash) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.head, c.headRoot
}

// HeadHeader is the head block's header.
func (c *Chain) HeadHeader() *types.Header {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.head.Header()
}

// cachedStates is how many states keep a read cache.
const cachedStates = 4

// StateAt opens the state with the given root. Recent states share a read
// cache (see Chain.readers).
func (c *Chain) StateAt(root common.Hash) (*state.StateDB, error) {
	c.readerMu.Lock()
	reader, ok := c.readers.Get(root)
	c.readerMu.Unlock()
	if !ok {
		r, _, err := c.state.ReadersWithCacheStats(root)
		if err != nil {
			return nil, fmt.Errorf("state %x: %w", root, err)
		}
		reader = r
		c.readerMu.Lock()
		c.readers.Add(root, reader)
		c.readerMu.Unlock()
	}
	s, err := state.NewWithReader(root, c.state, reader)
	if err != nil {
		return nil, fmt.Errorf("state %x: %w", root, err)
	}
	return s, nil
}

// CanonicalHash is the hash of the canonical block at number, or zero.
func (c *Chain) CanonicalHash(number uint64) common.Hash {
	c.mu.RLock()
	head := c.head
	c.mu.RUnlock()
	if number > head.NumberU64() {
		return common.Hash{}
	}
	if number == head.NumberU64() {
		return head.Hash()
	}
	return rawdb.ReadCanonicalHash(c.db, number)
}

// BlockByHash returns a stored block (canonical or not).
func (c *Chain) BlockByHash(hash common.Hash) *types.Block {
	if sb, ok := c.cached(hash); ok {
		return sb.block
	}
	number, ok := rawdb.ReadHeaderNumber(c.db, hash)
	if !ok {
		return nil
	}
	return rawdb.ReadBlock(c.db, hash, number)
}

// BlockByNumber returns the canonical block at number.
func (c *Chain) BlockByNumber(number uint64) *types.Block {
	hash := c.CanonicalHash(number)
	if hash == (common.Hash{}) {
		return nil
	}
	return c.BlockByHash(hash)
}

// HeaderByHash returns a stored header.
func (c *Chain) HeaderByHash(hash common.Hash) *types.Header {
	if sb, ok := c.cached(hash); ok {
		return sb.block.Header()
	}
	number, ok := rawdb.ReadHeaderNumber(c.db, hash)
	if !ok {
		return nil
	}
	return rawdb.ReadHeader(c.db, hash, number)
}

// HeaderByNumber returns the canonical header at number.
func (c *Chain) HeaderByNumber(number uint64) *types.Header {
	hash := c.CanonicalHash(number)
	if hash == (common.Hash{}) {
		return nil
	}
	return c.HeaderByHash(hash)
}

// IsCanonical reports whether hash is on the canonical chain.
func (c *Chain) IsCanonical(hash common.Hash, number uint64) bool {
	return c.CanonicalHash(number) == hash
}

func (c *Chain) cached(hash common.Hash) (*storedBlock, bool) {
	c.cacheMu.Lock()
	defer c.cacheMu.Unlock()
	return c.blocks.Get(hash)
}

// Receipts returns the receipts of a stored block with every derived field
// (block hash, index, gas used, log positions, contract address) filled.
func (c *Chain) Receipts(hash common.Hash) (types.Receipts, error) {
	if sb, ok := c.cached(hash); ok {
		return sb.receipts, nil
	}
	block := c.BlockByHash(hash)
	if block == nil {
		return nil, fmt.Errorf("block %x: %w", hash, ErrNotFound)
	}
	receipts, err := c.readReceipts(block)
	if err != nil {
		return nil, err
	}
	c.cacheMu.Lock()
	c.blocks.Add(hash, &storedBlock{block: block, receipts: receipts})
	c.cacheMu.Unlock()
	return receipts, nil
}

func (c *Chain) readReceipts(block *types.Block) (types.Receipts, error) {
	receipts := rawdb.ReadRawReceipts(c.db, block.Hash(), block.NumberU64())
	txs := block.Transactions()
	if len(receipts) != len(txs) {
		return nil, fmt.Errorf("block %d: %d receipts for %d transactions", block.NumberU64(), len(receipts), len(txs))
	}
	var blobGasPrice *big.Int
	if block.ExcessBlobGas() != nil {
		blobGasPrice = eip4844.CalcBlobFee(c.config.Ethereum, block.Header())
	}
	logIndex := uint(0)
	for i, r := range receipts {
		var prev uint64
		if i > 0 {
			prev = receipts[i-1].CumulativeGasUsed
		}
		r.DeriveFields(c.senders, types.DeriveReceiptContext{
			BlockHash:    block.Hash(),
			BlockNumber:  block.NumberU64(),
			BlockTime:    block.Time(),
			BaseFee:      block.BaseFee(),
			BlobGasPrice: blobGasPrice,
			GasUsed:      r.CumulativeGasUsed - prev,
			LogIndex:     logIndex,
			Tx:           txs[i],
			TxIndex:      uint(i),
		})
		logIndex += uint(len(r.Logs))
	}
	return receipts, nil
}

// Transaction finds a canonical transaction by hash.
func (c *Chain) Transaction(hash common.Hash) (tx *types.Transaction, block *types.Block, index int, err error) {
	c.cacheMu.Lock()
	loc, ok := c.txIndex.Get(hash)
	c.cacheMu.Unlock()
	if !ok {
		number := rawdb.ReadTxLookupEntry(c.db, hash)
		if number == nil {
			return nil, nil, 0, ErrNotFound
		}
		b := c.BlockByNumber(*number)
		if b == nil {
			return nil, nil, 0, ErrNotFound
		}
		for i, t := range b.Transactions() {
			if t.Hash() == hash {
				loc = txLocation{blockHash: b.Hash(), number: b.NumberU64(), index: i}
				ok = true
				break
			}
		}
		if !ok {
			return nil, nil, 0, ErrNotFound
		}
	}
	block = c.BlockByHash(loc.blockHash)
	if block == nil || !c.IsCanonical(loc.blockHash, loc.number) || loc.index >= len(block.Transactions()) {
		return nil, nil, 0, ErrNotFound
	}
	return block.Transactions()[loc.index], block, loc.index, nil
}

// Receipt finds the receipt of a canonical transaction.
func (c *Chain) Receipt(hash common.Hash) (*types.Receipt, *types.Block, error) {
	_, block, index, err := c.Transaction(hash)
	if err != nil {
		return nil, nil, err
	}
	receipts, err := c.Receipts(block.Hash())
	if err != nil {
		return nil, nil, err
	}
	if index >= len(receipts) {
		return nil, nil, ErrNotFound
	}
	return receipts[index], block, nil
}

// Commit makes block the new head. statedb is the post-state of block; it
// is committed first (its root must be block.Root()), then the block, its
// receipts and the head pointer, in one batch. Receipts must carry their
// derived fields (the builder's and executor's do). The senders of
// transactions with placeholder signatures (impersonation) are stored with
// the block, from the chain's Senders.
func (c *Chain) Commit(block *types.Block, receipts types.Receipts, statedb *state.StateDB) error {
	return c.CommitWithMeta(block, receipts, statedb, nil, nil)
}

// metaPrefix namespaces the engines' own keys (WriteMeta).
var metaPrefix = []byte("infergeth-meta-")

// CommitWithMeta is Commit that also writes an engine's key in the same
// batch, so that the key and the block survive a crash together (the BFT
// engine's last consensus height). A nil key writes none.
func (c *Chain) CommitWithMeta(block *types.Block, receipts types.Receipts, statedb *state.StateDB, key, value []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	head, headRoot := c.Head()
	if block.ParentHash() != head.Hash() {
		return fmt.Errorf("block %d: parent %x is not the head %x", block.NumberU64(), block.ParentHash(), head.Hash())
	}
	rules := c.config.Ethereum.Rules(block.Number(), true, block.Time())
	root, err := statedb.Commit(rules, block.NumberU64())
	if err != nil {
		return fmt.Errorf("block %d: commit state: %w", block.NumberU64(), err)
	}
	if root != block.Root() {
		return fmt.Errorf("block %d: state root %x, header says %x", block.NumberU64(), root, block.Root())
	}
	if err := c.triedb.Commit(root, false); err != nil {
		return fmt.Errorf("block %d: write state: %w", block.NumberU64(), err)
	}
	batch := c.db.NewBatch()
	rawdb.WriteBlock(batch, block)
	rawdb.WriteReceipts(batch, block.Hash(), block.NumberU64(), receipts)
	rawdb.WriteTxLookupEntriesByBlock(batch, block)
	for _, tx := range block.Transactions() {
		if from, ok := c.senders.Recorded(tx.Hash()); ok {
			if err := batch.Put(append(append([]byte{}, senderPrefix...), tx.Hash().Bytes()...), from.Bytes()); err != nil {
				return err
			}
		}
	}
	if headRoot != head.Root() {
		// The parent's state was edited after it was mined: remember what
		// this block was built on, for tracing and re-execution.
		if err := batch.Put(append(append([]byte{}, preStatePrefix...), block.Hash().Bytes()...), headRoot.Bytes()); err != nil {
			return err
		}
	}
	if key != nil {
		if err := batch.Put(append(append([]byte{}, metaPrefix...), key...), value); err != nil {
			return err
		}
	}
	rawdb.WriteCanonicalHash(batch, block.Hash(), block.NumberU64())
	rawdb.WriteHeadBlockHash(batch, block.Hash())
	rawdb.WriteHeadHeaderHash(batch, block.Hash())
	if err := batch.Write(); err != nil {
		return fmt.Errorf("block %d: write: %w", block.NumberU64(), err)
	}
	if err := c.sync(); err != nil {
		return err
	}
	// Caches first: once the head moves, readers look the block up.
	c.cacheMu.Lock()
	c.blocks.Add(block.Hash(), &storedBlock{block: block, receipts: receipts})
	for i, tx := range block.Transactions() {
		c.txIndex.Add(tx.Hash(), txLocation{blockHash: block.Hash(), number: block.NumberU64(), index: i})
	}
	c.cacheMu.Unlock()
	c.mu.Lock()
	c.head, c.headRoot = block, root
	c.mu.Unlock()
	c.chainFeed.Send(ChainEvent{Block: block, Receipts: receipts})
	return nil
}

// WriteMeta durably writes an engine's key without a block.
func (c *Chain) WriteMeta(key, value []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.db.Put(append(append([]byte{}, metaPrefix...), key...), value); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return c.sync()
}

// ReadMeta reads an engine's key; nil when absent.
func (c *Chain) ReadMeta(key []byte) []byte {
	v, err := c.db.Get(append(append([]byte{}, metaPrefix...), key...))
	if err != nil {
		return nil
	}
	return v
}

// PreStateRoot is the root of the state block was executed on: its
// parent's, or the parent's edited state (devnet state edits).
func (c *Chain) PreStateRoot(block *types.Block) (common.Hash, error) {
	if v, err := c.db.Get(append(append([]byte{}, preStatePrefix...), block.Hash().Bytes()...)); err == nil && len(v) == 32 {
		return common.BytesToHash(v), nil
	}
	parent := c.HeaderByHash(block.ParentHash())
	if parent == nil {
		return common.Hash{}, fmt.Errorf("parent of block %d: %w", block.NumberU64(), ErrNotFound)
	}
	return parent.Root, nil
}

// SetHeadState replaces the state of the head block without a new block:
// the devnet's anvil_setBalance and friends edit state this way, as anvil
// and Hardhat do. statedb must be opened on the current head state.
func (c *Chain) SetHeadState(statedb *state.StateDB) (common.Hash, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	head, _ := c.Head()
	rules := c.config.Ethereum.Rules(head.Number(), true, head.Time())
	root, err := statedb.Commit(rules, head.NumberU64())
	if err != nil {
		return common.Hash{}, fmt.Errorf("commit edited state: %w", err)
	}
	if err := c.triedb.Commit(root, false); err != nil {
		return common.Hash{}, fmt.Errorf("write edited state: %w", err)
	}
	if err := c.writeHeadState(c.db, head.Hash(), root); err != nil {
		return common.Hash{}, err
	}
	if err := c.sync(); err != nil {
		return common.Hash{}, err
	}
	c.mu.Lock()
	c.headRoot = root
	c.mu.Unlock()
	return root, nil
}

func (c *Chain) writeHeadState(w ethdb.KeyValueWriter, head, root common.Hash) error {
	if err := w.Put(headStateKey, append(head.Bytes(), root.Bytes()...)); err != nil {
		return fmt.Errorf("write head state: %w", err)
	}
	return nil
}

// Rewind makes the canonical block at number the head again, with state
// root (evm_revert). Later blocks leave the canonical chain and their
// transactions leave the index.
func (c *Chain) Rewind(number uint64, root common.Hash) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	head, _ := c.Head()
	if number > head.NumberU64() {
		return fmt.Errorf("rewind to %d: head is %d", number, head.NumberU64())
	}
	target := rawdb.ReadBlock(c.db, rawdb.ReadCanonicalHash(c.db, number), number)
	if target == nil {
		return fmt.Errorf("rewind to %d: %w", number, ErrNotFound)
	}
	if _, err := c.StateAt(root); err != nil {
		return fmt.Errorf("rewind to %d: %w", number, err)
	}
	batch := c.db.NewBatch()
	var dropped []common.Hash
	for n := head.NumberU64(); n > number; n-- {
		hash := rawdb.ReadCanonicalHash(c.db, n)
		if body := rawdb.ReadBody(c.db, hash, n); body != nil {
			for _, tx := range body.Transactions {
				dropped = append(dropped, tx.Hash())
			}
		}
		rawdb.DeleteCanonicalHash(batch, n)
	}
	rawdb.DeleteTxLookupEntries(batch, dropped)
	rawdb.WriteHeadBlockHash(batch, target.Hash())
	rawdb.WriteHeadHeaderHash(batch, target.Hash())
	if err := c.writeHeadState(batch, target.Hash(), root); err != nil {
		return err
	}
	if err := batch.Write(); err != nil {
		return fmt.Errorf("rewind to %d: %w", number, err)
	}
	if err := c.sync(); err != nil {
		return err
	}
	c.mu.Lock()
	c.head, c.headRoot = target, root
	c.mu.Unlock()
	c.cacheMu.Lock()
	for _, h := range dropped {
		c.txIndex.Remove(h)
	}
	c.cacheMu.Unlock()
	return nil
}

// SubscribeChainEvent delivers a ChainEvent for each new head.
func (c *Chain) SubscribeChainEvent(ch chan<- ChainEvent) event.Subscription {
	return c.chainFeed.Subscribe(ch)
}

// Close flushes and releases the trie database. The key-value database is
// the caller's to close.
func (c *Chain) Close() error {
	if err := c.sync(); err != nil {
		return err
	}
	return c.triedb.Close()
}
