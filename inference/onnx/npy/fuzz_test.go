package npy

import (
	"bytes"
	"testing"
)

// FuzzRead: no input panics, and an accepted array holds exactly the
// elements its shape declares.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(buf.Bytes())
	buf.Reset()
	WriteInt64(&buf, []int64{7, 8})
	f.Add(buf.Bytes())
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '<f4'}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b), 1<<16)
		if err == nil && a.Elements() != len(a.Values) {
			t.Fatalf("shape %v but %d values", a.Shape, len(a.Values))
		}
		ReadNPZ(b, 1<<16)
	})
}
