package node

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// Limits of one log query (geth's topic limits).
const (
	maxTopics    = 4
	maxSubTopics = 1000
	maxAddresses = 1000
)

var errExceedMaxTopics = errors.New("exceed max topics")

// filterQuery is the criteria of eth_getLogs, eth_newFilter and the logs
// subscription.
type filterQuery struct {
	BlockHash *common.Hash
	FromBlock *rpc.BlockNumber
	ToBlock   *rpc.BlockNumber
	Addresses []common.Address
	// Topics[i] lists the accepted values at position i; empty accepts any.
	Topics [][]common.Hash
}

// UnmarshalJSON accepts an address or a list of addresses, and topics as
// null, a hash, or a list of hashes (where a null member accepts any).
func (q *filterQuery) UnmarshalJSON(data []byte) error {
	var raw struct {
		BlockHash *common.Hash      `json:"blockHash"`
		FromBlock *rpc.BlockNumber  `json:"fromBlock"`
		ToBlock   *rpc.BlockNumber  `json:"toBlock"`
		Addresses json.RawMessage   `json:"address"`
		Topics    []json.RawMessage `json:"topics"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw.BlockHash != nil && (raw.FromBlock != nil || raw.ToBlock != nil) {
		return errors.New("cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other")
	}
	q.BlockHash, q.FromBlock, q.ToBlock = raw.BlockHash, raw.FromBlock, raw.ToBlock
	q.Addresses = nil
	if len(raw.Addresses) > 0 && string(raw.Addresses) != "null" {
		var one common.Address
		if err := json.Unmarshal(raw.Addresses, &one); err == nil {
			q.Addresses = []common.Address{one}
		} else if err := json.Unmarshal(raw.Addresses, &q.Addresses); err != nil {
			return fmt.Errorf("invalid addresses in query: %w", err)
		}
	}
	if len(q.Addresses) > maxAddresses {
		return fmt.Errorf("too many addresses: %d > %d", len(q.Addresses), maxAddresses)
	}
	if len(raw.Topics) > maxTopics {
		return errExceedMaxTopics
	}
	q.Topics = make([][]common.Hash, len(raw.Topics))
	for i, t := range raw.Topics {
		if len(t) == 0 || string(t) == "null" {
			continue
		}
		var one common.Hash
		if err := json.Unmarshal(t, &one); err == nil {
			q.Topics[i] = []common.Hash{one}
			continue
		}
		var list []*common.Hash
		if err := json.Unmarshal(t, &list); err != nil {
			return fmt.Errorf("invalid topic(s): %w", err)
		}
		if len(list) > maxSubTopics {
			return errExceedMaxTopics
		}
		for _, h := range list {
			if h == nil { // a null member accepts anything at this position
				q.Topics[i] = nil
				break
			}
			q.Topics[i] = append(q.Topics[i], *h)
		}
	}
	return nil
}

// matches reports whether l satisfies the address and topic criteria.
func (q *filterQuery) matches(l *types.Log) bool {
	if len(q.Addresses) > 0 {
		found := false
		for _, a := range q.Addresses {
			if a == l.Address {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(q.Topics) > len(l.Topics) {
		return false
	}
	for i, want := range q.Topics {
		if len(want) == 0 {
			continue
		}
		found := false
		for _, t := range want {
			if t == l.Topics[i] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// bloomMayMatch reports whether a block with this bloom can hold a match.
func (q *filterQuery) bloomMayMatch(bloom types.Bloom) bool {
	if len(q.Addresses) > 0 {
		found := false
		for _, a := range q.Addresses {
			if types.BloomLookup(bloom, a) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, want := range q.Topics {
		if len(want) == 0 {
			continue
		}
		found := false
		for _, t := range want {
			if types.BloomLookup(bloom, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
