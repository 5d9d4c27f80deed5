package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []int{2, 3}, []float32{1, -2, 3.5, 0, 1e-3, 7}); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%64 != 24 && (buf.Len()-24)%64 != 0 {
		t.Errorf("data does not start on a 64-byte boundary: %d bytes", buf.Len())
	}
	a, err := Read(bytes.NewReader(buf.Bytes()), 100)
	if err != nil {
		t.Fatal(err)
	}
	if a.DType != "<f4" || len(a.Shape) != 2 || a.Shape[0] != 2 || a.Shape[1] != 3 || a.Values[2] != 3.5 || a.Values[4] != float64(float32(1e-3)) {
		t.Errorf("got %+v", a)
	}
	var lb bytes.Buffer
	WriteInt64(&lb, []int64{3, 1, 4})
	l, err := Read(&lb, 10)
	if err != nil || l.DType != "<i8" || l.Values[2] != 4 {
		t.Fatalf("labels: %+v %v", l, err)
	}
}

func header(h string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

// TestRefusals: every declared size is checked before allocation, and the
// header is NumPy's dictionary and nothing else.
func TestRefusals(t *testing.T) {
	f4 := func(n int) []byte { return make([]byte, 4*n) }
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "preamble"},
		{"magic", []byte("NOTNUMPYxxxxxxxx"), "magic"},
		{"version", []byte("\x93NUMPY\x09\x00\x00\x00"), "format version 9"},
		{"short data", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", f4(5)), "needs 24 data bytes"},
		{"long data", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", f4(7)), "bytes after"},
		{"huge shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }\n", f4(1)), "exceeds 1000 elements"},
		{"overflowing shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }\n", nil), "exceeds"},
		{"big endian", header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", f4(1)), "dtype \">f4\""},
		{"object", header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", f4(1)), "dtype"},
		{"fortran", header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n", f4(1)), "fortran_order"},
		{"unknown key", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", f4(1)), "unknown key"},
		{"missing key", header("{'descr': '<f4', 'shape': (1,), }\n", f4(1)), "needs descr"},
		{"negative dim", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", f4(1)), "shape entry"},
		{"nan", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))), "NaN"},
	} {
		_, err := Read(bytes.NewReader(tc.b), 1000)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrFormat mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestNPZ(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, []string{"x", "labels"}, [][]int{{2, 2}, {2}}, [][]float32{{1, 2, 3, 4}, {0, 1}}); err != nil {
		t.Fatal(err)
	}
	arrs, err := ReadNPZ(buf.Bytes(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(arrs) != 2 || arrs[0].Name != "labels" || arrs[1].Name != "x" || arrs[1].Values[3] != 4 {
		t.Errorf("got %+v", arrs)
	}
	if _, err := ReadNPZ(buf.Bytes(), 5); err == nil || !strings.Contains(err.Error(), "elements") {
		t.Errorf("limit across members: %v", err)
	}
	if _, err := ReadNPZ([]byte("PK not really"), 100); !errors.Is(err, ErrFormat) {
		t.Errorf("not a zip: %v", err)
	}
}
