package inference

import (
	"encoding/binary"
	"fmt"

	"github.com/infergeth/infergeth/params"
)

// Decode parses canonical model bytes and validates the model. It refuses
// anything that Encode would not reproduce byte for byte, and every model
// that Validate refuses. It never panics and never allocates more than a
// small multiple of len(b).
func Decode(b []byte) (*Model, error) {
	m, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Parse reads the byte layout and checks that it is canonical (sizes agree,
// reserved fields and padding are zero, every index is in range), without the
// semantic checks of Validate.
func Parse(b []byte) (*Model, error) {
	le := binary.LittleEndian
	if len(b) > params.MaxModelBytes {
		return nil, refuse("size", "%d bytes exceeds MaxModelBytes (%d)", len(b), params.MaxModelBytes)
	}
	if len(b) < headerSize {
		return nil, refuse("size", "%d bytes is shorter than the %d-byte header", len(b), headerSize)
	}
	if string(b[hMagic:hMagic+4]) != Magic {
		return nil, refuse("header.magic", "%q is not %q", b[hMagic:hMagic+4], Magic)
	}
	if v := le.Uint16(b[hVersion:]); v != params.ModelFormatVersion {
		return nil, refuse("header.version", "format version %d is not supported (this node reads %d)", v, params.ModelFormatVersion)
	}
	if v := le.Uint16(b[hOpset:]); v != params.ModelOpsetVersion {
		return nil, refuse("header.opset", "op set %d is not supported (this node runs %d)", v, params.ModelOpsetVersion)
	}
	numTensors := le.Uint32(b[hTensors:])
	numNodes := le.Uint32(b[hNodes:])
	numInputs := int(le.Uint16(b[hInputs:]))
	numOutputs := int(le.Uint16(b[hOutputs:]))
	numFresh := le.Uint32(b[hFreshness:])
	nodeBytes := le.Uint32(b[hNodeBytes:])
	dataBytes := le.Uint32(b[hDataBytes:])
	switch {
	case numTensors > params.MaxModelTensors:
		return nil, refuse("header.tensors", "%d exceeds MaxModelTensors (%d)", numTensors, params.MaxModelTensors)
	case numNodes > params.MaxModelNodes:
		return nil, refuse("header.nodes", "%d exceeds MaxModelNodes (%d)", numNodes, params.MaxModelNodes)
	case numNodes == 0:
		return nil, refuse("header.nodes", "a model needs at least one node")
	case numInputs == 0 || numInputs > params.MaxModelInputs:
		return nil, refuse("header.inputs", "%d is outside [1, MaxModelInputs (%d)]", numInputs, params.MaxModelInputs)
	case numOutputs == 0 || numOutputs > params.MaxModelOutputs:
		return nil, refuse("header.outputs", "%d is outside [1, MaxModelOutputs (%d)]", numOutputs, params.MaxModelOutputs)
	case numFresh > params.MaxFreshnessEntries:
		return nil, refuse("header.freshness", "%d exceeds MaxFreshnessEntries (%d)", numFresh, params.MaxFreshnessEntries)
	case nodeBytes%4 != 0:
		return nil, refuse("header.nodeBytes", "%d is not a multiple of 4", nodeBytes)
	case dataBytes%align != 0:
		return nil, refuse("header.dataBytes", "%d is not a multiple of %d", dataBytes, align)
	}
	// Every count is bounded now; the declared sizes must add up to the
	// length exactly before anything is allocated from them.
	lists := padTo(4 * (numInputs + numOutputs))
	want := uint64(headerSize) + uint64(lists) + uint64(numFresh)*freshnessSize +
		uint64(numTensors)*tensorSize + uint64(padTo(int(nodeBytes))) + uint64(dataBytes)
	if want != uint64(len(b)) {
		return nil, refuse("size", "the header declares %d bytes but the model has %d", want, len(b))
	}

	m := &Model{
		Inputs:  make([]int, numInputs),
		Outputs: make([]int, numOutputs),
	}
	off := headerSize
	for i := range m.Inputs {
		m.Inputs[i] = int(le.Uint32(b[off:]))
		if uint32(m.Inputs[i]) >= numTensors {
			return nil, refuse(fmt.Sprintf("inputs[%d]", i), "tensor %d does not exist (%d tensors)", m.Inputs[i], numTensors)
		}
		off += 4
	}
	for i := range m.Outputs {
		m.Outputs[i] = int(le.Uint32(b[off:]))
		if uint32(m.Outputs[i]) >= numTensors {
			return nil, refuse(fmt.Sprintf("outputs[%d]", i), "tensor %d does not exist (%d tensors)", m.Outputs[i], numTensors)
		}
		off += 4
	}
	if err := checkZero(b, off, headerSize+lists, "padding after outputs"); err != nil {
		return nil, err
	}
	off = headerSize + lists

	if numFresh > 0 {
		m.Freshness = make([]Freshness, numFresh)
	}
	for i := range m.Freshness {
		f := &m.Freshness[i]
		f.MaxAge = le.Uint64(b[off:])
		f.Element = le.Uint32(b[off+8:])
		f.FeedMultiplier = int32(le.Uint32(b[off+12:]))
		f.FeedShift = le.Uint32(b[off+16:])
		if r := le.Uint32(b[off+20:]); r != 0 {
			return nil, refuse(fmt.Sprintf("freshness[%d].reserved", i), "must be 0, is %d", r)
		}
		off += freshnessSize
	}

	m.Tensors = make([]Tensor, numTensors)
	for i := range m.Tensors {
		if err := parseTensor(b[off:off+tensorSize], i, &m.Tensors[i]); err != nil {
			return nil, err
		}
		off += tensorSize
	}

	nodeEnd := off + int(nodeBytes)
	m.Nodes = make([]Node, numNodes)
	for i := range m.Nodes {
		n, err := parseNode(b[off:nodeEnd], i, numTensors, &m.Nodes[i])
		if err != nil {
			return nil, err
		}
		off += n
	}
	if off != nodeEnd {
		return nil, refuse("header.nodeBytes", "declares %d bytes of nodes but the %d nodes take %d", nodeBytes, numNodes, int(nodeBytes)-(nodeEnd-off))
	}
	if err := checkZero(b, off, padTo(off), "padding after nodes"); err != nil {
		return nil, err
	}
	off = padTo(off)

	dataEnd := off + int(dataBytes)
	for i := range m.Tensors {
		t := &m.Tensors[i]
		if t.Kind != Constant {
			continue
		}
		size := t.Bytes()
		if size > dataEnd-off {
			return nil, refuse(fmt.Sprintf("tensors[%d].data", i), "needs %d bytes but only %d of the declared data remain", size, dataEnd-off)
		}
		t.Data = append([]byte(nil), b[off:off+size]...)
		end := off + padTo(size)
		if end > dataEnd {
			return nil, refuse(fmt.Sprintf("tensors[%d].data", i), "its padding runs past the declared data")
		}
		if err := checkZero(b, off+size, end, fmt.Sprintf("tensors[%d] padding", i)); err != nil {
			return nil, err
		}
		off = end
	}
	if off != dataEnd {
		return nil, refuse("header.dataBytes", "declares %d bytes of constants but they take %d", dataBytes, int(dataBytes)-(dataEnd-off))
	}
	return m, nil
}

func checkZero(b []byte, from, to int, what string) error {
	for i := from; i < to; i++ {
		if b[i] != 0 {
			return refuse(what, "byte at offset %d is %#x, must be 0", i, b[i])
		}
	}
	return nil
}

func parseTensor(b []byte, i int, t *Tensor) error {
	le := binary.LittleEndian
	field := func(name string) string { return fmt.Sprintf("tensors[%d].%s", i, name) }
	t.Kind = TensorKind(b[0])
	if t.Kind != Activation && t.Kind != Constant {
		return refuse(field("kind"), "%d is neither activation (0) nor constant (1)", b[0])
	}
	t.DType = DType(b[1])
	if !t.DType.valid() {
		return refuse(field("dtype"), "%d is not int8 (1), int16 (2) or int32 (3)", b[1])
	}
	rank := int(b[2])
	if rank > params.MaxTensorRank {
		return refuse(field("rank"), "%d exceeds MaxTensorRank (%d)", rank, params.MaxTensorRank)
	}
	if b[3] != 0 {
		return refuse(field("reserved"), "must be 0, is %d", b[3])
	}
	t.ZeroPoint = int32(le.Uint32(b[4:]))
	if zp := int64(t.ZeroPoint); zp < t.DType.Min() || zp > t.DType.Max() || (t.DType == Int32 && zp != 0) {
		if t.DType == Int32 {
			return refuse(field("zeroPoint"), "%d: int32 tensors have zero point 0", zp)
		}
		return refuse(field("zeroPoint"), "%d is outside the %s range [%d, %d]", zp, t.DType, t.DType.Min(), t.DType.Max())
	}
	t.Shape = make([]int, rank)
	elements := 1
	for d := 0; d < params.MaxTensorRank; d++ {
		v := le.Uint32(b[8+4*d:])
		if d >= rank {
			if v != 0 {
				return refuse(field(fmt.Sprintf("shape[%d]", d)), "is %d beyond rank %d, must be 0", v, rank)
			}
			continue
		}
		if v == 0 || v > params.MaxTensorDim {
			return refuse(field(fmt.Sprintf("shape[%d]", d)), "%d is outside [1, MaxTensorDim (%d)]", v, params.MaxTensorDim)
		}
		t.Shape[d] = int(v)
		elements *= int(v) // ≤ 2^24 * 2^18 before the check below: no overflow
		if elements > params.MaxTensorElements {
			return refuse(field("shape"), "%v has more than MaxTensorElements (%d) elements", shapeOf(b, rank), params.MaxTensorElements)
		}
	}
	return nil
}

func shapeOf(b []byte, rank int) []uint32 {
	out := make([]uint32, rank)
	for d := range out {
		out[d] = binary.LittleEndian.Uint32(b[8+4*d:])
	}
	return out
}

// parseNode reads one node record from b and returns its size.
func parseNode(b []byte, i int, numTensors uint32, n *Node) (int, error) {
	le := binary.LittleEndian
	field := func(name string) string { return fmt.Sprintf("nodes[%d].%s", i, name) }
	if len(b) < nodeHeadSize {
		return 0, refuse(fmt.Sprintf("nodes[%d]", i), "record runs past the declared node bytes")
	}
	n.Op = Op(le.Uint16(b))
	info, ok := ops[n.Op]
	if !ok {
		return 0, refuse(field("op"), "opcode %d is not in op set v1", uint16(n.Op))
	}
	count := int(le.Uint16(b[2:]))
	if info.inputs == 0 {
		if count < 2 || count > params.MaxConcatInputs {
			return 0, refuse(field("inputs"), "%s takes 2 to MaxConcatInputs (%d) operands, not %d", n.Op, params.MaxConcatInputs, count)
		}
	} else if count != info.inputs {
		return 0, refuse(field("inputs"), "%s takes %d operands, not %d", n.Op, info.inputs, count)
	}
	n.Attrs = info.newAttrs()
	size := nodeHeadSize + 4*count + 4*attrWords(n.Attrs)
	if len(b) < size {
		return 0, refuse(fmt.Sprintf("nodes[%d]", i), "%s record of %d bytes runs past the declared node bytes", n.Op, size)
	}
	n.Output = int(le.Uint32(b[4:]))
	if uint32(n.Output) >= numTensors {
		return 0, refuse(field("output"), "tensor %d does not exist (%d tensors)", n.Output, numTensors)
	}
	n.Inputs = make([]int, count)
	off := nodeHeadSize
	for k := range n.Inputs {
		v := le.Uint32(b[off:])
		if v >= numTensors {
			return 0, refuse(field(fmt.Sprintf("inputs[%d]", k)), "tensor %d does not exist (%d tensors)", v, numTensors)
		}
		n.Inputs[k] = int(v)
		off += 4
	}
	for _, f := range n.Attrs.fields() {
		switch v := f.(type) {
		case *int32:
			*v = int32(le.Uint32(b[off:]))
			off += 4
		case *uint32:
			*v = le.Uint32(b[off:])
			off += 4
		case *uint64:
			*v = le.Uint64(b[off:])
			off += 8
		}
	}
	return size, nil
}
