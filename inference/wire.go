package inference

import "github.com/infergeth/infergeth/params"

// Byte layout of format v1 (docs/spec.md, "Byte layout"). All integers are
// little-endian.
const (
	// Magic opens every model: "INFM".
	Magic = "INFM"

	headerSize    = 32
	freshnessSize = 24
	tensorSize    = 32
	nodeHeadSize  = 8 // op u16, operand count u16, output u32
	align         = 8 // sections and constants start at multiples of 8
)

// header field offsets.
const (
	hMagic     = 0
	hVersion   = 4
	hOpset     = 6
	hTensors   = 8
	hNodes     = 12
	hInputs    = 16
	hOutputs   = 18
	hFreshness = 20
	hNodeBytes = 24
	hDataBytes = 28
)

func padTo(n int) int { return (n + align - 1) &^ (align - 1) }

// MaxFileBytes is how much a tool reads from a model file before refusing
// it: the format's limit, so a larger file is never read into memory.
const MaxFileBytes = params.MaxModelBytes
