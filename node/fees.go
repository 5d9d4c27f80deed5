package node

import (
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// defaultTip is the priority fee the devnet suggests: 1 gwei, as anvil and
// Hardhat. Every transaction is included at once, so no auction sets it.
var defaultTip = big.NewInt(1_000_000_000)

func (n *Node) suggestTip() *big.Int { return new(big.Int).Set(defaultTip) }

// GasPrice is eth_gasPrice: the next base fee plus the suggested tip.
func (api *ethAPI) GasPrice() *hexutil.Big {
	p := api.n.producer.NextBaseFee()
	if p == nil {
		p = new(big.Int)
	}
	return (*hexutil.Big)(p.Add(p, api.n.suggestTip()))
}

// MaxPriorityFeePerGas is eth_maxPriorityFeePerGas.
func (api *ethAPI) MaxPriorityFeePerGas() *hexutil.Big {
	return (*hexutil.Big)(api.n.suggestTip())
}

// BlobBaseFee is eth_blobBaseFee: the blob base fee of the next block.
func (api *ethAPI) BlobBaseFee() *hexutil.Big {
	head := api.n.chain.HeadHeader()
	cfg := api.n.chain.Config().Ethereum
	if head.ExcessBlobGas == nil {
		return (*hexutil.Big)(new(big.Int))
	}
	next := &types.Header{Number: new(big.Int).Add(head.Number, big.NewInt(1)), Time: head.Time + 1}
	excess := eip4844.CalcExcessBlobGas(cfg, head, next.Time)
	next.ExcessBlobGas = &excess
	return (*hexutil.Big)(eip4844.CalcBlobFee(cfg, next))
}

// maxFeeHistory bounds the blocks and percentiles of one eth_feeHistory.
const (
	maxFeeHistory            = 1024
	maxFeeHistoryPercentiles = 100
)

// feeHistoryResult is eth_feeHistory's answer.
type feeHistoryResult struct {
	OldestBlock      *hexutil.Big     `json:"oldestBlock"`
	Reward           [][]*hexutil.Big `json:"reward,omitempty"`
	BaseFee          []*hexutil.Big   `json:"baseFeePerGas,omitempty"`
	GasUsedRatio     []float64        `json:"gasUsedRatio"`
	BlobBaseFee      []*hexutil.Big   `json:"baseFeePerBlobGas,omitempty"`
	BlobGasUsedRatio []float64        `json:"blobGasUsedRatio,omitempty"`
}

// FeeHistory is eth_feeHistory: base fees, gas used ratios and, for each
// requested percentile (floats, as wallets send them), the priority fee
// paid at that share of the block's gas.
func (api *ethAPI) FeeHistory(blockCount math.HexOrDecimal64, lastBlock rpc.BlockNumber, rewardPercentiles *[]float64) (*feeHistoryResult, error) {
	n := api.n
	var percentiles []float64
	if rewardPercentiles != nil {
		percentiles = *rewardPercentiles
	}
	if len(percentiles) > maxFeeHistoryPercentiles {
		return nil, fmt.Errorf("%w: over the query limit %d", errInvalidPercentile, maxFeeHistoryPercentiles)
	}
	for i, p := range percentiles {
		if p < 0 || p > 100 {
			return nil, fmt.Errorf("%w: %f", errInvalidPercentile, p)
		}
		if i > 0 && p <= percentiles[i-1] {
			return nil, fmt.Errorf("%w: #%d:%f >= #%d:%f", errInvalidPercentile, i-1, percentiles[i-1], i, p)
		}
	}
	last := n.blockByNumber(lastBlock)
	if last == nil {
		return nil, fmt.Errorf("%w: requested %d, head %d", errRequestBeyondHead, lastBlock, api.BlockNumber())
	}
	count := uint64(blockCount)
	if count > maxFeeHistory {
		count = maxFeeHistory
	}
	if count > last.NumberU64()+1 {
		count = last.NumberU64() + 1
	}
	oldest := last.NumberU64() + 1 - count
	out := &feeHistoryResult{OldestBlock: (*hexutil.Big)(new(big.Int).SetUint64(oldest))}
	if count == 0 {
		return out, nil
	}
	cfg := n.chain.Config().Ethereum
	for num := oldest; num <= last.NumberU64(); num++ {
		b := n.chain.BlockByNumber(num)
		if b == nil {
			return nil, fmt.Errorf("block %d missing", num)
		}
		h := b.Header()
		out.BaseFee = append(out.BaseFee, (*hexutil.Big)(baseFeeOf(h)))
		out.GasUsedRatio = append(out.GasUsedRatio, float64(h.GasUsed)/float64(h.GasLimit))
		if h.ExcessBlobGas != nil {
			out.BlobBaseFee = append(out.BlobBaseFee, (*hexutil.Big)(eip4844.CalcBlobFee(cfg, h)))
			maxBlob := eip4844.MaxBlobGasPerBlock(cfg, h.Time)
			ratio := 0.0
			if maxBlob > 0 && h.BlobGasUsed != nil {
				ratio = float64(*h.BlobGasUsed) / float64(maxBlob)
			}
			out.BlobGasUsedRatio = append(out.BlobGasUsedRatio, ratio)
		}
		if len(percentiles) > 0 {
			rewards, err := n.blockRewards(b, percentiles)
			if err != nil {
				return nil, err
			}
			out.Reward = append(out.Reward, rewards)
		}
	}
	// The entry after the last block is the next block's base fee.
	if last.Hash() == hashOf(n.headBlock()) {
		out.BaseFee = append(out.BaseFee, (*hexutil.Big)(n.producer.NextBaseFee()))
	} else {
		next := n.chain.BlockByNumber(last.NumberU64() + 1)
		out.BaseFee = append(out.BaseFee, (*hexutil.Big)(baseFeeOf(next.Header())))
	}
	if len(out.BlobBaseFee) > 0 {
		out.BlobBaseFee = append(out.BlobBaseFee, api.BlobBaseFee())
	}
	return out, nil
}

var (
	errInvalidPercentile = errors.New("invalid reward percentile")
	errRequestBeyondHead = errors.New("request beyond head block")
)

func baseFeeOf(h *types.Header) *big.Int {
	if h.BaseFee == nil {
		return new(big.Int)
	}
	return h.BaseFee
}

func (n *Node) headBlock() *types.Block {
	b, _ := n.chain.Head()
	return b
}

// blockRewards is geth's percentile rule: transactions sorted by the tip
// they paid, each weighted by its gas used.
func (n *Node) blockRewards(b *types.Block, percentiles []float64) ([]*hexutil.Big, error) {
	out := make([]*hexutil.Big, len(percentiles))
	if len(b.Transactions()) == 0 {
		for i := range out {
			out[i] = (*hexutil.Big)(new(big.Int))
		}
		return out, nil
	}
	receipts, err := n.chain.Receipts(b.Hash())
	if err != nil {
		return nil, err
	}
	type paid struct {
		gas uint64
		tip *big.Int
	}
	txs := make([]paid, len(b.Transactions()))
	baseFee := baseFeeOf(b.Header())
	for i, tx := range b.Transactions() {
		tip, _ := tx.EffectiveGasTip(baseFee)
		if tip == nil || tip.Sign() < 0 {
			tip = new(big.Int)
		}
		txs[i] = paid{gas: receipts[i].GasUsed, tip: tip}
	}
	slices.SortStableFunc(txs, func(a, b paid) int { return a.tip.Cmp(b.tip) })
	var i int
	sum := txs[0].gas
	for j, p := range percentiles {
		threshold := uint64(float64(b.GasUsed()) * p / 100)
		for sum < threshold && i < len(txs)-1 {
			i++
			sum += txs[i].gas
		}
		out[j] = (*hexutil.Big)(txs[i].tip)
	}
	return out, nil
}
