package vm

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

// twinModels returns two models that take the same input and compute
// different outputs, with the same registry info word.
func twinModels(t *testing.T) (a, b []byte) {
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
