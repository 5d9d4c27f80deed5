package runtime

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// broken is a backend whose programs fail: with an error, or a panic.
type broken struct{ panics bool }

func (b broken) Name() string { return "broken" }
func (b broken) Prepare(*inference.Model) (inference.Program, error) {
	return brokenProgram(b), nil
}

type brokenProgram broken

func (p brokenProgram) Run([]byte) ([]byte, error) {
	if p.panics {
		panic("kernel bug")
	}
	return nil, errors.New("device lost")
}

func TestFailingBackendFallsBackToReference(t *testing.T) {
	raw, err := os.ReadFile("../../tests/vectors/mlp/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	m, err := inference.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, m.InputBytes())
	ref, _ := reference.Backend{}.Prepare(m)
	want, err := ref.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []broken{{panics: false}, {panics: true}} {
		p, err := Prepare(b, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Run(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("panics=%v: got %x, %v; want the reference's %x", b.panics, got, err, want)
		}
		// A caller fault is not retried: it is the same on every backend.
		if _, err := p.Run(in[:1]); !errors.Is(err, inference.ErrBadInput) {
			t.Fatalf("panics=%v: short input gave %v", b.panics, err)
		}
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	var raws [][]byte
	for _, name := range []string{"mlp", "cnn", "transformer"} {
		raw, err := os.ReadFile("../../tests/vectors/" + name + "/model.bin")
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	// Room for the two largest but not all three.
	held := func(raw []byte) int {
		p, err := Prepare(reference.Backend{}, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p.HeldBytes()
	}
	c := NewCache(reference.Backend{}, held(raws[0])+held(raws[2]), nil)
	load := func(raw []byte) {
		if _, err := c.Load(inference.ID(raw), func() ([]byte, error) { return raw, nil }); err != nil {
			t.Fatal(err)
		}
	}
	load(raws[0])
	load(raws[1])
	load(raws[0]) // mlp is now the most recent
	load(raws[2]) // evicts cnn
	for i, want := range []bool{true, false, true} {
		if _, ok := c.Get(inference.ID(raws[i])); ok != want {
			t.Errorf("model %d cached = %v, want %v", i, ok, want)
		}
	}
	// Bytes that do not hash to the ID asked for are refused.
	if _, err := c.Load(inference.ModelID{1}, func() ([]byte, error) { return raws[1], nil }); err == nil {
		t.Fatal("bytes of another model were accepted")
	}
}
