package quantize

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// attr returns a node's attribute by name, or nil.
func attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.Attribute {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	if a := attr(n, name); a != nil {
		return a.I
	}
	return def
}

func attrFloat(n *onnxpb.NodeProto, name string, def float64) float64 {
	if a := attr(n, name); a != nil {
		return float64(a.F)
	}
	return def
}

// withoutAttrs returns n's attributes minus the named ones.
func withoutAttrs(n *onnxpb.NodeProto, names ...string) []*onnxpb.AttributeProto {
	var out []*onnxpb.AttributeProto
next:
	for _, a := range n.Attribute {
		for _, d := range names {
			if a.Name == d {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// tensorProto encodes an evaluator tensor as an initializer of its type.
func tensorProto(name string, t *onnx.Tensor) (*onnxpb.TensorProto, error) {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	p := &onnxpb.TensorProto{Name: name, Dims: dims, DataType: int32(t.Elem)}
	var raw []byte
	switch t.Elem {
	case onnxpb.TensorProto_FLOAT:
		for _, v := range t.Data {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
		}
	case onnxpb.TensorProto_DOUBLE:
		for _, v := range t.Data {
			raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
		}
	case onnxpb.TensorProto_INT64:
		for _, v := range t.Data {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(int64(v)))
		}
	case onnxpb.TensorProto_INT32:
		for _, v := range t.Data {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(int32(v)))
		}
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		for _, v := range t.Data {
			raw = append(raw, byte(int64(v)))
		}
	default:
		return nil, fmt.Errorf("constant %q of type %s cannot be stored", name, t.Elem)
	}
	if raw == nil {
		raw = []byte{}
	}
	p.RawData = raw
	return p, nil
}

func dims64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

func product(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// index is a float model's graph indexed for the passes: initializers
// decoded, and each value's readers.
type index struct {
	m       *onnxpb.ModelProto
	inits   map[string]*onnx.Tensor
	readers map[string][]*onnxpb.NodeProto
	outputs map[string]bool // graph outputs
}

func newIndex(m *onnxpb.ModelProto) (*index, error) {
	ix := &index{m: m, inits: map[string]*onnx.Tensor{}, readers: map[string][]*onnxpb.NodeProto{}, outputs: map[string]bool{}}
	for _, t := range m.Graph.Initializer {
		d, err := onnx.DecodeTensor(t)
		if err != nil {
			return nil, err
		}
		ix.inits[t.Name] = d
	}
	for _, n := range m.Graph.Node {
		for _, in := range n.Input {
			if in != "" {
				ix.readers[in] = append(ix.readers[in], n)
			}
		}
	}
	for _, o := range m.Graph.Output {
		ix.outputs[o.Name] = true
	}
	return ix, nil
}

// only returns the single reader of value v, or nil when v has several
// readers or is a graph output.
func (ix *index) only(v string) *onnxpb.NodeProto {
	if r := ix.readers[v]; len(r) == 1 && !ix.outputs[v] {
		return r[0]
	}
	return nil
}

// isConst: v is an initializer.
func (ix *index) isConst(v string) bool { _, ok := ix.inits[v]; return ok }

// graphInputs lists the graph inputs that are not initializers.
func graphInputs(m *onnxpb.ModelProto) []*onnxpb.ValueInfoProto {
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = true
	}
	var out []*onnxpb.ValueInfoProto
	for _, vi := range m.Graph.Input {
		if !inits[vi.Name] {
			out = append(out, vi)
		}
	}
	return out
}

// inputShape is a graph input's declared shape (symbolic dims already
// fixed by prepare).
func inputShape(vi *onnxpb.ValueInfoProto) []int {
	var out []int
	if tt := vi.GetType().GetTensorType(); tt != nil && tt.Shape != nil {
		for _, d := range tt.Shape.Dim {
			out = append(out, max(1, int(d.GetDimValue())))
		}
	}
	return out
}

// evalInputs turns a sample into the evaluator's inputs (float inputs
// rounded to float32, as ONNX holds them).
func evalInputs(m *onnxpb.ModelProto, s onnx.Sample) (map[string]*onnx.Tensor, error) {
	ins := graphInputs(m)
	if len(s.Inputs) != len(ins) {
		return nil, fmt.Errorf("a sample has %d inputs; the model takes %d", len(s.Inputs), len(ins))
	}
	out := map[string]*onnx.Tensor{}
	for i, vi := range ins {
		shape := inputShape(vi)
		elem := onnxpb.TensorProto_DataType(vi.GetType().GetTensorType().GetElemType())
		if len(s.Inputs[i]) != product(shape) {
			return nil, fmt.Errorf("input %q takes %d values; the sample has %d", vi.Name, product(shape), len(s.Inputs[i]))
		}
		t := &onnx.Tensor{Elem: elem, Shape: shape, Data: make([]float64, len(s.Inputs[i]))}
		for k, v := range s.Inputs[i] {
			if elem == onnxpb.TensorProto_FLOAT {
				v = float64(float32(v))
			}
			t.Data[k] = v
		}
		out[vi.Name] = t
	}
	return out, nil
}
