package contracts

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// registryArtifact is the model registry's build output, written by
// `make contracts` (node contracts/build.js) from src/ModelRegistry.sol;
// `make contracts-check` fails when it is stale.
//
//go:embed artifacts/ModelRegistry.json
var registryArtifact []byte

// Artifact is a compiled contract as contracts/build.js writes it.
type Artifact struct {
	Contract string `json:"contract"`
	Address  string `json:"address"`
	Compiler struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"compiler"`
	StorageLayout []struct {
		Label  string `json:"label"`
		Slot   uint64 `json:"slot"`
		Offset int    `json:"offset"`
		Type   string `json:"type"`
	} `json:"storageLayout"`
	RuntimeCodeHash common.Hash     `json:"runtimeCodeHash"`
	RuntimeBytecode hexutil.Bytes   `json:"runtimeBytecode"`
	ABI             json.RawMessage `json:"abi"`
}

// RegistryArtifact returns the model registry's artifact, checked against
// its own code hash.
func RegistryArtifact() (*Artifact, error) {
	var a Artifact
	if err := json.Unmarshal(registryArtifact, &a); err != nil {
		return nil, fmt.Errorf("contracts: artifacts/ModelRegistry.json: %w", err)
	}
	if len(a.RuntimeBytecode) == 0 || crypto.Keccak256Hash(a.RuntimeBytecode) != a.RuntimeCodeHash {
		return nil, fmt.Errorf("contracts: artifacts/ModelRegistry.json: runtime code does not match its hash (run make contracts)")
	}
	return &a, nil
}

// RegistryRuntimeCode is the code genesis puts at params.ModelRegistryAddress.
// The artifact is embedded and checked by this package's tests, so a failure
// here is a broken build: it panics.
func RegistryRuntimeCode() []byte {
	a, err := RegistryArtifact()
	if err != nil {
		panic(err)
	}
	return a.RuntimeBytecode
}

// RegistryABI is the registry's ABI as JSON (for accounts/abi.JSON).
func RegistryABI() []byte {
	a, err := RegistryArtifact()
	if err != nil {
		panic(err)
	}
	return a.ABI
}

// The registry's storage slots (consensus: declared in this order in
// src/ModelRegistry.sol; build.js refuses any other layout). The precompile
// reads the first two (vm/modelstore.go).
const (
	ManifestSlot         = 0 // mapping(bytes32 modelId => address manifest)
	InfoSlot             = 1 // mapping(bytes32 modelId => uint256 info word)
	OwnerSlot            = 2 // mapping(bytes32 modelId => address owner)
	MetadataSlot         = 3 // mapping(bytes32 modelId => string metadata)
	AllowListEnabledSlot = 4 // bool
	RoleSlot             = 5 // mapping(address account => uint256 role)
)

// Allow-list roles, stored at RoleKey(account).
const (
	RoleNone       = 0
	RoleRegistrant = 1 // may upload and register while the allow-list is on
	RoleAdmin      = 2 // may also set roles and switch the allow-list
)

// word is v as a storage word.
func word(v uint64) common.Hash {
	var w common.Hash
	binary.BigEndian.PutUint64(w[24:], v)
	return w
}

// mappingKey is the slot of key in a Solidity mapping declared at slot:
// keccak256(key ‖ slot), both 32-byte words.
func mappingKey(key common.Hash, slot uint64) common.Hash {
	var buf [64]byte
	copy(buf[:32], key[:])
	binary.BigEndian.PutUint64(buf[56:], slot)
	return crypto.Keccak256Hash(buf[:])
}

// ManifestKey is the storage key of manifestOf[modelId].
func ManifestKey(modelID common.Hash) common.Hash { return mappingKey(modelID, ManifestSlot) }

// InfoKey is the storage key of infoOf[modelId].
func InfoKey(modelID common.Hash) common.Hash { return mappingKey(modelID, InfoSlot) }

// OwnerKey is the storage key of ownerOf[modelId].
func OwnerKey(modelID common.Hash) common.Hash { return mappingKey(modelID, OwnerSlot) }

// MetadataKey is the storage key of metadataOf[modelId] (its head word).
func MetadataKey(modelID common.Hash) common.Hash { return mappingKey(modelID, MetadataSlot) }

// RoleKey is the storage key of roleOf[account].
func RoleKey(account common.Address) common.Hash {
	return mappingKey(common.BytesToHash(account.Bytes()), RoleSlot)
}

// stringStorage lays out a Solidity string stored at slot: up to 31 bytes
// inline (data left-aligned, length*2 in the last byte); longer, length*2+1
// in the slot and the data in 32-byte words from keccak256(slot).
func stringStorage(slot common.Hash, s string, into map[common.Hash]common.Hash) {
	b := []byte(s)
	if len(b) == 0 {
		return
	}
	if len(b) < 32 {
		var w common.Hash
		copy(w[:], b)
		w[31] = byte(2 * len(b))
		into[slot] = w
		return
	}
	into[slot] = word(uint64(2*len(b) + 1))
	base := crypto.Keccak256Hash(slot[:]).Big()
	for i := 0; i*32 < len(b); i++ {
		var w common.Hash
		copy(w[:], b[i*32:])
		into[common.BigToHash(new(big.Int).Add(base, big.NewInt(int64(i))))] = w
	}
}

// GenesisModelRecord is what genesis records of a model beyond what
// vm.GenesisModel writes (the chunks, the manifest, manifestOf and infoOf).
type GenesisModelRecord struct {
	ID       common.Hash
	Owner    common.Address // zero: nobody may change the metadata
	Metadata string
}

// RegistryGenesis is the registry's initial state.
type RegistryGenesis struct {
	// AllowListEnabled restricts upload and register to accounts with a role.
	AllowListEnabled bool
	// Admins get RoleAdmin; Registrants get RoleRegistrant.
	Admins      []common.Address
	Registrants []common.Address
	// Models get their owner and metadata recorded. Merge the storage
	// vm.GenesisModel returns for each into the account as well.
	Models []GenesisModelRecord
}

// Storage returns the registry's genesis storage for g.
func (g RegistryGenesis) Storage() map[common.Hash]common.Hash {
	st := map[common.Hash]common.Hash{}
	if g.AllowListEnabled {
		st[word(AllowListEnabledSlot)] = word(1)
	}
	for _, a := range g.Registrants {
		st[RoleKey(a)] = word(RoleRegistrant)
	}
	for _, a := range g.Admins {
		st[RoleKey(a)] = word(RoleAdmin)
	}
	for _, m := range g.Models {
		if m.Owner != (common.Address{}) {
			st[OwnerKey(m.ID)] = common.BytesToHash(m.Owner.Bytes())
		}
		stringStorage(MetadataKey(m.ID), m.Metadata, st)
	}
	return st
}

// Account returns the registry's genesis account: its runtime code and
// g's storage plus extra (the storage vm.GenesisModel returned for each
// demo model). A key in both must hold the same value.
func (g RegistryGenesis) Account(extra ...map[common.Hash]common.Hash) (types.Account, error) {
	st := g.Storage()
	for _, m := range extra {
		keys := make([]common.Hash, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].Cmp(keys[j]) < 0 })
		for _, k := range keys {
			if v, ok := st[k]; ok && v != m[k] {
				return types.Account{}, fmt.Errorf("contracts: registry genesis slot %s set twice (%s, %s)", k, v, m[k])
			}
			st[k] = m[k]
		}
	}
	return types.Account{Code: RegistryRuntimeCode(), Storage: st, Nonce: 1}, nil
}
