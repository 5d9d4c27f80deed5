package vm

import "github.com/infergeth/infergeth/inference"

// outputLayout returns IInference.outputLayout: where each output tensor
// sits in infer's output bytes (inference.Model.OutputLayout), so a contract
// can read a mixed-type output by its declared offsets. It loads the model
// as modelInfo does and is charged as modelInfo is.
func (b *boundInference) outputLayout(a args) ([]byte, error) {
	id, err := a.bytes32(0)
	if err != nil {
		return nil, badInput("modelId: %v", err)
	}
	prep, _, _, err := b.load(id)
	if err != nil {
		return nil, err
	}
	return encodeLayout(prep.Model), nil
}

// encodeLayout ABI-encodes the model's output layout as one
// IInference.TensorLayout[]: (uint32 offset, uint32 byteLength, uint8 dtype,
// uint32[] shape, int32 zeroPoint) per tensor.
func encodeLayout(m *inference.Model) []byte {
	layout := m.OutputLayout()
	e := &encoder{}
	e.uint(32) // offset of the array
	e.uint(uint64(len(layout)))
	// The heads: each tuple's offset from the first head, then the tuples.
	next := uint64(32 * len(layout))
	for _, t := range layout {
		e.uint(next)
		next += 32 * uint64(6+len(t.Shape))
	}
	for i, t := range layout {
		e.uint(uint64(t.Offset)).uint(uint64(t.Bytes)).uint(uint64(m.Tensors[m.Outputs[i]].DType)).
			uint(5 * 32).int(int64(t.ZeroPoint))
		e.uint(uint64(len(t.Shape)))
		for _, d := range t.Shape {
			e.uint(uint64(d))
		}
	}
	return e.buf
}
