package onnx

import (
	"errors"
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference/onnx/detmath"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/params"
	"google.golang.org/protobuf/proto"
)

// Limits on what the importer reads. An ONNX file is parsed in memory, so
// its size bounds everything else; each tensor's declared size is checked
// against its data before anything is allocated for it.
const (
	// MaxFileBytes is the largest ONNX file the importer reads: four times
	// the engine's largest model, room for float weights it quantizes.
	MaxFileBytes = 64 << 20
	// MaxTensorElements bounds one initializer or constant: the engine's
	// own limit (params.MaxTensorElements), as no larger tensor converts.
	MaxTensorElements = params.MaxTensorElements
	// maxFoldElements bounds what constant folding may compute.
	maxFoldElements = 1 << 20
	// MaxRank bounds the rank of any tensor the importer handles.
	MaxRank = 8
	// MinOpset and MaxOpset are the default-domain opsets supported. Before
	// 13, Clip (10) and Softmax (10 to 12) differ and are read as then.
	MinOpset = 10
	MaxOpset = 21
)

var (
	// ErrMalformed: the bytes are not a well-formed ONNX model.
	ErrMalformed = errors.New("malformed ONNX model")
	// ErrUnsupported: a well-formed model uses something op set v1 cannot express.
	ErrUnsupported = errors.New("unsupported ONNX model")
	// ErrFloatOnly: the model has no quantization at all.
	ErrFloatOnly = errors.New("float-only ONNX model")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Parse decodes an ONNX model and checks what every later step relies on:
// a graph, the opset imports, and the sizes of the file.
func Parse(data []byte) (*onnxpb.ModelProto, error) {
	if len(data) > MaxFileBytes {
		return nil, malformed("%d bytes exceeds the importer's limit of %d", len(data), MaxFileBytes)
	}
	if len(data) == 0 {
		return nil, malformed("empty file")
	}
	m := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, malformed("not an ONNX protobuf: %v", err)
	}
	if m.Graph == nil {
		return nil, malformed("no graph (is this an ONNX model file?)")
	}
	if len(m.Graph.Node) == 0 {
		return nil, malformed("the graph has no nodes")
	}
	if len(m.OpsetImport) == 0 {
		return nil, malformed("no opset_import")
	}
	return m, nil
}

// opsets returns the default-domain opset and checks the others.
func opsets(m *onnxpb.ModelProto) (int64, error) {
	def := int64(-1)
	for _, o := range m.OpsetImport {
		switch o.Domain {
		case "", "ai.onnx":
			def = o.Version
		}
	}
	if def < 0 {
		return 0, malformed("no opset_import for the default ONNX domain")
	}
	if def < MinOpset || def > MaxOpset {
		return 0, fmt.Errorf("%w: default-domain opset %d; the importer supports opsets %d to %d (convert with onnx.version_converter)", ErrUnsupported, def, MinOpset, MaxOpset)
	}
	return def, nil
}

// tensorData is an initializer or Constant decoded to numbers: integers in
// i, floating point in f (exactly one is set, unless the tensor is empty).
type tensorData struct {
	name  string
	elem  onnxpb.TensorProto_DataType
	shape []int
	i     []int64
	f     []float64
}

func (t *tensorData) elements() int { return product(t.shape) }

func (t *tensorData) isFloat() bool { return isFloatType(t.elem) }

// at returns element k as a float64.
func (t *tensorData) at(k int) float64 {
	if t.f != nil {
		return t.f[k]
	}
	return float64(t.i[k])
}

func isFloatType(e onnxpb.TensorProto_DataType) bool {
	return e == onnxpb.TensorProto_FLOAT || e == onnxpb.TensorProto_DOUBLE || e == onnxpb.TensorProto_FLOAT16
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// checkedShape validates dims and returns them with the element count.
func checkedShape(what string, dims []int64) ([]int, int, error) {
	if len(dims) > MaxRank {
		return nil, 0, malformed("%s has rank %d (the importer handles up to %d)", what, len(dims), MaxRank)
	}
	shape := make([]int, len(dims))
	n := int64(1)
	for i, d := range dims {
		if d < 0 || d > math.MaxInt32 {
			return nil, 0, malformed("%s has dimension %d = %d", what, i, d)
		}
		shape[i] = int(d)
		if d != 0 && n > MaxTensorElements/d {
			return nil, 0, malformed("%s has more than %d elements", what, MaxTensorElements)
		}
		n *= d
	}
	return shape, int(n), nil
}

// elemSize is the raw_data width of the types the importer decodes.
func elemSize(e onnxpb.TensorProto_DataType) int {
	switch e {
	case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_INT8, onnxpb.TensorProto_BOOL:
		return 1
	case onnxpb.TensorProto_UINT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_FLOAT16:
		return 2
	case onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32, onnxpb.TensorProto_FLOAT:
		return 4
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64, onnxpb.TensorProto_DOUBLE:
		return 8
	}
	return 0
}

// decodeTensor reads a TensorProto's values. The declared shape is checked
// against the data's length before any allocation.
func decodeTensor(t *onnxpb.TensorProto) (*tensorData, error) {
	what := fmt.Sprintf("tensor %q", t.Name)
	if t.DataLocation == onnxpb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return nil, fmt.Errorf("%w: %s keeps its data in an external file; save the model with its data inline", ErrUnsupported, what)
	}
	if t.Segment != nil {
		return nil, fmt.Errorf("%w: %s is segmented", ErrUnsupported, what)
	}
	shape, n, err := checkedShape(what, t.Dims)
	if err != nil {
		return nil, err
	}
	e := onnxpb.TensorProto_DataType(t.DataType)
	size := elemSize(e)
	if size == 0 {
		return nil, fmt.Errorf("%w: %s has element type %s", ErrUnsupported, what, e)
	}
	out := &tensorData{name: t.Name, elem: e, shape: shape}
	if t.RawData != nil {
		if len(t.RawData) != n*size {
			return nil, malformed("%s: raw_data holds %d bytes, its shape %v needs %d", what, len(t.RawData), shape, n*size)
		}
		if other := len(t.FloatData) + len(t.Int32Data) + len(t.Int64Data) + len(t.DoubleData) + len(t.Uint64Data); other != 0 {
			return nil, malformed("%s has both raw_data and typed data", what)
		}
		return out, out.fromRaw(t.RawData, n)
	}
	var have int
	switch e {
	case onnxpb.TensorProto_FLOAT:
		have = len(t.FloatData)
	case onnxpb.TensorProto_DOUBLE:
		have = len(t.DoubleData)
	case onnxpb.TensorProto_INT64:
		have = len(t.Int64Data)
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		have = len(t.Uint64Data)
	default:
		have = len(t.Int32Data)
	}
	if have != n {
		return nil, malformed("%s holds %d values, its shape %v needs %d", what, have, shape, n)
	}
	switch e {
	case onnxpb.TensorProto_FLOAT:
		out.f = make([]float64, n)
		for k, v := range t.FloatData {
			out.f[k] = float64(v)
		}
	case onnxpb.TensorProto_DOUBLE:
		out.f = append([]float64{}, t.DoubleData...)
	case onnxpb.TensorProto_FLOAT16:
		out.f = make([]float64, n)
		for k, v := range t.Int32Data {
			out.f[k] = detmath.Float16(uint16(v))
		}
	case onnxpb.TensorProto_INT64:
		out.i = append([]int64{}, t.Int64Data...)
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		out.i = make([]int64, n)
		for k, v := range t.Uint64Data {
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("%w: %s holds %d, beyond int64", ErrUnsupported, what, v)
			}
			out.i[k] = int64(v)
		}
	default:
		out.i = make([]int64, n)
		for k, v := range t.Int32Data {
			out.i[k] = narrow(e, int64(v))
		}
	}
	return out, nil
}

// narrow reinterprets an int32_data entry as the tensor's element type.
func narrow(e onnxpb.TensorProto_DataType, v int64) int64 {
	switch e {
	case onnxpb.TensorProto_UINT8:
		return int64(uint8(v))
	case onnxpb.TensorProto_INT8:
		return int64(int8(v))
	case onnxpb.TensorProto_UINT16:
		return int64(uint16(v))
	case onnxpb.TensorProto_INT16:
		return int64(int16(v))
	case onnxpb.TensorProto_BOOL:
		if v != 0 {
			return 1
		}
		return 0
	}
	return v
}

func (t *tensorData) fromRaw(raw []byte, n int) error {
	le32 := func(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24 }
	le64 := func(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }
	switch t.elem {
	case onnxpb.TensorProto_FLOAT:
		t.f = make([]float64, n)
		for k := range t.f {
			t.f[k] = float64(math.Float32frombits(le32(raw[4*k:])))
		}
	case onnxpb.TensorProto_DOUBLE:
		t.f = make([]float64, n)
		for k := range t.f {
			t.f[k] = math.Float64frombits(le64(raw[8*k:]))
		}
	case onnxpb.TensorProto_FLOAT16:
		t.f = make([]float64, n)
		for k := range t.f {
			t.f[k] = detmath.Float16(uint16(raw[2*k]) | uint16(raw[2*k+1])<<8)
		}
	default:
		t.i = make([]int64, n)
		size := elemSize(t.elem)
		for k := range t.i {
			var v int64
			switch size {
			case 1:
				v = int64(raw[k])
			case 2:
				v = int64(uint16(raw[2*k]) | uint16(raw[2*k+1])<<8)
			case 4:
				v = int64(le32(raw[4*k:]))
			case 8:
				u := le64(raw[8*k:])
				if t.elem == onnxpb.TensorProto_UINT64 && u > math.MaxInt64 {
					return fmt.Errorf("%w: tensor %q holds %d, beyond int64", ErrUnsupported, t.name, u)
				}
				v = int64(u)
			}
			t.i[k] = narrow(t.elem, v)
			if t.elem == onnxpb.TensorProto_INT32 {
				t.i[k] = int64(int32(v))
			}
		}
	}
	return nil
}

// attrs is a node's attributes by name.
type attrs map[string]*onnxpb.AttributeProto

func nodeAttrs(n *onnxpb.NodeProto) (attrs, error) {
	a := attrs{}
	for _, at := range n.Attribute {
		if _, dup := a[at.Name]; dup {
			return nil, malformed("node %q has attribute %q twice", n.Name, at.Name)
		}
		if at.RefAttrName != "" {
			return nil, fmt.Errorf("%w: node %q: attribute references are only valid inside functions", ErrUnsupported, n.Name)
		}
		a[at.Name] = at
	}
	return a, nil
}

func (a attrs) int(name string, def int64) int64 {
	if at, ok := a[name]; ok {
		return at.I
	}
	return def
}

func (a attrs) float(name string, def float64) float64 {
	if at, ok := a[name]; ok {
		return float64(at.F)
	}
	return def
}

func (a attrs) ints(name string) []int64 {
	if at, ok := a[name]; ok {
		return at.Ints
	}
	return nil
}

func (a attrs) str(name, def string) string {
	if at, ok := a[name]; ok {
		return string(at.S)
	}
	return def
}

func (a attrs) has(name string) bool { _, ok := a[name]; return ok }

// Opset returns the model's default-domain opset, refusing one outside
// MinOpset to MaxOpset.
func Opset(m *onnxpb.ModelProto) (int64, error) { return opsets(m) }
