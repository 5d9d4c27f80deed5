package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

// maxProofKeys bounds the storage keys of one eth_getProof (geth's limit).
const maxProofKeys = 1024

// proofList collects trie nodes as a Merkle proof writes them.
type proofList []string

func (p *proofList) Put(_ []byte, value []byte) error {
	*p = append(*p, hexutil.Encode(value))
	return nil
}

func (p *proofList) Delete([]byte) error { return errors.New("proof list: delete not supported") }

type storageProof struct {
	Key   string       `json:"key"`
	Value *hexutil.Big `json:"value"`
	Proof []string     `json:"proof"`
}

type accountProof struct {
	Address      common.Address `json:"address"`
	AccountProof []string       `json:"accountProof"`
	Balance      *hexutil.Big   `json:"balance"`
	CodeHash     common.Hash    `json:"codeHash"`
	Nonce        hexutil.Uint64 `json:"nonce"`
	StorageHash  common.Hash    `json:"storageHash"`
	StorageProof []storageProof `json:"storageProof"`
}

// GetProof is eth_getProof (EIP-1186), against the state root the block's
// state actually has (the head's edited root after devnet state edits).
func (api *ethAPI) GetProof(ctx context.Context, address common.Address, keys []string, block *rpc.BlockNumberOrHash) (*accountProof, error) {
	if len(keys) > maxProofKeys {
		return nil, &invalidParamsError{fmt.Sprintf("too many storage keys requested (max %d, got %d)", maxProofKeys, len(keys))}
	}
	slots := make([]common.Hash, len(keys))
	for i, k := range keys {
		slot, err := decodeSlot(k)
		if err != nil {
			return nil, &invalidParamsError{fmt.Sprintf("%v: %q", err, k)}
		}
		slots[i] = slot
	}
	st, root, err := api.n.stateAndRoot(orLatest(block))
	if err != nil {
		return nil, err
	}
	storageRoot := st.GetStorageRoot(address)
	out := &accountProof{
		Address:      address,
		Balance:      (*hexutil.Big)(st.GetBalance(address).ToBig()),
		CodeHash:     st.GetCodeHash(address),
		Nonce:        hexutil.Uint64(st.GetNonce(address)),
		StorageHash:  storageRoot,
		StorageProof: make([]storageProof, len(slots)),
	}
	if out.StorageHash == (common.Hash{}) {
		out.StorageHash = types.EmptyRootHash
	}
	var storageTrie state.Trie
	if storageRoot != types.EmptyRootHash && storageRoot != (common.Hash{}) {
		if storageTrie, err = st.Database().OpenStorageTrie(root, address, storageRoot, nil); err != nil {
			return nil, err
		}
	}
	for i, slot := range slots {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		key := hexutil.Encode(slot[:])
		if len(keys[i]) != 66 {
			key = hexutil.EncodeBig(slot.Big())
		}
		p := storageProof{Key: key, Value: (*hexutil.Big)(st.GetState(address, slot).Big()), Proof: []string{}}
		if storageTrie != nil {
			var proof proofList
			if err := storageTrie.Prove(crypto.Keccak256(slot.Bytes()), &proof); err != nil {
				return nil, err
			}
			p.Proof = proof
		}
		out.StorageProof[i] = p
	}
	tr, err := st.Database().OpenTrie(root)
	if err != nil {
		return nil, err
	}
	var proof proofList
	if err := tr.Prove(crypto.Keccak256(address.Bytes()), &proof); err != nil {
		return nil, err
	}
	out.AccountProof = proof
	return out, st.Error()
}

// stateAndRoot is stateAt that also names the state's root.
func (n *Node) stateAndRoot(bnh rpc.BlockNumberOrHash) (*state.StateDB, common.Hash, error) {
	st, header, err := n.stateAt(bnh)
	if err != nil {
		return nil, common.Hash{}, err
	}
	root := header.Root
	if head, headRoot := n.chain.Head(); head.Hash() == header.Hash() {
		root = headRoot
	}
	return st, root, nil
}
