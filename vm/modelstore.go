package vm

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethparams "github.com/ethereum/go-ethereum/params"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

// Models live in state (ARCHITECTURE.md decision 2). The model registry
// system contract stores a model's canonical bytes as the code of data
// contracts (chunks), each code being 0xFE followed by the payload, so that
// calling one halts at once. A manifest, itself a data contract, lists the
// chunk addresses (20 bytes each) in order. The registry keeps, in its first
// two storage slots (contracts/src/ModelRegistry.sol must not reorder them):
//
//	slot 0: mapping(bytes32 modelId => address manifest)
//	slot 1: mapping(bytes32 modelId => uint256 info)    (ModelInfo.Word)
const (
	registryManifestSlot = 0
	registryInfoSlot     = 1
)

// dataContractPrefix starts every data contract's code: INVALID, so a call
// into one halts instead of running model bytes as code.
const dataContractPrefix = 0xFE

// MaxDataPayload is the most payload one data contract holds (EIP-170's
// code size limit minus the prefix byte).
const MaxDataPayload = gethparams.MaxCodeSize - 1

// MaxModelChunks bounds the chunks a model may be split into.
const MaxModelChunks = 1024

// StateReader is the part of a StateDB the model store reads.
type StateReader interface {
	GetState(common.Address, common.Hash) common.Hash
	GetCode(common.Address) []byte
	GetCodeSize(common.Address) int
	GetCodeHash(common.Address) common.Hash
}

// mappingSlot is the storage slot of key in a Solidity mapping at slot.
func mappingSlot(key common.Hash, slot uint64) common.Hash {
	var buf [64]byte
	copy(buf[:32], key[:])
	binary.BigEndian.PutUint64(buf[56:], slot)
	return crypto.Keccak256Hash(buf[:])
}

// ModelInfo is what the registry records of a model at registration: the
// figures the precompile needs before it loads the model (gas is charged
// before any work), packed into one storage word.
type ModelInfo struct {
	Gas           uint64 // inference.Cost.Gas(): the model's own gas per call
	Size          uint32 // canonical bytes
	InputBytes    uint32
	OutputBytes   uint32
	InputElements uint32
	Freshness     uint16 // number of freshness requirements
}

// infoVersion marks a non-empty info word (so a zero word means "not registered").
const infoVersion = 1

// Word packs the info: bits 0-63 gas, 64-95 size, 96-127 input bytes,
// 128-159 output bytes, 160-191 input elements, 192-207 freshness count,
// 248-255 version (1).
func (i ModelInfo) Word() common.Hash {
	var w common.Hash
	binary.BigEndian.PutUint64(w[24:], i.Gas)
	binary.BigEndian.PutUint32(w[20:], i.Size)
	binary.BigEndian.PutUint32(w[16:], i.InputBytes)
	binary.BigEndian.PutUint32(w[12:], i.OutputBytes)
	binary.BigEndian.PutUint32(w[8:], i.InputElements)
	binary.BigEndian.PutUint16(w[6:], i.Freshness)
	w[0] = infoVersion
	return w
}

// decodeInfo unpacks a registry info word; ok is false for an empty word.
func decodeInfo(w common.Hash) (ModelInfo, bool) {
	if w[0] != infoVersion {
		return ModelInfo{}, false
	}
	return ModelInfo{
		Gas:           binary.BigEndian.Uint64(w[24:]),
		Size:          binary.BigEndian.Uint32(w[20:]),
		InputBytes:    binary.BigEndian.Uint32(w[16:]),
		OutputBytes:   binary.BigEndian.Uint32(w[12:]),
		InputElements: binary.BigEndian.Uint32(w[8:]),
		Freshness:     binary.BigEndian.Uint16(w[6:]),
	}, true
}

// InfoOf computes a model's registry info.
func InfoOf(m *inference.Model, size int) ModelInfo {
	return ModelInfo{
		Gas: m.Cost().Gas(), Size: uint32(size),
		InputBytes: uint32(m.InputBytes()), OutputBytes: uint32(m.OutputBytes()),
		InputElements: uint32(m.InputElements()), Freshness: uint16(len(m.Freshness)),
	}
}

// registered returns the manifest and info of model id in state, if registered.
func registered(state StateReader, id common.Hash) (common.Address, ModelInfo, bool) {
	info, ok := decodeInfo(state.GetState(params.ModelRegistryAddress, mappingSlot(id, registryInfoSlot)))
	if !ok {
		return common.Address{}, ModelInfo{}, false
	}
	manifest := common.BytesToAddress(state.GetState(params.ModelRegistryAddress, mappingSlot(id, registryManifestSlot)).Bytes())
	return manifest, info, true
}

// excessChunkGas is the gas for the chunks model info's manifest lists
// beyond the fewest that hold info.Size bytes (params.InferenceExcessChunkGas):
// every call reads each listed chunk's account. It reads the manifest's code
// size only, so it is cheap enough for RequiredGas.
func excessChunkGas(state StateReader, manifest common.Address, info ModelInfo) uint64 {
	n := state.GetCodeSize(manifest)
	if n <= 1 {
		return 0 // no list: the call reverts with InvalidModel
	}
	listed := uint64(n-1) / common.AddressLength
	fewest := max(1, (uint64(info.Size)+MaxDataPayload-1)/MaxDataPayload)
	if listed <= fewest {
		return 0
	}
	return (listed - fewest) * params.InferenceExcessChunkGas
}

// dataPayload returns the payload of a data contract's code.
func dataPayload(code []byte) ([]byte, bool) {
	if len(code) == 0 || code[0] != dataContractPrefix {
		return nil, false
	}
	return code[1:], true
}

// readManifest returns the chunk addresses a manifest lists.
func readManifest(state StateReader, manifest common.Address) ([]common.Address, error) {
	payload, ok := dataPayload(state.GetCode(manifest))
	if !ok || len(payload)%common.AddressLength != 0 || len(payload) == 0 {
		return nil, fmt.Errorf("manifest %s is not a data contract listing chunks", manifest)
	}
	n := len(payload) / common.AddressLength
	if n > MaxModelChunks {
		return nil, fmt.Errorf("manifest %s lists %d chunks (most: %d)", manifest, n, MaxModelChunks)
	}
	chunks := make([]common.Address, n)
	for i := range chunks {
		chunks[i] = common.BytesToAddress(payload[i*common.AddressLength : (i+1)*common.AddressLength])
	}
	return chunks, nil
}

// readChunks concatenates the payloads of the chunks, refusing a total
// above limit before copying more than it.
func readChunks(state StateReader, chunks []common.Address, limit int) ([]byte, error) {
	total := 0
	for i, c := range chunks {
		n := state.GetCodeSize(c)
		if n == 0 {
			return nil, fmt.Errorf("chunk %d (%s) has no code", i, c)
		}
		total += n - 1
		if total > limit {
			return nil, fmt.Errorf("chunks hold more than %d bytes", limit)
		}
	}
	out := make([]byte, 0, total)
	for i, c := range chunks {
		payload, ok := dataPayload(state.GetCode(c))
		if !ok {
			return nil, fmt.Errorf("chunk %d (%s) is not a data contract (its code must start with 0xFE)", i, c)
		}
		out = append(out, payload...)
	}
	return out, nil
}

// storedModel is where a state keeps a registered model: the registry's
// record and the chunks its manifest lists.
type storedModel struct {
	id       common.Hash
	manifest common.Address
	info     ModelInfo
	chunks   []common.Address
	// source names the bytes the chunks hold, by their code hashes: the
	// model cache's key (runtime.Stored).
	source runtime.Source
}

// locate finds model id in state without reading its bytes: the registry's
// record, the manifest's chunk list and each chunk's code hash. ok is false
// when id is not registered; err says why the manifest lists no chunks.
// Both depend on the state alone.
//
// A state's registry may list under id bytes that do not hash to id: the
// registry never records such a model (validate() hashes the bytes it
// registers, and a chunk's code cannot change once deployed: it starts with
// 0xFE, so it can never run SELFDESTRUCT), but an eth_call state override,
// anvil_setStorageAt or anvil_setCode can write any record and any code.
// Such a state computes with the bytes it holds, for the call that reads
// it; the model cache keys an entry by those bytes (their chunks' code
// hashes) as well as by id, so no other state ever gets it. The record must
// still describe the bytes (load checks the info word against the decoded
// model), so that the gas charged before loading is the model's.
func locate(state StateReader, id common.Hash) (storedModel, bool, error) {
	manifest, info, ok := registered(state, id)
	if !ok {
		return storedModel{}, false, nil
	}
	sm := storedModel{id: id, manifest: manifest, info: info}
	chunks, err := readManifest(state, manifest)
	if err != nil {
		return sm, true, err
	}
	sm.chunks = chunks
	// The key: the ID and the info word, which decide the outcome of a load
	// together with the bytes (readChunks' limit, load's check), then the
	// chunks' code hashes, which name the bytes. One account read per chunk.
	digests := make([][32]byte, 1, 1+len(chunks))
	digests[0] = info.Word()
	for _, c := range chunks {
		digests = append(digests, state.GetCodeHash(c))
	}
	sm.source = runtime.Stored(inference.ModelID(id), digests)
	return sm, true, nil
}

// read returns the model's bytes (the chunks' payloads, concatenated), at
// most the size the registry records.
func (sm storedModel) read(state StateReader) func() ([]byte, error) {
	return func() ([]byte, error) { return readChunks(state, sm.chunks, int(sm.info.Size)) }
}

// loadStored returns model sm, prepared, from cache or from state, and
// whether it came from the cache. A model whose bytes do not decode, or
// whose registry record does not describe them, is an error: the same on
// every node, whatever its cache holds, since the cache key names the bytes.
func loadStored(cache *runtime.Cache, state StateReader, sm storedModel) (*runtime.Prepared, bool, error) {
	prep, cached, err := cache.LoadFrom(sm.source, sm.read(state))
	if err != nil {
		return nil, cached, err
	}
	if got := InfoOf(prep.Model, prep.Size); got != sm.info {
		return nil, cached, fmt.Errorf("the registry's record of model %s (%+v) does not describe the bytes it lists (%+v)", sm.id, sm.info, got)
	}
	return prep, cached, nil
}

// DataContractInitCode returns the creation code that deploys a data
// contract holding payload: PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY,
// PUSH1 0, RETURN, then 0xFE and the payload. The registry contract uses
// the same bytes, so a data contract's address is a function of its
// content (CREATE2 with salt keccak256(payload)).
func DataContractInitCode(payload []byte) []byte {
	n := len(payload) + 1
	code := []byte{0x61, byte(n >> 8), byte(n), 0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, dataContractPrefix}
	return append(code, payload...)
}

// DataContractAddress is where the registry deploys a data contract holding
// payload with salt.
func DataContractAddress(salt common.Hash, payload []byte) common.Address {
	return crypto.CreateAddress2(params.ModelRegistryAddress, salt, crypto.Keccak256(DataContractInitCode(payload)))
}

// GenesisModel returns the accounts and registry storage that register the
// canonical model bytes raw at genesis exactly as the registry contract
// would: chunk data contracts, a manifest and the registry's two slots. The
// registry's other records (owner, metadata) are the caller's to add.
func GenesisModel(raw []byte) (map[common.Address]types.Account, map[common.Hash]common.Hash, error) {
	m, err := inference.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	id := common.Hash(inference.ID(raw))
	alloc := map[common.Address]types.Account{}
	var list []byte
	for off := 0; off < len(raw); off += MaxDataPayload {
		payload := raw[off:min(off+MaxDataPayload, len(raw))]
		addr := DataContractAddress(crypto.Keccak256Hash(payload), payload)
		alloc[addr] = types.Account{Code: append([]byte{dataContractPrefix}, payload...), Nonce: 1}
		list = append(list, addr.Bytes()...)
	}
	if len(list)/common.AddressLength > MaxModelChunks {
		return nil, nil, fmt.Errorf("model of %d bytes needs more than %d chunks", len(raw), MaxModelChunks)
	}
	manifest := DataContractAddress(id, list)
	alloc[manifest] = types.Account{Code: append([]byte{dataContractPrefix}, list...), Nonce: 1}
	storage := map[common.Hash]common.Hash{
		mappingSlot(id, registryManifestSlot): common.BytesToHash(manifest.Bytes()),
		mappingSlot(id, registryInfoSlot):     InfoOf(m, len(raw)).Word(),
	}
	return alloc, storage, nil
}
