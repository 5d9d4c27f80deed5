package inference_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
)

// vectorModels returns the committed composed vectors' model bytes.
func vectorModels(t testing.TB) map[string][]byte {
	paths, err := filepath.Glob("../tests/vectors/*/model.bin")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no vector models found: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(p))] = b
	}
	return out
}

func TestDecodeEncodeRoundTrip(t *testing.T) {
	for name, raw := range vectorModels(t) {
		m, err := inference.Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		enc, err := inference.Encode(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(enc, raw) {
			t.Errorf("%s: encode(decode(b)) differs from b", name)
		}
	}
}

const smallModel = `
input x: int8[1,3] zp=-2
const w: int8[2,3] = [1 -2 3 -4 5 -6]
const b: int32[2] = [7 -8]
const m: int32[2] = [1073741824 2147483647]
const s: int8[2] = [31 33]
h: int8[1,2] zp=4 = FullyConnected(x, w, b, m, s) qmin=4 qmax=127
t: int8[2,1] zp=4 = Transpose(h) perm=[1,0]
output h, t
fresh element=1 maxAge=60 feedMultiplier=3 feedShift=2
`

// TestEveryByteIsCanonical flips every byte of a model to several values:
// each result is either refused or decodes to a model that encodes back to
// exactly the mutated bytes. No two encodings decode to the same model.
func TestEveryByteIsCanonical(t *testing.T) {
	p, err := modeltext.Parse(smallModel)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for i := range p.Bytes {
		for _, v := range []byte{0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, p.Bytes[i] ^ 1} {
			if v == p.Bytes[i] {
				continue
			}
			b := append([]byte(nil), p.Bytes...)
			b[i] = v
			m, err := inference.Decode(b)
			if err != nil {
				if !errors.Is(err, inference.ErrInvalidModel) {
					t.Fatalf("byte %d = %#x: error %v does not match ErrInvalidModel", i, v, err)
				}
				continue
			}
			accepted++
			enc, err := inference.Encode(m)
			if err != nil {
				t.Fatalf("byte %d = %#x: decoded but does not encode: %v", i, v, err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatalf("byte %d = %#x: decoded, but encodes to different bytes", i, v)
			}
		}
	}
	// Weight, bias and attribute bytes may legitimately change: the test
	// must have seen some accepted mutations, or it checked nothing.
	if accepted == 0 {
		t.Fatal("no mutation was accepted; the round-trip check never ran")
	}
}

func TestTruncationsAndExtensionsAreRefused(t *testing.T) {
	p, err := modeltext.Parse(smallModel)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(p.Bytes); n++ {
		if _, err := inference.Decode(p.Bytes[:n]); err == nil {
			t.Fatalf("a %d-byte prefix of a %d-byte model decoded", n, len(p.Bytes))
		}
	}
	for _, extra := range []int{1, 7, 8, 64} {
		b := append(append([]byte(nil), p.Bytes...), make([]byte, extra)...)
		if _, err := inference.Decode(b); err == nil {
			t.Fatalf("the model with %d zero bytes appended decoded", extra)
		}
	}
}

func TestOversizedModelIsRefusedBeforeParsing(t *testing.T) {
	b := make([]byte, 16<<20+1)
	copy(b, inference.Magic)
	_, err := inference.Decode(b)
	var me *inference.ModelError
	if !errors.As(err, &me) || me.Field != "size" {
		t.Fatalf("got %v, want a size refusal", err)
	}
}

func TestModelIDIsKeccakOfBytes(t *testing.T) {
	// keccak256("") is the well-known c5d2...a470.
	id := inference.ID(nil)
	want := "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
	if got := bytesHex(id[:]); got != want {
		t.Fatalf("ID(nil) = %s, want %s", got, want)
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, v := range b {
		out[2*i], out[2*i+1] = digits[v>>4], digits[v&15]
	}
	return string(out)
}

func TestInputElementDType(t *testing.T) {
	p, err := modeltext.Parse(`
input a: int8[2]
input b: int32[3]
y: int32[3] = Clamp(b) min=0 max=5
z: int8[2] = Clamp(a) min=0 max=5
output y, z
`)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Model
	for e, want := range []inference.DType{inference.Int8, inference.Int8, inference.Int32, inference.Int32, inference.Int32} {
		got, _, ok := m.InputElementDType(e)
		if !ok || got != want {
			t.Errorf("element %d: %v %v, want %v", e, got, ok, want)
		}
	}
	if _, _, ok := m.InputElementDType(5); ok {
		t.Error("element 5 of 5 reported present")
	}
	if m.InputBytes() != 2+12 || m.OutputBytes() != 12+2 {
		t.Errorf("input %d output %d bytes", m.InputBytes(), m.OutputBytes())
	}
}
