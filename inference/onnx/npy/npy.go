// Package npy reads NumPy arrays: .npy files (format versions 1, 2 and 3)
// and .npz archives of them, the form PyTorch and ONNX users keep
// calibration and evaluation data in. It is strict: the header must be the
// dictionary NumPy writes, the declared shape's byte count must equal the
// data that follows, and every size is checked against a caller's limit
// before anything is allocated for it.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/infergeth/infergeth/inference/onnx/detmath"
)

// ErrFormat: the bytes are not a NumPy array this reader accepts.
var ErrFormat = errors.New("not a valid .npy array")

// MaxHeaderBytes bounds a .npy header (NumPy's own writer keeps it small).
const MaxHeaderBytes = 1 << 16

// Array is a decoded array. Values hold every element as float64 (exact
// for every accepted dtype but 64-bit integers beyond 2^53, which are
// refused), in C (row-major) order.
type Array struct {
	DType  string // NumPy's descr, e.g. "<f4"
	Shape  []int
	Values []float64
}

// Elements is the product of the shape (1 for a scalar).
func (a *Array) Elements() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// itemSizes are the accepted dtypes ('|' and '=' byte order only where
// NumPy writes them) and their element sizes.
var itemSizes = map[string]int{
	"<f4": 4, "<f8": 8, "<f2": 2,
	"|i1": 1, "|u1": 1, "<i2": 2, "<u2": 2, "<i4": 4, "<u4": 4, "<i8": 8, "<u8": 8,
	"|b1": 1,
}

// Read decodes one .npy file. maxElements bounds the array's element count
// and is checked from the header, before the data is read.
func Read(r io.Reader, maxElements int) (*Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: %d-byte preamble: %v", ErrFormat, len(pre), err)
	}
	if !bytes.Equal(pre[:6], []byte("\x93NUMPY")) {
		return nil, fmt.Errorf("%w: no \\x93NUMPY magic", ErrFormat)
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: header length: %v", ErrFormat, err)
		}
		v := binary.LittleEndian.Uint32(b[:])
		if v > MaxHeaderBytes {
			return nil, fmt.Errorf("%w: header of %d bytes (at most %d)", ErrFormat, v, MaxHeaderBytes)
		}
		hlen = int(v)
	default:
		return nil, fmt.Errorf("%w: format version %d.%d", ErrFormat, pre[6], pre[7])
	}
	head := make([]byte, hlen)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	descr, fortran, shape, err := parseHeader(string(head))
	if err != nil {
		return nil, err
	}
	if fortran {
		return nil, fmt.Errorf("%w: fortran_order True is not supported (save with np.ascontiguousarray)", ErrFormat)
	}
	size, ok := itemSizes[descr]
	if !ok {
		return nil, fmt.Errorf("%w: dtype %q (accepted: little-endian float16/32/64, integers, bool)", ErrFormat, descr)
	}
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > maxElements/d) {
			return nil, fmt.Errorf("%w: shape %v exceeds %d elements", ErrFormat, shape, maxElements)
		}
		n *= d
	}
	if n > maxElements {
		return nil, fmt.Errorf("%w: shape %v exceeds %d elements", ErrFormat, shape, maxElements)
	}
	raw := make([]byte, n*size)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("%w: shape %v of %s needs %d data bytes: %v", ErrFormat, shape, descr, n*size, err)
	}
	var extra [1]byte
	if k, _ := r.Read(extra[:]); k != 0 {
		return nil, fmt.Errorf("%w: bytes after the %d data bytes that shape %v of %s declares", ErrFormat, n*size, shape, descr)
	}
	a := &Array{DType: descr, Shape: shape, Values: make([]float64, n)}
	if err := decodeValues(descr, raw, a.Values); err != nil {
		return nil, err
	}
	return a, nil
}

func decodeValues(descr string, raw []byte, out []float64) error {
	le := binary.LittleEndian
	for i := range out {
		var v float64
		switch descr {
		case "<f4":
			v = float64(math.Float32frombits(le.Uint32(raw[4*i:])))
		case "<f8":
			v = math.Float64frombits(le.Uint64(raw[8*i:]))
		case "<f2":
			v = detmath.Float16(le.Uint16(raw[2*i:]))
		case "|i1":
			v = float64(int8(raw[i]))
		case "|u1", "|b1":
			v = float64(raw[i])
		case "<i2":
			v = float64(int16(le.Uint16(raw[2*i:])))
		case "<u2":
			v = float64(le.Uint16(raw[2*i:]))
		case "<i4":
			v = float64(int32(le.Uint32(raw[4*i:])))
		case "<u4":
			v = float64(le.Uint32(raw[4*i:]))
		case "<i8":
			x := int64(le.Uint64(raw[8*i:]))
			if x > 1<<53 || x < -(1<<53) {
				return fmt.Errorf("%w: element %d (%d) is not exact as a float64", ErrFormat, i, x)
			}
			v = float64(x)
		case "<u8":
			x := le.Uint64(raw[8*i:])
			if x > 1<<53 {
				return fmt.Errorf("%w: element %d (%d) is not exact as a float64", ErrFormat, i, x)
			}
			v = float64(x)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: element %d is %v", ErrFormat, i, v)
		}
		out[i] = v
	}
	return nil
}

// parseHeader reads the Python dict literal NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces and a newline. Exactly those three keys.
func parseHeader(h string) (descr string, fortran bool, shape []int, err error) {
	bad := func(why string) error { return fmt.Errorf("%w: header %q: %s", ErrFormat, h, why) }
	s := strings.TrimRight(h, " \n")
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return "", false, nil, bad("not a dictionary")
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	seen := map[string]bool{}
	for s != "" {
		key, rest, ok := quoted(s)
		if !ok {
			return "", false, nil, bad("expected a quoted key")
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return "", false, nil, bad("expected ':' after " + key)
		}
		rest = strings.TrimSpace(rest[1:])
		if seen[key] {
			return "", false, nil, bad("key " + key + " twice")
		}
		seen[key] = true
		switch key {
		case "descr":
			descr, rest, ok = quoted(rest)
			if !ok {
				return "", false, nil, bad("descr is not a string")
			}
		case "fortran_order":
			switch {
			case strings.HasPrefix(rest, "False"):
				rest = rest[5:]
			case strings.HasPrefix(rest, "True"):
				fortran, rest = true, rest[4:]
			default:
				return "", false, nil, bad("fortran_order is not True or False")
			}
		case "shape":
			end := strings.IndexByte(rest, ')')
			if !strings.HasPrefix(rest, "(") || end < 0 {
				return "", false, nil, bad("shape is not a tuple")
			}
			shape = []int{}
			for _, f := range strings.Split(rest[1:end], ",") {
				f = strings.TrimSpace(f)
				if f == "" {
					continue
				}
				f = strings.TrimSuffix(f, "L")
				d, err := strconv.Atoi(f)
				if err != nil || d < 0 || d > math.MaxInt32 {
					return "", false, nil, bad("shape entry " + f)
				}
				shape = append(shape, d)
			}
			if len(shape) > 32 {
				return "", false, nil, bad("rank above 32")
			}
			rest = rest[end+1:]
		default:
			return "", false, nil, bad("unknown key " + key)
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, ",") {
			rest = strings.TrimSpace(rest[1:])
		} else if rest != "" {
			return "", false, nil, bad("expected ',' after " + key)
		}
		s = rest
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return "", false, nil, bad("needs descr, fortran_order and shape")
	}
	return descr, fortran, shape, nil
}

// quoted reads a '…' or "…" string literal without escapes.
func quoted(s string) (string, string, bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", s, false
	}
	return s[1 : 1+end], s[2+end:], true
}

// Write encodes values as a little-endian float32 .npy (version 1.0), the
// form the tests and tools write.
func Write(w io.Writer, shape []int, values []float32) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	return writeHeader(w, "<f4", tuple, func(buf *bytes.Buffer) {
		for _, v := range values {
			binary.Write(buf, binary.LittleEndian, math.Float32bits(v))
		}
	})
}

// WriteInt64 encodes values as a little-endian int64 .npy (labels).
func WriteInt64(w io.Writer, values []int64) error {
	return writeHeader(w, "<i8", "("+strconv.Itoa(len(values))+",)", func(buf *bytes.Buffer) {
		for _, v := range values {
			binary.Write(buf, binary.LittleEndian, v)
		}
	})
}

func writeHeader(w io.Writer, descr, tuple string, data func(*bytes.Buffer)) error {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	// NumPy pads the header so the data starts on a multiple of 64.
	total := 10 + len(h) + 1
	pad := (64 - total%64) % 64
	h += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	data(&buf)
	_, err := w.Write(buf.Bytes())
	return err
}
