package vm

import (
	"bytes"
	"math/big"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

// twinModels returns two models that take the same input and compute
// different outputs, with the same registry info word.
func twinModels(t testing.TB) (a, b []byte) {
	t.Helper()
	parse := func(bound int) []byte {
		p, err := modeltext.Parse("input x: int8[4]\ny: int8[4] = Clamp(x) min=-" + strconv.Itoa(bound) + " max=" + strconv.Itoa(bound) + "\noutput y\n")
		if err != nil {
			t.Fatal(err)
		}
		return p.Bytes
	}
	return parse(10), parse(5)
}

// pointAt makes the registry's slots for model id name model other's
// manifest and info, as a state override or anvil_setStorageAt can.
func (c *testChain) pointAt(id, other common.Hash) {
	for _, slot := range []uint64{registryManifestSlot, registryInfoSlot} {
		c.state.SetState(params.ModelRegistryAddress, mappingSlot(id, slot), c.state.GetState(params.ModelRegistryAddress, mappingSlot(other, slot)))
	}
}

func (c *testChain) infer(t *testing.T, id common.Hash, input []byte) []byte {
	t.Helper()
	ret, _, err := c.call(inferCall(id, input), false)
	if err != nil {
		t.Fatalf("infer: %v %x", err, ret)
	}
	return decodeBytesResult(t, ret)
}

// Item 1 of issue 11: a state that maps model A to model B's bytes (an
// eth_call state override; a devnet setter later reverted) must not change
// what any other state computes for A.
func TestModelCacheCannotBePoisoned(t *testing.T) {
	rawA, rawB := twinModels(t)
	input := []byte{100, 156, 7, 0}
	wantA := referenceOutput(t, rawA, input)
	wantB := referenceOutput(t, rawB, input)
	for _, b := range runtime.Backends() {
		t.Run(b.Name()+"/override", func(t *testing.T) {
			c := newTestChain(t, b)
			idA, idB := c.register(rawA), c.register(rawB)
			honest := c.state
			// eth_call with a state override: a copy of the state, changed.
			c.state = honest.Copy()
			c.pointAt(idA, idB)
			if got := c.infer(t, idA, input); !bytes.Equal(got, wantB) {
				t.Fatalf("the overriding call computed %x, want %x (the bytes its state holds)", got, wantB)
			}
			c.state = honest
			if got := c.infer(t, idA, input); !bytes.Equal(got, wantA) {
				t.Fatalf("after an override, model A computed %x, want A's %x", got, wantA)
			}
		})
		t.Run(b.Name()+"/setter-then-revert", func(t *testing.T) {
			c := newTestChain(t, b)
			idA, idB := c.register(rawA), c.register(rawB)
			// anvil_setStorageAt, a call, evm_revert.
			snap := c.state.Snapshot()
			c.pointAt(idA, idB)
			c.infer(t, idA, input)
			c.state.RevertToSnapshot(snap)
			if got := c.infer(t, idA, input); !bytes.Equal(got, wantA) {
				t.Fatalf("after a setter and a revert, model A computed %x, want A's %x", got, wantA)
			}
		})
	}
}

func referenceOutput(t *testing.T, raw, input []byte) []byte {
	t.Helper()
	p, err := runtime.Prepare(reference.Backend{}, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(input)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// anvil_setCode on a chunk: the state holds other bytes under A's record;
// it computes them, and the honest state afterwards computes A.
func TestModelCacheFollowsChunkCode(t *testing.T) {
	rawA, rawB := twinModels(t)
	input := []byte{100, 156, 7, 0}
	wantA, wantB := referenceOutput(t, rawA, input), referenceOutput(t, rawB, input)
	c := newTestChain(t, reference.Backend{})
	idA := c.register(rawA)
	chunks, err := readManifest(c.state, common.BytesToAddress(c.state.GetState(params.ModelRegistryAddress, mappingSlot(idA, registryManifestSlot)).Bytes()))
	if err != nil || len(chunks) != 1 {
		t.Fatalf("chunks %v, %v", chunks, err)
	}
	if got := c.infer(t, idA, input); !bytes.Equal(got, wantA) {
		t.Fatalf("model A computed %x, want %x", got, wantA)
	}
	snap := c.state.Snapshot()
	c.state.SetCode(chunks[0], append([]byte{dataContractPrefix}, rawB...), 0)
	if got := c.infer(t, idA, input); !bytes.Equal(got, wantB) {
		t.Fatalf("with A's chunk holding B's bytes, the call computed %x, want %x (what the state holds)", got, wantB)
	}
	c.state.RevertToSnapshot(snap)
	if got := c.infer(t, idA, input); !bytes.Equal(got, wantA) {
		t.Fatalf("after the chunk's code was restored, model A computed %x, want %x", got, wantA)
	}
}

// A record that does not describe the bytes it lists (only an override or a
// setter can write one) reverts with InvalidModel, with the same revert data
// whether or not the node has those bytes cached.
func TestRecordThatDoesNotDescribeItsBytes(t *testing.T) {
	rawA, _ := twinModels(t)
	rawM, _, _ := loadVector(t, "mlp")
	input := []byte{100, 156, 7, 0}
	for _, tc := range []struct {
		name    string
		corrupt func(c *testChain, idA, idM common.Hash)
	}{
		{"manifest of a model of another size", func(c *testChain, idA, idM common.Hash) {
			c.state.SetState(params.ModelRegistryAddress, mappingSlot(idA, registryManifestSlot),
				c.state.GetState(params.ModelRegistryAddress, mappingSlot(idM, registryManifestSlot)))
		}},
		{"gas that is not the model's", func(c *testChain, idA, _ common.Hash) {
			w := c.state.GetState(params.ModelRegistryAddress, mappingSlot(idA, registryInfoSlot))
			info, _ := decodeInfo(w)
			info.Gas--
			c.state.SetState(params.ModelRegistryAddress, mappingSlot(idA, registryInfoSlot), info.Word())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reverts [][]byte
			for _, warm := range []bool{false, true} {
				c := newTestChain(t, reference.Backend{})
				idA, idM := c.register(rawA), c.register(rawM)
				if warm { // the node has both models' honest bytes cached
					c.infer(t, idA, input)
					c.infer(t, idM, make([]byte, 96))
				}
				tc.corrupt(c, idA, idM)
				ret, _, err := c.call(inferCall(idA, input), false)
				wantRevert(t, ret, err, errInvalidModel)
				reverts = append(reverts, ret)
			}
			if !bytes.Equal(reverts[0], reverts[1]) {
				t.Fatalf("the revert depends on the cache:\ncold %x\nwarm %x", reverts[0], reverts[1])
			}
		})
	}
}

// relist lists model id's bytes in its chunks followed by extra empty
// chunks (code 0xFE alone: validate() accepts them), under a new manifest.
func (c *testChain) relist(id common.Hash, extra int) {
	slot := mappingSlot(id, registryManifestSlot)
	honest := common.BytesToAddress(c.state.GetState(params.ModelRegistryAddress, slot).Bytes())
	list := append([]byte{}, c.state.GetCode(honest)[1:]...)
	for i := 0; i < extra; i++ {
		addr := common.BytesToAddress(crypto.Keccak256([]byte("empty chunk"), []byte{byte(i), byte(i >> 8)}))
		c.state.SetCode(addr, []byte{dataContractPrefix}, tracing.CodeChangeUnspecified)
		c.state.SetNonce(addr, 1, tracing.NonceChangeUnspecified)
		list = append(list, addr.Bytes()...)
	}
	manifest := common.BytesToAddress(crypto.Keccak256([]byte("relisted"), id[:]))
	c.state.SetCode(manifest, append([]byte{dataContractPrefix}, list...), tracing.CodeChangeUnspecified)
	c.state.SetNonce(manifest, 1, tracing.NonceChangeUnspecified)
	c.state.SetState(params.ModelRegistryAddress, slot, common.BytesToHash(manifest.Bytes()))
}

// Every call reads each listed chunk's account: a model listed in more
// chunks than its size needs pays params.InferenceExcessChunkGas for each
// extra one, in infer, quote and the node's description alike; a model in
// full chunks pays nothing extra.
func TestExcessChunksArePaidFor(t *testing.T) {
	rawA, _ := twinModels(t)
	input := []byte{100, 156, 7, 0}
	want := referenceOutput(t, rawA, input)
	for _, extra := range []int{0, 1, 40} {
		c := newTestChain(t, reference.Backend{})
		id := c.register(rawA)
		_, info, _ := registered(c.state, id)
		c.relist(id, extra)
		wantGas := params.InferenceCallGas + info.Gas + uint64(extra)*params.InferenceExcessChunkGas
		ret, used, err := c.call(inferCall(id, input), false)
		if err != nil {
			t.Fatalf("%d extra chunks: %v", extra, err)
		}
		if got := decodeBytesResult(t, ret); !bytes.Equal(got, want) || used != wantGas {
			t.Fatalf("%d extra chunks: output %x, gas %d; want %x, %d", extra, got, used, want, wantGas)
		}
		ret, _, err = c.call(append(append(fnQuote[:], id[:]...), word(uint64(len(input)))...), true)
		if err != nil || new(big.Int).SetBytes(ret).Uint64() != wantGas {
			t.Fatalf("%d extra chunks: quote %x, %v; want %d", extra, ret, err, wantGas)
		}
		d, ok, err := c.pre.Describe(c.state, id)
		if !ok || err != nil || d.CallGas != wantGas || d.Chunks != 1+extra {
			t.Fatalf("%d extra chunks: described as %+v, %v, %v", extra, d, ok, err)
		}
	}
}
