package npy

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

// MaxArrays bounds the arrays of one .npz archive.
const MaxArrays = 256

// Named is one array of an .npz archive.
type Named struct {
	Name string // the member's name without ".npy"
	*Array
}

// ReadNPZ decodes an .npz archive (numpy.savez or savez_compressed): every
// member must be a .npy array. maxElements bounds the elements of all the
// arrays together; each member's declared uncompressed size is checked
// before it is inflated. Arrays come back sorted by name.
func ReadNPZ(data []byte, maxElements int) ([]Named, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not a zip archive (.npz): %v", ErrFormat, err)
	}
	if len(zr.File) == 0 || len(zr.File) > MaxArrays {
		return nil, fmt.Errorf("%w: .npz with %d members (1 to %d)", ErrFormat, len(zr.File), MaxArrays)
	}
	var out []Named
	left := maxElements
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".npy") {
			return nil, fmt.Errorf("%w: .npz member %q is not a .npy file", ErrFormat, f.Name)
		}
		// 8 bytes per element is the largest dtype; the header is bounded.
		if f.UncompressedSize64 > uint64(left)*8+MaxHeaderBytes+16 {
			return nil, fmt.Errorf("%w: .npz member %q declares %d bytes, more than %d elements", ErrFormat, f.Name, f.UncompressedSize64, maxElements)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: .npz member %q: %v", ErrFormat, f.Name, err)
		}
		a, err := Read(io.LimitReader(rc, int64(f.UncompressedSize64)), left)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf(".npz member %q: %w", f.Name, err)
		}
		left -= a.Elements()
		out = append(out, Named{Name: strings.TrimSuffix(f.Name, ".npy"), Array: a})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("%w: .npz has %q twice", ErrFormat, out[i].Name)
		}
	}
	return out, nil
}

// WriteNPZ writes float32 arrays as an uncompressed .npz (numpy.savez), in
// the order given.
func WriteNPZ(w io.Writer, names []string, shapes [][]int, values [][]float32) error {
	zw := zip.NewWriter(w)
	for i, name := range names {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := Write(f, shapes[i], values[i]); err != nil {
			return err
		}
	}
	return zw.Close()
}
