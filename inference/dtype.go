package inference

import "fmt"

// DType is the element type of a tensor. All are signed integers stored
// little-endian.
type DType uint8

const (
	Int8  DType = 1
	Int16 DType = 2
	Int32 DType = 3
)

// Size is the width of one element in bytes.
func (d DType) Size() int {
	switch d {
	case Int8:
		return 1
	case Int16:
		return 2
	case Int32:
		return 4
	}
	return 0
}

// Min and Max are the representable range of the type.
func (d DType) Min() int64 {
	switch d {
	case Int8:
		return -128
	case Int16:
		return -32768
	case Int32:
		return -1 << 31
	}
	return 0
}

func (d DType) Max() int64 {
	switch d {
	case Int8:
		return 127
	case Int16:
		return 32767
	case Int32:
		return 1<<31 - 1
	}
	return 0
}

func (d DType) valid() bool { return d >= Int8 && d <= Int32 }

func (d DType) String() string {
	switch d {
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Int32:
		return "int32"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}
