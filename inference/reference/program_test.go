package reference_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

func loadVector(t *testing.T, name string) (*inference.Model, []byte) {
	raw, err := os.ReadFile(filepath.Join("../../tests/vectors", name, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := inference.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m, raw
}

func TestWrongInputLengthIsAnError(t *testing.T) {
	m, _ := loadVector(t, "mlp")
	prog, err := reference.Backend{}.Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, m.InputBytes() - 1, m.InputBytes() + 1} {
		_, err := prog.Run(make([]byte, n))
		if !errors.Is(err, inference.ErrBadInput) || !strings.Contains(err.Error(), "the model takes 96") {
			t.Errorf("%d bytes: got %v, want a bad-input error naming the length", n, err)
		}
	}
}

// TestConcurrentRunsAgree: a Program is shared by many goroutines (a node
// runs transactions and eth_calls at once); every run gives the same bytes.
func TestConcurrentRunsAgree(t *testing.T) {
	m, _ := loadVector(t, "transformer")
	prog, err := reference.Backend{}.Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile("../../tests/vectors/transformer/input.hex")
	if err != nil {
		t.Fatal(err)
	}
	in := decodeHex(t, string(input))
	want, err := prog.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				got, err := prog.Run(in)
				if err != nil || !bytes.Equal(got, want) {
					errs <- errors.New("a concurrent run differed")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func decodeHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The input buffer is never written: a caller may reuse it.
func TestRunDoesNotModifyInput(t *testing.T) {
	m, _ := loadVector(t, "cnn")
	prog, err := reference.Backend{}.Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, m.InputBytes())
	for i := range in {
		in[i] = byte(i * 7)
	}
	before := append([]byte(nil), in...)
	if _, err := prog.Run(in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, before) {
		t.Fatal("Run modified its input")
	}
}
