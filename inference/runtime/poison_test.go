package runtime

import (
	"bytes"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/reference"
)

// twins returns the canonical bytes of two models that take the same input
// and compute different outputs, and an input on which they differ.
func twins(t testing.TB) (a, b, input []byte) {
	t.Helper()
	parse := func(bound int) []byte {
		p, err := modeltext.Parse("input x: int8[4]\ny: int8[4] = Clamp(x) min=-" + itoa(bound) + " max=" + itoa(bound) + "\noutput y\n")
		if err != nil {
			t.Fatal(err)
		}
		return p.Bytes
	}
	return parse(10), parse(5), []byte{100, 156, 7, 0}
}

func itoa(v int) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

// referenceRun is what the reference computes for raw on input.
func referenceRun(t testing.TB, raw, input []byte) []byte {
	t.Helper()
	p, err := Prepare(reference.Backend{}, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(input)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A state may name model A by bytes that are not A's (a state override, a
// devnet setter). What such a state loads must never be what another state
// that names A by A's own bytes gets.
func TestCacheCannotBePoisonedByAnotherState(t *testing.T) {
	rawA, rawB, input := twins(t)
	wantA, wantB := referenceRun(t, rawA, input), referenceRun(t, rawB, input)
	if bytes.Equal(wantA, wantB) {
		t.Fatal("twin models compute the same output")
	}
	idA := inference.ID(rawA)
	c := NewCache(reference.Backend{}, 1<<30, nil)
	// What a state holds: the bytes in two parts, named by their digests
	// (in state: chunk contracts and their code hashes).
	run := func(raw []byte) []byte {
		t.Helper()
		parts := [][]byte{raw[:len(raw)/2], raw[len(raw)/2:]}
		src := Stored(idA, [][32]byte{inference.ID(parts[0]), inference.ID(parts[1])})
		p, _, err := c.LoadFrom(src, func() ([]byte, error) { return append(append([]byte{}, parts[0]...), parts[1]...), nil })
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Run(input)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := run(rawB); !bytes.Equal(got, wantB) {
		t.Fatalf("the overriding state computed %x, want B's %x (what it holds)", got, wantB)
	}
	if got := run(rawA); !bytes.Equal(got, wantA) {
		t.Fatalf("the honest state computed %x after the override, want A's %x", got, wantA)
	}
	// And the other way round: an honest entry is not what a state that
	// holds other bytes under A gets either.
	if got := run(rawB); !bytes.Equal(got, wantB) {
		t.Fatalf("the overriding state computed %x after an honest load, want B's %x", got, wantB)
	}
	if c.Len() != 2 {
		t.Fatalf("%d entries for two different byte strings", c.Len())
	}
}
