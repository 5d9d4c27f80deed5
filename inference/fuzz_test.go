package inference_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// FuzzDecode: any bytes either fail with ErrInvalidModel or decode to a
// model that encodes back to exactly the same bytes. Never a panic.
func FuzzDecode(f *testing.F) {
	for _, b := range vectorModels(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := inference.Decode(b)
		if err != nil {
			if !errors.Is(err, inference.ErrInvalidModel) {
				t.Fatalf("error %v does not match ErrInvalidModel", err)
			}
			return
		}
		enc, err := inference.Encode(m)
		if err != nil {
			t.Fatalf("decoded model does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatal("decode accepted non-canonical bytes")
		}
	})
}

// FuzzValidate: whatever parses, Validate judges without panicking; a model
// it accepts runs on the reference backend without a panic, and gives either
// exactly OutputBytes bytes or an ErrBadInput (a gather index out of range).
func FuzzValidate(f *testing.F) {
	for _, b := range vectorModels(f) {
		f.Add(b, []byte{1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, b []byte, seed []byte) {
		m, err := inference.Parse(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			if !errors.Is(err, inference.ErrInvalidModel) {
				t.Fatalf("error %v does not match ErrInvalidModel", err)
			}
			return
		}
		c := m.Cost()
		if c.Gas() < 2000 || c.MACs+c.ElementOps > 1<<20 {
			return // valid but too slow to run on every fuzz iteration
		}
		input := make([]byte, m.InputBytes())
		for i := range input {
			if len(seed) > 0 {
				input[i] = seed[i%len(seed)] + byte(i)
			}
		}
		prog, err := reference.Backend{}.Prepare(m)
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
		out, err := prog.Run(input)
		if err != nil {
			if !errors.Is(err, inference.ErrBadInput) {
				t.Fatalf("run: %v is not ErrBadInput", err)
			}
			return
		}
		if len(out) != m.OutputBytes() {
			t.Fatalf("output %d bytes, model declares %d", len(out), m.OutputBytes())
		}
	})
}
