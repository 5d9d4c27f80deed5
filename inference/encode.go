package inference

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/sha3"

	"github.com/infergeth/infergeth/params"
)

// ModelID is keccak256 of a model's canonical bytes.
type ModelID [32]byte

// ID returns the model ID of canonical model bytes.
func ID(canonical []byte) ModelID {
	h := sha3.NewLegacyKeccak256()
	h.Write(canonical)
	var id ModelID
	h.Sum(id[:0])
	return id
}

// Encode writes m in the canonical format. It checks only what the layout
// needs (counts that fit their fields, shapes within MaxTensorRank, constant
// data of the declared size); Validate checks the rest. For a model that
// Decode accepted, Encode returns exactly the bytes it was decoded from.
func Encode(m *Model) ([]byte, error) {
	if len(m.Inputs) > 0xFFFF || len(m.Outputs) > 0xFFFF {
		return nil, fmt.Errorf("encode: %d inputs, %d outputs: more than a u16 holds", len(m.Inputs), len(m.Outputs))
	}
	nodeBytes := 0
	for i := range m.Nodes {
		n := &m.Nodes[i]
		if n.Attrs == nil {
			return nil, fmt.Errorf("encode: nodes[%d]: nil attributes", i)
		}
		if len(n.Inputs) > 0xFFFF {
			return nil, fmt.Errorf("encode: nodes[%d]: %d operands", i, len(n.Inputs))
		}
		nodeBytes += nodeHeadSize + 4*len(n.Inputs) + 4*attrWords(n.Attrs)
	}
	dataBytes := 0
	for i := range m.Tensors {
		t := &m.Tensors[i]
		if len(t.Shape) > params.MaxTensorRank {
			return nil, fmt.Errorf("encode: tensors[%d]: rank %d exceeds MaxTensorRank (%d)", i, len(t.Shape), params.MaxTensorRank)
		}
		if t.Kind == Constant {
			dataBytes += padTo(len(t.Data))
		}
	}
	lists := 4 * (len(m.Inputs) + len(m.Outputs))
	size := headerSize + padTo(lists) + freshnessSize*len(m.Freshness) + tensorSize*len(m.Tensors) +
		padTo(nodeBytes) + dataBytes
	b := make([]byte, size)
	le := binary.LittleEndian

	copy(b[hMagic:], Magic)
	le.PutUint16(b[hVersion:], params.ModelFormatVersion)
	le.PutUint16(b[hOpset:], params.ModelOpsetVersion)
	le.PutUint32(b[hTensors:], uint32(len(m.Tensors)))
	le.PutUint32(b[hNodes:], uint32(len(m.Nodes)))
	le.PutUint16(b[hInputs:], uint16(len(m.Inputs)))
	le.PutUint16(b[hOutputs:], uint16(len(m.Outputs)))
	le.PutUint32(b[hFreshness:], uint32(len(m.Freshness)))
	le.PutUint32(b[hNodeBytes:], uint32(nodeBytes))
	le.PutUint32(b[hDataBytes:], uint32(dataBytes))
	off := headerSize
	for _, t := range m.Inputs {
		le.PutUint32(b[off:], uint32(t))
		off += 4
	}
	for _, t := range m.Outputs {
		le.PutUint32(b[off:], uint32(t))
		off += 4
	}
	off = padTo(off)
	for _, f := range m.Freshness {
		le.PutUint64(b[off:], f.MaxAge)
		le.PutUint32(b[off+8:], f.Element)
		le.PutUint32(b[off+12:], uint32(f.FeedMultiplier))
		le.PutUint32(b[off+16:], f.FeedShift)
		off += freshnessSize
	}
	for i := range m.Tensors {
		t := &m.Tensors[i]
		b[off] = byte(t.Kind)
		b[off+1] = byte(t.DType)
		b[off+2] = byte(len(t.Shape))
		le.PutUint32(b[off+4:], uint32(t.ZeroPoint))
		for d, v := range t.Shape {
			le.PutUint32(b[off+8+4*d:], uint32(v))
		}
		off += tensorSize
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		le.PutUint16(b[off:], uint16(n.Op))
		le.PutUint16(b[off+2:], uint16(len(n.Inputs)))
		le.PutUint32(b[off+4:], uint32(n.Output))
		off += nodeHeadSize
		for _, in := range n.Inputs {
			le.PutUint32(b[off:], uint32(in))
			off += 4
		}
		for _, f := range n.Attrs.fields() {
			switch v := f.(type) {
			case *int32:
				le.PutUint32(b[off:], uint32(*v))
				off += 4
			case *uint32:
				le.PutUint32(b[off:], *v)
				off += 4
			case *uint64:
				le.PutUint64(b[off:], *v)
				off += 8
			}
		}
	}
	off = padTo(off)
	for i := range m.Tensors {
		t := &m.Tensors[i]
		if t.Kind != Constant {
			continue
		}
		copy(b[off:], t.Data)
		off += padTo(len(t.Data))
	}
	return b, nil
}
