package node

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// The JSON shapes below follow geth's RPC output field for field, since
// ethers, viem and cast parse them: hex quantities, the fork fields present
// exactly when the header has them, withdrawals as an empty list.

// rpcHeader is a header as eth_getBlockBy* and newHeads show it.
type rpcHeader struct {
	Number                *hexutil.Big     `json:"number"`
	Hash                  common.Hash      `json:"hash"`
	ParentHash            common.Hash      `json:"parentHash"`
	Nonce                 types.BlockNonce `json:"nonce"`
	MixHash               common.Hash      `json:"mixHash"`
	Sha3Uncles            common.Hash      `json:"sha3Uncles"`
	LogsBloom             types.Bloom      `json:"logsBloom"`
	StateRoot             common.Hash      `json:"stateRoot"`
	Miner                 common.Address   `json:"miner"`
	Difficulty            *hexutil.Big     `json:"difficulty"`
	ExtraData             hexutil.Bytes    `json:"extraData"`
	GasLimit              hexutil.Uint64   `json:"gasLimit"`
	GasUsed               hexutil.Uint64   `json:"gasUsed"`
	Timestamp             hexutil.Uint64   `json:"timestamp"`
	TransactionsRoot      common.Hash      `json:"transactionsRoot"`
	ReceiptsRoot          common.Hash      `json:"receiptsRoot"`
	BaseFeePerGas         *hexutil.Big     `json:"baseFeePerGas,omitempty"`
	WithdrawalsRoot       *common.Hash     `json:"withdrawalsRoot,omitempty"`
	BlobGasUsed           *hexutil.Uint64  `json:"blobGasUsed,omitempty"`
	ExcessBlobGas         *hexutil.Uint64  `json:"excessBlobGas,omitempty"`
	ParentBeaconBlockRoot *common.Hash     `json:"parentBeaconBlockRoot,omitempty"`
	RequestsHash          *common.Hash     `json:"requestsHash,omitempty"`
}

func marshalHeader(h *types.Header) *rpcHeader {
	r := &rpcHeader{
		Number:                (*hexutil.Big)(h.Number),
		Hash:                  h.Hash(),
		ParentHash:            h.ParentHash,
		Nonce:                 h.Nonce,
		MixHash:               h.MixDigest,
		Sha3Uncles:            h.UncleHash,
		LogsBloom:             h.Bloom,
		StateRoot:             h.Root,
		Miner:                 h.Coinbase,
		Difficulty:            (*hexutil.Big)(h.Difficulty),
		ExtraData:             h.Extra,
		GasLimit:              hexutil.Uint64(h.GasLimit),
		GasUsed:               hexutil.Uint64(h.GasUsed),
		Timestamp:             hexutil.Uint64(h.Time),
		TransactionsRoot:      h.TxHash,
		ReceiptsRoot:          h.ReceiptHash,
		BaseFeePerGas:         (*hexutil.Big)(h.BaseFee),
		WithdrawalsRoot:       h.WithdrawalsHash,
		BlobGasUsed:           (*hexutil.Uint64)(h.BlobGasUsed),
		ExcessBlobGas:         (*hexutil.Uint64)(h.ExcessBlobGas),
		ParentBeaconBlockRoot: h.ParentBeaconRoot,
		RequestsHash:          h.RequestsHash,
	}
	if r.ExtraData == nil {
		r.ExtraData = hexutil.Bytes{}
	}
	if r.Difficulty == nil {
		r.Difficulty = (*hexutil.Big)(new(big.Int))
	}
	return r
}

// rpcBlock is a block: its header, size, transactions (hashes or objects),
// uncles and withdrawals.
type rpcBlock struct {
	*rpcHeader
	Size         hexutil.Uint64       `json:"size"`
	Transactions []any                `json:"transactions"`
	Uncles       []common.Hash        `json:"uncles"`
	Withdrawals  *[]*types.Withdrawal `json:"withdrawals,omitempty"`
}

func marshalBlock(b *types.Block, fullTx bool, senders types.Signer) *rpcBlock {
	r := &rpcBlock{
		rpcHeader:    marshalHeader(b.Header()),
		Size:         hexutil.Uint64(b.Size()),
		Transactions: make([]any, len(b.Transactions())),
		Uncles:       []common.Hash{},
	}
	for i, tx := range b.Transactions() {
		if fullTx {
			r.Transactions[i] = marshalTx(tx, b, uint64(i), senders)
		} else {
			r.Transactions[i] = tx.Hash()
		}
	}
	if b.Header().WithdrawalsHash != nil {
		w := b.Withdrawals()
		if w == nil {
			w = types.Withdrawals{}
		}
		ws := []*types.Withdrawal(w)
		r.Withdrawals = &ws
	}
	return r
}

// rpcTransaction is a transaction, with its place in a block when mined.
type rpcTransaction struct {
	BlockHash           *common.Hash                 `json:"blockHash"`
	BlockNumber         *hexutil.Big                 `json:"blockNumber"`
	BlockTimestamp      *hexutil.Uint64              `json:"blockTimestamp"`
	From                common.Address               `json:"from"`
	Gas                 hexutil.Uint64               `json:"gas"`
	GasPrice            *hexutil.Big                 `json:"gasPrice"`
	GasFeeCap           *hexutil.Big                 `json:"maxFeePerGas,omitempty"`
	GasTipCap           *hexutil.Big                 `json:"maxPriorityFeePerGas,omitempty"`
	MaxFeePerBlobGas    *hexutil.Big                 `json:"maxFeePerBlobGas,omitempty"`
	Hash                common.Hash                  `json:"hash"`
	Input               hexutil.Bytes                `json:"input"`
	Nonce               hexutil.Uint64               `json:"nonce"`
	To                  *common.Address              `json:"to"`
	TransactionIndex    *hexutil.Uint64              `json:"transactionIndex"`
	Value               *hexutil.Big                 `json:"value"`
	Type                hexutil.Uint64               `json:"type"`
	Accesses            *types.AccessList            `json:"accessList,omitempty"`
	ChainID             *hexutil.Big                 `json:"chainId,omitempty"`
	BlobVersionedHashes []common.Hash                `json:"blobVersionedHashes,omitempty"`
	AuthorizationList   []types.SetCodeAuthorization `json:"authorizationList,omitempty"`
	V                   *hexutil.Big                 `json:"v"`
	R                   *hexutil.Big                 `json:"r"`
	S                   *hexutil.Big                 `json:"s"`
	YParity             *hexutil.Uint64              `json:"yParity,omitempty"`
}

// marshalTx renders tx; block is nil for a pending transaction.
func marshalTx(tx *types.Transaction, block *types.Block, index uint64, senders types.Signer) *rpcTransaction {
	from, _ := types.Sender(senders, tx)
	v, r, s := tx.RawSignatureValues()
	out := &rpcTransaction{
		From:     from,
		Gas:      hexutil.Uint64(tx.Gas()),
		GasPrice: (*hexutil.Big)(tx.GasPrice()),
		Hash:     tx.Hash(),
		Input:    hexutil.Bytes(tx.Data()),
		Nonce:    hexutil.Uint64(tx.Nonce()),
		To:       tx.To(),
		Value:    (*hexutil.Big)(tx.Value()),
		Type:     hexutil.Uint64(tx.Type()),
		V:        (*hexutil.Big)(v),
		R:        (*hexutil.Big)(r),
		S:        (*hexutil.Big)(s),
	}
	if out.Input == nil {
		out.Input = hexutil.Bytes{}
	}
	var baseFee *big.Int
	if block != nil {
		hash, ts := block.Hash(), hexutil.Uint64(block.Time())
		idx := hexutil.Uint64(index)
		out.BlockHash, out.BlockNumber, out.BlockTimestamp, out.TransactionIndex = &hash, (*hexutil.Big)(block.Number()), &ts, &idx
		baseFee = block.BaseFee()
	}
	switch tx.Type() {
	case types.LegacyTxType:
		if tx.Protected() {
			out.ChainID = (*hexutil.Big)(tx.ChainId())
		}
	default:
		al := tx.AccessList()
		if al == nil {
			al = types.AccessList{}
		}
		yparity := hexutil.Uint64(v.Sign())
		out.Accesses, out.ChainID, out.YParity = &al, (*hexutil.Big)(tx.ChainId()), &yparity
		if tx.Type() != types.AccessListTxType {
			out.GasFeeCap, out.GasTipCap = (*hexutil.Big)(tx.GasFeeCap()), (*hexutil.Big)(tx.GasTipCap())
			if block != nil {
				out.GasPrice = (*hexutil.Big)(effectiveGasPrice(tx, baseFee))
			} else {
				out.GasPrice = (*hexutil.Big)(tx.GasFeeCap())
			}
		}
		if tx.Type() == types.BlobTxType {
			out.MaxFeePerBlobGas = (*hexutil.Big)(tx.BlobGasFeeCap())
			out.BlobVersionedHashes = tx.BlobHashes()
		}
		if tx.Type() == types.SetCodeTxType {
			out.AuthorizationList = tx.SetCodeAuthorizations()
		}
	}
	return out
}

// effectiveGasPrice is what a mined dynamic-fee transaction paid per gas.
func effectiveGasPrice(tx *types.Transaction, baseFee *big.Int) *big.Int {
	if baseFee == nil {
		return tx.GasPrice()
	}
	tip := new(big.Int).Sub(tx.GasFeeCap(), baseFee)
	if tip.Cmp(tx.GasTipCap()) > 0 {
		tip.Set(tx.GasTipCap())
	}
	return tip.Add(tip, baseFee)
}

// rpcReceipt is a receipt as eth_getTransactionReceipt shows it.
type rpcReceipt struct {
	BlockHash         common.Hash     `json:"blockHash"`
	BlockNumber       hexutil.Uint64  `json:"blockNumber"`
	TransactionHash   common.Hash     `json:"transactionHash"`
	TransactionIndex  hexutil.Uint64  `json:"transactionIndex"`
	From              common.Address  `json:"from"`
	To                *common.Address `json:"to"`
	GasUsed           hexutil.Uint64  `json:"gasUsed"`
	CumulativeGasUsed hexutil.Uint64  `json:"cumulativeGasUsed"`
	ContractAddress   *common.Address `json:"contractAddress"`
	Logs              []*types.Log    `json:"logs"`
	LogsBloom         types.Bloom     `json:"logsBloom"`
	Type              hexutil.Uint64  `json:"type"`
	EffectiveGasPrice *hexutil.Big    `json:"effectiveGasPrice"`
	Status            hexutil.Uint64  `json:"status"`
	BlobGasUsed       *hexutil.Uint64 `json:"blobGasUsed,omitempty"`
	BlobGasPrice      *hexutil.Big    `json:"blobGasPrice,omitempty"`
}

func marshalReceipt(r *types.Receipt, tx *types.Transaction, senders types.Signer) *rpcReceipt {
	from, _ := types.Sender(senders, tx)
	out := &rpcReceipt{
		BlockHash:         r.BlockHash,
		BlockNumber:       hexutil.Uint64(r.BlockNumber.Uint64()),
		TransactionHash:   r.TxHash,
		TransactionIndex:  hexutil.Uint64(r.TransactionIndex),
		From:              from,
		To:                tx.To(),
		GasUsed:           hexutil.Uint64(r.GasUsed),
		CumulativeGasUsed: hexutil.Uint64(r.CumulativeGasUsed),
		Logs:              r.Logs,
		LogsBloom:         r.Bloom,
		Type:              hexutil.Uint64(tx.Type()),
		EffectiveGasPrice: (*hexutil.Big)(r.EffectiveGasPrice),
		Status:            hexutil.Uint64(r.Status),
	}
	if out.Logs == nil {
		out.Logs = []*types.Log{}
	}
	if out.EffectiveGasPrice == nil {
		out.EffectiveGasPrice = (*hexutil.Big)(new(big.Int))
	}
	if r.ContractAddress != (common.Address{}) {
		addr := r.ContractAddress
		out.ContractAddress = &addr
	}
	if tx.Type() == types.BlobTxType {
		used := hexutil.Uint64(r.BlobGasUsed)
		out.BlobGasUsed, out.BlobGasPrice = &used, (*hexutil.Big)(r.BlobGasPrice)
	}
	return out
}
