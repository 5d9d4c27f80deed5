package quantize

import (
	"fmt"
	"slices"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// fixDims makes every graph input's shape static: a symbolic dimension
// becomes dims[name], or 1.
func fixDims(m *onnxpb.ModelProto, dims map[string]int) ([]string, error) {
	var notes []string
	for _, vi := range graphInputs(m) {
		tt := vi.GetType().GetTensorType()
		if tt == nil || tt.Shape == nil {
			return nil, fmt.Errorf("%w: input %q has no declared tensor shape", onnx.ErrUnsupported, vi.Name)
		}
		switch e := onnxpb.TensorProto_DataType(tt.ElemType); e {
		case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32:
		default:
			return nil, fmt.Errorf("%w: input %q is %s; the quantizer takes float inputs (and int32/int64 indices)", onnx.ErrUnsupported, vi.Name, e)
		}
		for i, d := range tt.Shape.Dim {
			if d.GetDimValue() > 0 {
				continue
			}
			name := d.GetDimParam()
			v, ok := dims[name]
			if !ok {
				v = 1
			}
			if v < 1 || v > 1<<24 {
				return nil, fmt.Errorf("%w: dimension %q fixed to %d", onnx.ErrUnsupported, name, v)
			}
			d.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}
			if name == "" {
				name = "?"
			}
			notes = append(notes, fmt.Sprintf("input %q: symbolic dimension %d (%s) fixed to %d", vi.Name, i, name, v))
		}
	}
	return notes, nil
}

// topoSort orders the nodes so each reads only values defined before it,
// keeping the file's order where it already is one.
func topoSort(m *onnxpb.ModelProto) error {
	defined := map[string]bool{"": true}
	for _, t := range m.Graph.Initializer {
		defined[t.Name] = true
	}
	for _, vi := range m.Graph.Input {
		defined[vi.Name] = true
	}
	nodes := m.Graph.Node
	out := make([]*onnxpb.NodeProto, 0, len(nodes))
	done := make([]bool, len(nodes))
	for len(out) < len(nodes) {
		progress := false
		for i, n := range nodes {
			if done[i] || !allDefined(n.Input, defined) {
				continue
			}
			done[i], progress = true, true
			out = append(out, n)
			for _, o := range n.Output {
				defined[o] = true
			}
		}
		if !progress {
			return fmt.Errorf("%w: the graph reads a value nothing defines, or has a cycle", onnx.ErrMalformed)
		}
	}
	m.Graph.Node = out
	return nil
}

func allDefined(names []string, defined map[string]bool) bool {
	for _, in := range names {
		if !defined[in] {
			return false
		}
	}
	return true
}

// staticNodes finds the nodes whose outputs depend only on constants and
// on shapes (Shape, Size), not on input values: what exporters leave
// behind for Reshape targets and the like.
func staticNodes(m *onnxpb.ModelProto) map[*onnxpb.NodeProto]bool {
	static := map[string]bool{}
	for _, t := range m.Graph.Initializer {
		static[t.Name] = true
	}
	out := map[*onnxpb.NodeProto]bool{}
	for _, n := range m.Graph.Node {
		s := staticOps[n.OpType] && n.Domain == ""
		if !s && len(n.Input) > 0 {
			s = true
			for _, in := range n.Input {
				if in != "" && !static[in] {
					s = false
					break
				}
			}
		}
		if s {
			out[n] = true
			for _, o := range n.Output {
				static[o] = true
			}
		}
	}
	return out
}

// fold replaces the static nodes by initializers holding their values
// (from one evaluation), and drops initializers nothing reads any more.
func fold(m *onnxpb.ModelProto, static map[*onnxpb.NodeProto]bool, vals map[string]*onnx.Tensor) (int, error) {
	var kept []*onnxpb.NodeProto
	for _, n := range m.Graph.Node {
		if !static[n] {
			kept = append(kept, n)
		}
	}
	need := map[string]bool{}
	for _, n := range kept {
		for _, in := range n.Input {
			need[in] = true
		}
	}
	for _, o := range m.Graph.Output {
		need[o.Name] = true
	}
	var inits []*onnxpb.TensorProto
	have := map[string]bool{}
	for _, t := range m.Graph.Initializer {
		if need[t.Name] {
			inits = append(inits, t)
			have[t.Name] = true
		}
	}
	folded := 0
	for _, n := range m.Graph.Node {
		if !static[n] {
			continue
		}
		folded++
		for _, o := range n.Output {
			if o == "" || !need[o] || have[o] {
				continue
			}
			t, ok := vals[o]
			if !ok {
				return 0, fmt.Errorf("constant folding: %s did not compute %q", onnx.Describe(n), o)
			}
			p, err := tensorProto(o, t)
			if err != nil {
				return 0, err
			}
			inits = append(inits, p)
			have[o] = true
		}
	}
	m.Graph.Node = kept
	m.Graph.Initializer = inits
	// Initializers listed as graph inputs (IR < 4) are not inputs.
	m.Graph.Input = slices.DeleteFunc(m.Graph.Input, func(vi *onnxpb.ValueInfoProto) bool { return have[vi.Name] })
	return folded, nil
}

// clone deep-copies a model.
func clone(m *onnxpb.ModelProto) *onnxpb.ModelProto { return proto.Clone(m).(*onnxpb.ModelProto) }

// setOpset raises the default-domain opset to at least v.
func setOpset(m *onnxpb.ModelProto, v int64) bool {
	for _, o := range m.OpsetImport {
		if (o.Domain == "" || o.Domain == "ai.onnx") && o.Version < v {
			o.Version = v
			if m.IrVersion < 8 {
				m.IrVersion = 8
			}
			return true
		}
	}
	return false
}
