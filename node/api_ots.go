package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/eth/tracers"
	"github.com/ethereum/go-ethereum/rpc"
)

// otsAPI is Otterscan's ots_ namespace (API level 8), so that a local
// Otterscan can browse the devnet. The devnet keeps no address index:
// searches scan blocks, bounded by otsMaxScan, and the per-address methods
// binary-search the (never pruned) historical states.
type otsAPI struct{ n *Node }

// otsMaxScan bounds the blocks one search visits.
const otsMaxScan = 100_000

// otsMaxPage bounds a page of search results or block transactions.
const otsMaxPage = 1000

// GetApiLevel is ots_getApiLevel.
func (api *otsAPI) GetApiLevel() uint64 { return 8 }

// HasCode is ots_hasCode.
func (api *otsAPI) HasCode(addr common.Address, block rpc.BlockNumberOrHash) (bool, error) {
	st, _, err := api.n.stateAt(block)
	if err != nil {
		return false, err
	}
	return st.GetCodeSize(addr) > 0, nil
}

// otsBlock is a block without its transactions, with their count.
type otsBlock struct {
	*rpcBlock
	TransactionCount hexutil.Uint64 `json:"transactionCount"`
}

type otsIssuance struct {
	BlockReward hexutil.Uint64 `json:"blockReward"`
	UncleReward hexutil.Uint64 `json:"uncleReward"`
	Issuance    hexutil.Uint64 `json:"issuance"`
}

type otsBlockDetails struct {
	Block     otsBlock     `json:"block"`
	Issuance  otsIssuance  `json:"issuance"`
	TotalFees *hexutil.Big `json:"totalFees"`
}

// otsBlockNumber is a block number as Otterscan sends it: a JSON number,
// or a tag or hex quantity as elsewhere.
type otsBlockNumber rpc.BlockNumber

func (b *otsBlockNumber) UnmarshalJSON(data []byte) error {
	var n uint64
	if err := json.Unmarshal(data, &n); err == nil {
		if n > math.MaxInt64 {
			return fmt.Errorf("block number %d too large", n)
		}
		*b = otsBlockNumber(n)
		return nil
	}
	var bn rpc.BlockNumber
	if err := bn.UnmarshalJSON(data); err != nil {
		return err
	}
	*b = otsBlockNumber(bn)
	return nil
}

// GetBlockDetails is ots_getBlockDetails.
func (api *otsAPI) GetBlockDetails(number otsBlockNumber) (*otsBlockDetails, error) {
	return api.details(api.n.blockByNumber(rpc.BlockNumber(number)))
}

// GetBlockDetailsByHash is ots_getBlockDetailsByHash.
func (api *otsAPI) GetBlockDetailsByHash(hash common.Hash) (*otsBlockDetails, error) {
	return api.details(api.n.chain.BlockByHash(hash))
}

func (api *otsAPI) details(b *types.Block) (*otsBlockDetails, error) {
	if b == nil {
		return nil, nil
	}
	receipts, err := api.n.chain.Receipts(b.Hash())
	if err != nil {
		return nil, err
	}
	fees := new(big.Int)
	for _, r := range receipts {
		if r.EffectiveGasPrice != nil {
			fees.Add(fees, new(big.Int).Mul(r.EffectiveGasPrice, new(big.Int).SetUint64(r.GasUsed)))
		}
	}
	rb := marshalBlock(b, false, api.n.chain.Senders())
	rb.Transactions = []any{}
	return &otsBlockDetails{
		Block:     otsBlock{rpcBlock: rb, TransactionCount: hexutil.Uint64(len(b.Transactions()))},
		TotalFees: (*hexutil.Big)(fees),
	}, nil
}

// otsReceipt is a receipt as Otterscan's lists take it: without logs, with
// the block's timestamp.
type otsReceipt struct {
	*rpcReceipt
	Logs      []*types.Log   `json:"logs"`
	LogsBloom *types.Bloom   `json:"logsBloom"`
	Timestamp hexutil.Uint64 `json:"timestamp"`
}

func (api *otsAPI) listReceipt(r *types.Receipt, tx *types.Transaction, b *types.Block) *otsReceipt {
	return &otsReceipt{rpcReceipt: marshalReceipt(r, tx, api.n.chain.Senders()), Timestamp: hexutil.Uint64(b.Time())}
}

type otsBlockTransactions struct {
	FullBlock otsBlock      `json:"fullblock"`
	Receipts  []*otsReceipt `json:"receipts"`
}

// GetBlockTransactions is ots_getBlockTransactions: one page of a block's
// transactions (input cut to the 4-byte selector) and their receipts.
func (api *otsAPI) GetBlockTransactions(number otsBlockNumber, page, size uint64) (*otsBlockTransactions, error) {
	b := api.n.blockByNumber(rpc.BlockNumber(number))
	if b == nil {
		return nil, nil
	}
	if size == 0 || size > otsMaxPage {
		return nil, fmt.Errorf("page size must be in [1, %d]", otsMaxPage)
	}
	receipts, err := api.n.chain.Receipts(b.Hash())
	if err != nil {
		return nil, err
	}
	txs := b.Transactions()
	start := min(page*size, uint64(len(txs)))
	end := min(start+size, uint64(len(txs)))
	rb := marshalBlock(b, false, api.n.chain.Senders())
	rb.Transactions = make([]any, 0, end-start)
	out := &otsBlockTransactions{Receipts: make([]*otsReceipt, 0, end-start)}
	for i := start; i < end; i++ {
		t := marshalTx(txs[i], b, i, api.n.chain.Senders())
		if len(t.Input) > 4 {
			t.Input = t.Input[:4]
		}
		rb.Transactions = append(rb.Transactions, t)
		out.Receipts = append(out.Receipts, api.listReceipt(receipts[i], txs[i], b))
	}
	out.FullBlock = otsBlock{rpcBlock: rb, TransactionCount: hexutil.Uint64(len(txs))}
	return out, nil
}

// frame is one call frame seen by an ots tracer.
type frame struct {
	typ    byte
	depth  int
	from   common.Address
	to     common.Address
	input  []byte
	value  *big.Int
	output []byte
	failed bool
}

// traceFrames re-executes transaction hash and returns its call frames in
// the order they were entered.
func (n *Node) traceFrames(ctx context.Context, hash common.Hash) ([]*frame, error) {
	tx, block, index, err := n.chain.Transaction(hash)
	if err != nil {
		return nil, fmt.Errorf("transaction %x not found", hash)
	}
	statedb, err := n.stateBefore(ctx, block, index)
	if err != nil {
		return nil, err
	}
	var frames, open []*frame
	hooks := &tracing.Hooks{
		OnEnter: func(depth int, typ byte, from, to common.Address, input []byte, _ uint64, value *big.Int) {
			f := &frame{typ: typ, depth: depth, from: from, to: to, input: common.CopyBytes(input)}
			if value != nil {
				f.value = new(big.Int).Set(value)
			}
			frames, open = append(frames, f), append(open, f)
		},
		OnExit: func(depth int, output []byte, _ uint64, err error, reverted bool) {
			if len(open) == 0 {
				return
			}
			f := open[len(open)-1]
			open = open[:len(open)-1]
			f.output, f.failed = common.CopyBytes(output), err != nil || reverted
		},
	}
	tracer := &tracers.Tracer{Hooks: hooks, GetResult: func() (json.RawMessage, error) { return nil, nil }, Stop: func(error) {}}
	msg, err := gethcore.TransactionToMessage(tx, n.chain.Senders(), block.BaseFee())
	if err != nil {
		return nil, err
	}
	if _, err := n.runTracer(ctx, tx, msg, n.exec.BlockContext(block.Header()), block.Hash(), index, statedb, tracer, defaultTraceTimeout); err != nil {
		return nil, err
	}
	return frames, nil
}

// GetTransactionError is ots_getTransactionError: the revert data of a
// failed transaction, "0x" for one that succeeded.
func (api *otsAPI) GetTransactionError(ctx context.Context, hash common.Hash) (hexutil.Bytes, error) {
	frames, err := api.n.traceFrames(ctx, hash)
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 || !frames[0].failed {
		return hexutil.Bytes{}, nil
	}
	return frames[0].output, nil
}

type otsInternalOp struct {
	Type  int            `json:"type"`
	From  common.Address `json:"from"`
	To    common.Address `json:"to"`
	Value *hexutil.Big   `json:"value"`
}

// GetInternalOperations is ots_getInternalOperations: value transfers
// (0), self-destructs (1), CREATE (2) and CREATE2 (3) below the top frame.
func (api *otsAPI) GetInternalOperations(ctx context.Context, hash common.Hash) ([]otsInternalOp, error) {
	frames, err := api.n.traceFrames(ctx, hash)
	if err != nil {
		return nil, err
	}
	ops := []otsInternalOp{}
	for _, f := range frames {
		if f.depth == 0 {
			continue
		}
		value := f.value
		if value == nil {
			value = new(big.Int)
		}
		op := otsInternalOp{From: f.from, To: f.to, Value: (*hexutil.Big)(value)}
		switch gethvm.OpCode(f.typ) {
		case gethvm.CALL, gethvm.CALLCODE:
			if value.Sign() == 0 {
				continue
			}
			op.Type = 0
		case gethvm.SELFDESTRUCT:
			op.Type = 1
		case gethvm.CREATE:
			op.Type = 2
		case gethvm.CREATE2:
			op.Type = 3
		default:
			continue
		}
		ops = append(ops, op)
	}
	return ops, nil
}

type otsTraceEntry struct {
	Type   string         `json:"type"`
	Depth  int            `json:"depth"`
	From   common.Address `json:"from"`
	To     common.Address `json:"to"`
	Value  *hexutil.Big   `json:"value"`
	Input  hexutil.Bytes  `json:"input"`
	Output hexutil.Bytes  `json:"output"`
}

// TraceTransaction is ots_traceTransaction: every frame, flat, with its
// depth.
func (api *otsAPI) TraceTransaction(ctx context.Context, hash common.Hash) ([]otsTraceEntry, error) {
	frames, err := api.n.traceFrames(ctx, hash)
	if err != nil {
		return nil, err
	}
	out := make([]otsTraceEntry, 0, len(frames))
	for _, f := range frames {
		e := otsTraceEntry{Type: gethvm.OpCode(f.typ).String(), Depth: f.depth, From: f.from, To: f.to, Input: f.input, Output: f.output}
		if e.Input == nil {
			e.Input = hexutil.Bytes{}
		}
		if e.Output == nil {
			e.Output = hexutil.Bytes{}
		}
		switch gethvm.OpCode(f.typ) {
		case gethvm.STATICCALL, gethvm.DELEGATECALL:
		default:
			v := f.value
			if v == nil {
				v = new(big.Int)
			}
			e.Value = (*hexutil.Big)(v)
		}
		out = append(out, e)
	}
	return out, nil
}

// firstBlockWhere is the lowest canonical block in [lo, hi] whose
// post-state satisfies pred, which must be monotone (false, then true);
// ok is false when none does.
func (n *Node) firstBlockWhere(lo, hi uint64, pred func(number uint64) (bool, error)) (uint64, bool, error) {
	if ok, err := pred(hi); err != nil || !ok {
		return 0, false, err
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		ok, err := pred(mid)
		if err != nil {
			return 0, false, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, true, nil
}

func (n *Node) stateOfBlock(number uint64) (interface {
	GetNonce(common.Address) uint64
	GetCodeSize(common.Address) int
}, error) {
	st, _, err := n.stateAt(rpc.BlockNumberOrHashWithNumber(rpc.BlockNumber(number)))
	return st, err
}

// GetTransactionBySenderAndNonce is ots_getTransactionBySenderAndNonce.
func (api *otsAPI) GetTransactionBySenderAndNonce(addr common.Address, nonce uint64) (*common.Hash, error) {
	n := api.n
	head := n.headBlock().NumberU64()
	number, ok, err := n.firstBlockWhere(0, head, func(num uint64) (bool, error) {
		st, err := n.stateOfBlock(num)
		if err != nil {
			return false, err
		}
		return st.GetNonce(addr) > nonce, nil
	})
	if err != nil || !ok {
		return nil, err
	}
	b := n.chain.BlockByNumber(number)
	for _, tx := range b.Transactions() {
		if from, _ := types.Sender(n.chain.Senders(), tx); from == addr && tx.Nonce() == nonce {
			h := tx.Hash()
			return &h, nil
		}
	}
	return nil, nil
}

type otsContractCreator struct {
	Hash    common.Hash    `json:"hash"`
	Creator common.Address `json:"creator"`
}

// GetContractCreator is ots_getContractCreator: the transaction that
// created addr, and the account (or factory contract) that did.
func (api *otsAPI) GetContractCreator(ctx context.Context, addr common.Address) (*otsContractCreator, error) {
	n := api.n
	head := n.headBlock().NumberU64()
	number, ok, err := n.firstBlockWhere(0, head, func(num uint64) (bool, error) {
		st, err := n.stateOfBlock(num)
		if err != nil {
			return false, err
		}
		return st.GetCodeSize(addr) > 0, nil
	})
	if err != nil || !ok || number == 0 {
		return nil, err // absent, or predeployed at genesis
	}
	for _, tx := range n.chain.BlockByNumber(number).Transactions() {
		frames, err := n.traceFrames(ctx, tx.Hash())
		if err != nil {
			return nil, err
		}
		for _, f := range frames {
			if op := gethvm.OpCode(f.typ); (op == gethvm.CREATE || op == gethvm.CREATE2) && f.to == addr && !f.failed {
				return &otsContractCreator{Hash: tx.Hash(), Creator: f.from}, nil
			}
		}
	}
	return nil, nil
}

type otsSearchResult struct {
	Txs       []*rpcTransaction `json:"txs"`
	Receipts  []*otsReceipt     `json:"receipts"`
	FirstPage bool              `json:"firstPage"`
	LastPage  bool              `json:"lastPage"`
}

// SearchTransactionsBefore is ots_searchTransactionsBefore: the newest
// transactions from or to addr in blocks before number (0: from the head),
// newest first, whole blocks at a time until size is reached.
func (api *otsAPI) SearchTransactionsBefore(addr common.Address, number uint64, size uint64) (*otsSearchResult, error) {
	head := api.n.headBlock().NumberU64()
	start := head
	if number > 0 {
		if number-1 < head {
			start = number - 1
		}
	}
	res, reachedEnd, err := api.search(addr, start, size, false)
	if err != nil {
		return nil, err
	}
	res.FirstPage, res.LastPage = number == 0 || number > head, reachedEnd
	return res, nil
}

// SearchTransactionsAfter is ots_searchTransactionsAfter: the oldest
// transactions from or to addr in blocks after number, returned newest
// first.
func (api *otsAPI) SearchTransactionsAfter(addr common.Address, number uint64, size uint64) (*otsSearchResult, error) {
	res, reachedEnd, err := api.search(addr, number+1, size, true)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(res.Txs)-1; i < j; i, j = i+1, j-1 {
		res.Txs[i], res.Txs[j] = res.Txs[j], res.Txs[i]
		res.Receipts[i], res.Receipts[j] = res.Receipts[j], res.Receipts[i]
	}
	res.FirstPage, res.LastPage = reachedEnd, number == 0
	return res, nil
}

// search walks blocks from start (down, or up when forward) collecting
// transactions that involve addr; reachedEnd reports that it ran out of
// blocks rather than stopping at size.
func (api *otsAPI) search(addr common.Address, start, size uint64, forward bool) (*otsSearchResult, bool, error) {
	if size == 0 || size > otsMaxPage {
		return nil, false, fmt.Errorf("page size must be in [1, %d]", otsMaxPage)
	}
	n := api.n
	head := n.headBlock().NumberU64()
	res := &otsSearchResult{Txs: []*rpcTransaction{}, Receipts: []*otsReceipt{}}
	num := start
	for scanned := 0; ; scanned++ {
		if scanned >= otsMaxScan {
			return nil, false, errors.New("search spans too many blocks")
		}
		if (forward && num > head) || (!forward && num == 0) || uint64(len(res.Txs)) >= size {
			return res, (forward && num > head) || (!forward && num == 0), nil
		}
		b := n.chain.BlockByNumber(num)
		if b == nil {
			return res, true, nil
		}
		var receipts types.Receipts
		txs := b.Transactions()
		for i := range txs {
			idx := i
			if !forward {
				idx = len(txs) - 1 - i
			}
			tx := txs[idx]
			from, _ := types.Sender(n.chain.Senders(), tx)
			if receipts == nil {
				var err error
				if receipts, err = n.chain.Receipts(b.Hash()); err != nil {
					return nil, false, err
				}
			}
			r := receipts[idx]
			if from != addr && (tx.To() == nil || *tx.To() != addr) && r.ContractAddress != addr {
				continue
			}
			res.Txs = append(res.Txs, marshalTx(tx, b, uint64(idx), n.chain.Senders()))
			res.Receipts = append(res.Receipts, api.listReceipt(r, tx, b))
		}
		if forward {
			num++
		} else {
			num--
		}
	}
}

// erigonAPI holds the one erigon_ method Otterscan needs.
type erigonAPI struct{ n *Node }

// GetHeaderByNumber is erigon_getHeaderByNumber.
func (api *erigonAPI) GetHeaderByNumber(number otsBlockNumber) *rpcHeader {
	b := api.n.blockByNumber(rpc.BlockNumber(number))
	if b == nil {
		return nil
	}
	return marshalHeader(b.Header())
}
