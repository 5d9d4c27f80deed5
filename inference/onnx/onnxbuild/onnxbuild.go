// Package onnxbuild writes ONNX models from Go. The project's test models
// (tests/models/gen) and the importer's unit tests build their graphs with
// it; nothing in the engine depends on it.
//
// A Graph collects inputs, initializers and nodes in the order they are
// added, and Marshal writes the model deterministically: the same calls
// give the same bytes.
package onnxbuild

import (
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// Element types, as onnx.proto numbers them.
const (
	Float = int32(onnxpb.TensorProto_FLOAT)
	Uint8 = int32(onnxpb.TensorProto_UINT8)
	Int8  = int32(onnxpb.TensorProto_INT8)
	Int32 = int32(onnxpb.TensorProto_INT32)
	Int64 = int32(onnxpb.TensorProto_INT64)
)

// MicrosoftDomain is the domain of onnxruntime's contrib ops (QLinearAdd, QGemm, ...).
const MicrosoftDomain = "com.microsoft"

// Graph is an ONNX model under construction.
type Graph struct {
	g       *onnxpb.GraphProto
	opset   int64
	domains []*onnxpb.OperatorSetIdProto
	names   map[string]bool
	// reserved names are avoided by fresh ones but may still be claimed
	// once (values a copied graph will define).
	reserved map[string]bool
	n        int
}

// Reserve keeps fresh names (initializers, nodes) off names that nodes
// added later will write, e.g. when copying another graph's nodes.
func (g *Graph) Reserve(names ...string) {
	if g.reserved == nil {
		g.reserved = map[string]bool{}
	}
	for _, n := range names {
		g.reserved[n] = true
	}
}

// New starts a model with one graph importing the default domain at opset.
func New(name string, opset int64) *Graph {
	return &Graph{g: &onnxpb.GraphProto{Name: name}, opset: opset, names: map[string]bool{}}
}

// UseDomain adds an operator-set import, e.g. com.microsoft version 1.
func (g *Graph) UseDomain(domain string, version int64) {
	for _, d := range g.domains {
		if d.Domain == domain {
			return
		}
	}
	g.domains = append(g.domains, &onnxpb.OperatorSetIdProto{Domain: domain, Version: version})
}

// fresh returns a value name based on base that is not yet used.
func (g *Graph) fresh(base string) string {
	name := base
	for g.names[name] || g.reserved[name] {
		g.n++
		name = fmt.Sprintf("%s_%d", base, g.n)
	}
	g.names[name] = true
	return name
}

func valueInfo(name string, elem int32, dims []int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: elem, Shape: shape}}}}
}

// Input declares a graph input and returns its name.
func (g *Graph) Input(name string, elem int32, dims ...int64) string {
	name = g.fresh(name)
	g.g.Input = append(g.g.Input, valueInfo(name, elem, dims))
	return name
}

// Output declares value as a graph output.
func (g *Graph) Output(value string, elem int32, dims ...int64) {
	g.g.Output = append(g.g.Output, valueInfo(value, elem, dims))
}

// Init adds an initializer (its Name is replaced by a fresh one based on
// it) and returns its name.
func (g *Graph) Init(t *onnxpb.TensorProto) string {
	t.Name = g.fresh(t.Name)
	g.g.Initializer = append(g.g.Initializer, t)
	return t.Name
}

// NodeTo adds a default-domain node writing the value named out.
func (g *Graph) NodeTo(out, op string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	g.n++
	g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: g.fresh(fmt.Sprintf("%s_%d", op, g.n)), OpType: op,
		Input: append([]string(nil), inputs...), Output: []string{g.claim(out)}, Attribute: attrs})
	return out
}

// Node adds a default-domain node with one output and returns the output's name.
func (g *Graph) Node(op string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	return g.NodeIn("", op, inputs, 1, attrs...)[0]
}

// NodeIn adds a node of any domain with n outputs and returns their names.
func (g *Graph) NodeIn(domain, op string, inputs []string, n int, attrs ...*onnxpb.AttributeProto) []string {
	g.n++
	name := g.fresh(fmt.Sprintf("%s_%d", op, g.n))
	outs := make([]string, n)
	for i := range outs {
		outs[i] = g.fresh(fmt.Sprintf("%s_out%d", name, i))
	}
	g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: name, OpType: op, Domain: domain,
		Input: append([]string(nil), inputs...), Output: outs, Attribute: attrs})
	return outs
}

// Model returns the model proto.
func (g *Graph) Model() *onnxpb.ModelProto {
	opsets := []*onnxpb.OperatorSetIdProto{{Domain: "", Version: g.opset}}
	opsets = append(opsets, g.domains...)
	ir := int64(8)
	switch {
	case g.opset >= 21:
		ir = 10
	case g.opset >= 19:
		ir = 9
	}
	return &onnxpb.ModelProto{IrVersion: ir, OpsetImport: opsets, ProducerName: "infergeth onnxbuild",
		ProducerVersion: "1", Graph: g.g}
}

// Marshal encodes the model deterministically.
func (g *Graph) Marshal() ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(g.Model())
}

// Attribute constructors.

func AttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v}
}

func AttrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}

func AttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

func AttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_STRING, S: []byte(v)}
}

func AttrTensor(name string, t *onnxpb.TensorProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_TENSOR, T: t}
}

// Tensor constructors. Values are stored in raw_data, little-endian.

func FloatTensor(name string, dims []int64, v []float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		b := math.Float32bits(f)
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	}
	return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: Float, RawData: raw}
}

func Int8Tensor(name string, dims []int64, v []int8) *onnxpb.TensorProto {
	raw := make([]byte, len(v))
	for i, x := range v {
		raw[i] = byte(x)
	}
	return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: Int8, RawData: raw}
}

func Uint8Tensor(name string, dims []int64, v []uint8) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: Uint8, RawData: append([]byte(nil), v...)}
}

func Int32Tensor(name string, dims []int64, v []int32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	}
	return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: Int32, RawData: raw}
}

func Int64Tensor(name string, dims []int64, v []int64) *onnxpb.TensorProto {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		for k := 0; k < 8; k++ {
			raw[8*i+k] = byte(x >> (8 * k))
		}
	}
	return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: Int64, RawData: raw}
}

// Quant is a quantization: real = Scale·(q − Zero), q of type Type (Int8 or Uint8).
type Quant struct {
	Scale float32
	Zero  int32
	Type  int32
}

// Params adds the scale and zero-point initializers of q.
func (g *Graph) Params(q Quant) (scale, zero string) {
	scale = g.Init(FloatTensor("scale", nil, []float32{q.Scale}))
	if q.Type == Uint8 {
		zero = g.Init(Uint8Tensor("zero", nil, []uint8{uint8(q.Zero)}))
	} else {
		zero = g.Init(Int8Tensor("zero", nil, []int8{int8(q.Zero)}))
	}
	return scale, zero
}

// Quantize adds QuantizeLinear(x) with q and returns its output.
func (g *Graph) Quantize(x string, q Quant) string {
	s, z := g.Params(q)
	return g.Node("QuantizeLinear", []string{x, s, z})
}

// Dequantize adds DequantizeLinear(x) with q and returns its output.
func (g *Graph) Dequantize(x string, q Quant) string {
	s, z := g.Params(q)
	return g.Node("DequantizeLinear", []string{x, s, z})
}

// QDQ quantizes and dequantizes x: the boundary QDQ models put after every op.
func (g *Graph) QDQ(x string, q Quant) string { return g.Dequantize(g.Quantize(x, q), q) }

// DequantizedWeights adds int8 weights with per-channel scales along axis
// (a single scale: per tensor) and returns the DequantizeLinear output.
func (g *Graph) DequantizedWeights(name string, dims []int64, w []int8, scales []float32, axis int64) string {
	wn := g.Init(Int8Tensor(name, dims, w))
	var sdims []int64
	if len(scales) > 1 {
		sdims = []int64{int64(len(scales))}
	}
	sn := g.Init(FloatTensor(name+"_scale", sdims, scales))
	zn := g.Init(Int8Tensor(name+"_zero", sdims, make([]int8, len(scales))))
	if len(scales) > 1 {
		return g.Node("DequantizeLinear", []string{wn, sn, zn}, AttrInt("axis", axis))
	}
	return g.Node("DequantizeLinear", []string{wn, sn, zn})
}

// DequantizedBias adds an int32 bias with per-channel scales (zero point 0)
// and returns the DequantizeLinear output.
func (g *Graph) DequantizedBias(name string, b []int32, scales []float32) string {
	bn := g.Init(Int32Tensor(name, []int64{int64(len(b))}, b))
	var sdims []int64
	if len(scales) > 1 {
		sdims = []int64{int64(len(scales))}
	}
	sn := g.Init(FloatTensor(name+"_scale", sdims, scales))
	zn := g.Init(Int32Tensor(name+"_zero", sdims, make([]int32, len(scales))))
	if len(scales) > 1 {
		return g.Node("DequantizeLinear", []string{bn, sn, zn}, AttrInt("axis", 0))
	}
	return g.Node("DequantizeLinear", []string{bn, sn, zn})
}

// claim reserves an exact value name; a clash is a bug in the caller.
func (g *Graph) claim(name string) string {
	if g.names[name] {
		panic(fmt.Sprintf("onnxbuild: value name %q used twice", name))
	}
	g.names[name] = true
	return name
}

// AddInput declares a graph input as vi describes it.
func (g *Graph) AddInput(vi *onnxpb.ValueInfoProto) {
	g.claim(vi.Name)
	g.g.Input = append(g.g.Input, vi)
}

// AddOutput declares a graph output as vi describes it.
func (g *Graph) AddOutput(vi *onnxpb.ValueInfoProto) { g.g.Output = append(g.g.Output, vi) }

// AddNode adds a copy of n (its op, domain and attributes) reading inputs
// and writing the named outputs, and returns them.
func (g *Graph) AddNode(n *onnxpb.NodeProto, inputs, outputs []string) []string {
	for _, o := range outputs {
		g.claim(o)
	}
	g.n++
	g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: g.fresh(fmt.Sprintf("%s_%d", n.OpType, g.n)), OpType: n.OpType,
		Domain: n.Domain, Input: append([]string(nil), inputs...), Output: outputs, Attribute: n.Attribute})
	return outputs
}

// LastNode returns the node added last (nil when there is none), e.g. to
// give it a name of the caller's.
func (g *Graph) LastNode() *onnxpb.NodeProto {
	if len(g.g.Node) == 0 {
		return nil
	}
	return g.g.Node[len(g.g.Node)-1]
}

// AddNodeAs adds a node of another op with n's attributes and one new output.
func (g *Graph) AddNodeAs(n *onnxpb.NodeProto, domain, op string, inputs []string) string {
	return g.NodeIn(domain, op, inputs, 1, n.Attribute...)[0]
}

// DequantizeTo adds DequantizeLinear(x) with q writing the value name.
func (g *Graph) DequantizeTo(x string, q Quant, name string) string {
	s, z := g.Params(q)
	g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: g.fresh("DequantizeLinear_" + name), OpType: "DequantizeLinear",
		Input: []string{x, s, z}, Output: []string{g.claim(name)}})
	return name
}
