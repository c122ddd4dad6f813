package uniter

import (
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// VariablePath returns the store path of the variable holding the ORIG checkpoint tensor key, e.g.
// "uniter.pooler.dense.weight" → "/uniter/pooler/dense/weight".
func VariablePath(key string) string {
	return "/" + strings.ReplaceAll(key, ".", "/")
}

// KeyOfPath is the inverse of VariablePath.
func KeyOfPath(path string) string {
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", ".")
}

// param returns the graph value of the variable for the ORIG key, creating it with ORIG's initialisation
// (BERT init): LayerNorm weights 1, biases 0, other weights N(0, initializer_range).
func param(scope *model.Scope, g *Graph, cfg Config, key string, dims ...int) *Node {
	store := scope.Store()
	path := model.JoinPath(scope.Scope(), VariablePath(key))
	var init model.VariableInitializer
	switch {
	case strings.HasSuffix(key, "LayerNorm.weight") || strings.HasSuffix(key, "layer_norm.weight") || isHeadLayerNormWeight(key):
		init = initializer.One
	case strings.HasSuffix(key, "bias"):
		init = initializer.Zero
	case key == maskEmbeddingKey:
		init = maskEmbeddingInit(scope, cfg)
	case key == tokenTypeKey:
		init = tokenTypeInit(scope, cfg)
	case strings.HasSuffix(key, ".in_proj_weight"):
		// ORIG model/attention.py MultiheadAttention: xavier_uniform_, which init_weights keeps (not an nn.Linear).
		init = initializer.XavierUniformFn(scope)
	default:
		init = initializer.RandomNormalFn(scope, cfg.InitializerRange)
	}
	return store.VariableWithShape(path, shapes.Make(dtypes.Float32, dims...), init).NodeValue(g)
}

// headLayerNormKeys are the LayerNorm weights of the heads whose ORIG names are positional (nn.Sequential).
var headLayerNormKeys = map[string]bool{
	"vqa_output.2.weight": true, "feat_regress.net.2.weight": true, "region_classifier.net.2.weight": true,
	"re_output.2.weight": true,
}

func isHeadLayerNormWeight(key string) bool { return headLayerNormKeys[key] }

const maskEmbeddingKey = "uniter.img_embeddings.mask_embedding.weight"

// maskEmbeddingInit draws N(0, initializer_range) and zeroes row 0, which ORIG re-zeroes at every forward.
func maskEmbeddingInit(scope *model.Scope, cfg Config) model.VariableInitializer {
	normal := initializer.RandomNormalFn(scope, cfg.InitializerRange)
	return func(g *Graph, shape shapes.Shape) *Node {
		return Mul(normal(g, shape), rowZeroMask(g, shape.Dimensions[0], shape.Dimensions[1]))
	}
}

const tokenTypeKey = "uniter.embeddings.token_type_embeddings.weight"

// tokenTypeInit draws N(0, initializer_range) and copies row 1 into every further row, as ORIG's
// init_type_embedding (model/nlvr2.py) does when it grows the table to 3 rows for NLVR2.
func tokenTypeInit(scope *model.Scope, cfg Config) model.VariableInitializer {
	normal := initializer.RandomNormalFn(scope, cfg.InitializerRange)
	return func(g *Graph, shape shapes.Shape) *Node {
		table := normal(g, shape)
		rows := shape.Dimensions[0]
		if rows <= 2 {
			return table
		}
		row1 := BroadcastToDims(Slice(table, AxisRange(1, 2)), rows-2, shape.Dimensions[1])
		return Concatenate([]*Node{Slice(table, AxisRange(0, 2)), row1}, 0)
	}
}

// rowZeroMask returns a [rows, cols] float32 constant that is 0 on row 0 and 1 elsewhere.
func rowZeroMask(g *Graph, rows, cols int) *Node {
	rowIdx := Iota(g, shapes.Make(dtypes.Int32, rows, cols), 0)
	return ConvertDType(GreaterThan(rowIdx, ScalarZero(g, dtypes.Int32)), dtypes.Float32)
}

// linear applies the PyTorch Linear layer "key" ([out, in] weight plus bias) to the last axis of x.
func linear(scope *model.Scope, cfg Config, key string, x *Node, out int) *Node {
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := param(scope, g, cfg, key+".weight", out, in)
	b := param(scope, g, cfg, key+".bias", out)
	return linearWith(scope, x, w, b)
}

// linearWith computes x @ wᵀ + b for a PyTorch-layout weight w [out, in], the product in scope's compute dtype.
func linearWith(scope *model.Scope, x, w, b *Node) *Node {
	y := ConvertDType(matMulTransposed(toCompute(scope, x), toCompute(scope, w)), x.DType())
	if b != nil {
		y = addBias(y, b)
	}
	return y
}

// layerNorm applies the LayerNorm "key" (weight, bias, eps from the config) over the last axis.
func layerNorm(scope *model.Scope, cfg Config, key string, x *Node) *Node {
	g := x.Graph()
	h := x.Shape().Dimensions[x.Rank()-1]
	gamma := param(scope, g, cfg, key+".weight", h)
	beta := param(scope, g, cfg, key+".bias", h)
	return layerNormWith(x, gamma, beta, cfg.LayerNormEps)
}
