package torchckpt

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Files under testdata/ are written by tools/reference/make_torchckpt_testdata.py; the fixtures
// under ../../testdata/fixtures by tools/reference/uniter_ref.py.
const fixtures = "../../testdata/fixtures"

type want struct {
	shape []int
	dtype string
	data  []float32
}

// referenceTensors restates make_torchckpt_testdata.py's tensors().
var referenceTensors = map[string]want{
	"f32":        {[]int{2, 3}, "float32", []float32{0, 1, 2, 3, 4, 5}},
	"f16":        {[]int{3}, "float16", []float32{0.5, -1.5, 65504}},
	"bf16":       {[]int{2, 2}, "bfloat16", []float32{1, -2, 0.25, 3}},
	"f64":        {[]int{1}, "float64", []float32{1.25}},
	"i64":        {[]int{2}, "int64", []float32{-3, 7}},
	"bool":       {[]int{3}, "bool", []float32{1, 0, 1}},
	"scalar":     {[]int{}, "float32", []float32{3.5}},
	"base":       {[]int{20}, "float32", []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
	"view":       {[]int{2, 3}, "float32", []float32{5, 6, 7, 8, 9, 10}},
	"transposed": {[]int{4, 3}, "float32", []float32{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}},
}

func mustRead(t *testing.T, path string) StateDict {
	t.Helper()
	sd, err := Read(path)
	if err != nil {
		t.Fatalf("Read(%s): %v", path, err)
	}
	return sd
}

func checkTensors(t *testing.T, sd StateDict, wants map[string]want) {
	t.Helper()
	if len(sd) != len(wants) {
		t.Errorf("got %d tensors %v, want %d", len(sd), slices.Sorted(mapsKeys(sd)), len(wants))
	}
	for name, w := range wants {
		got, ok := sd[name]
		if !ok {
			t.Errorf("missing key %q", name)
			continue
		}
		if got.Name != name || got.DType != w.dtype || !slices.Equal(got.Shape, w.shape) || !slices.Equal(got.Data, w.data) {
			t.Errorf("%s: got {%s %v %s %v}, want {%v %s %v}", name, got.Name, got.Shape, got.DType, got.Data, w.shape, w.dtype, w.data)
		}
	}
}

func mapsKeys(sd StateDict) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range sd {
			if !yield(k) {
				return
			}
		}
	}
}

func TestReadPyTorchFormats(t *testing.T) {
	for _, file := range []string{"zip.pt", "legacy.pt"} {
		t.Run(file, func(t *testing.T) {
			checkTensors(t, mustRead(t, filepath.Join("testdata", file)), referenceTensors)
		})
	}
}

func TestViewsDoNotAlias(t *testing.T) {
	sd := mustRead(t, "testdata/zip.pt")
	sd["view"].Data[0] = -1 // "view" shares "base"'s storage in the file
	if sd["base"].Data[5] != 5 {
		t.Errorf("writing to view changed base: %v", sd["base"].Data)
	}
}

func TestReadSafetensorsAndNPZ(t *testing.T) {
	sub := map[string]want{}
	for _, k := range []string{"f32", "f16", "bf16", "i64"} {
		sub[k] = referenceTensors[k]
	}
	checkTensors(t, mustRead(t, "testdata/small.safetensors"), sub)

	delete(sub, "bf16") // NumPy has no bfloat16
	sub["fortran"] = want{[]int{2, 3}, "float32", []float32{0, 1, 2, 3, 4, 5}}
	checkTensors(t, mustRead(t, "testdata/small.npz"), sub)
}

func TestUnwrapsContainer(t *testing.T) {
	checkTensors(t, mustRead(t, "testdata/mmf_container.pt"), map[string]want{
		"w": {[]int{2}, "float32", []float32{1, 2}},
		"b": {[]int{1}, "float32", []float32{0.5}},
	})
}

func TestReadsParameters(t *testing.T) {
	checkTensors(t, mustRead(t, "testdata/parameter.pt"), map[string]want{
		"p": {[]int{2}, "float32", []float32{1, 2}},
	})
}

func TestFixtureCheckpoints(t *testing.T) {
	cases := []struct {
		dir, dtype string
		vocab      int
		first3     []float32 // word_embeddings.weight[0, :3]
	}{
		{"tiny-std02", "float32", 2000, []float32{0.09103561192750931, 0.156249538064003, -0.015356129966676235}},
		{"tiny-seed3-fp16", "float16", 4000, []float32{-0.0653076171875, 0.0960693359375, 0.259765625}},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			sd := mustRead(t, filepath.Join(fixtures, c.dir, "model.pt"))
			if len(sd) != 76 {
				t.Errorf("got %d keys, want 76", len(sd))
			}
			shapes := map[string][]int{
				"uniter.embeddings.word_embeddings.weight":         {c.vocab, 64},
				"uniter.img_embeddings.img_linear.weight":          {64, 2048},
				"uniter.img_embeddings.mask_embedding.weight":      {2, 2048},
				"uniter.encoder.layer.1.intermediate.dense.weight": {128, 64},
				"region_classifier.net.3.weight":                   {1601, 64},
				"vqa_output.3.bias":                                {16},
			}
			for k, s := range shapes {
				if got, ok := sd[k]; !ok || !slices.Equal(got.Shape, s) || got.DType != c.dtype {
					t.Errorf("%s: got %+v, want shape %v dtype %s", k, got, s, c.dtype)
				}
			}
			word := sd["uniter.embeddings.word_embeddings.weight"]
			if !slices.Equal(word.Data[:3], c.first3) {
				t.Errorf("word_embeddings[0,:3] = %v, want %v", word.Data[:3], c.first3)
			}
			for a, b := range map[string]string{
				"cls.predictions.decoder.weight": "uniter.embeddings.word_embeddings.weight",
				"feat_regress.weight":            "uniter.img_embeddings.img_linear.weight",
			} {
				if !reflect.DeepEqual(sd[a].Shape, sd[b].Shape) || !slices.Equal(sd[a].Data, sd[b].Data) {
					t.Errorf("tied pair %s / %s differs", a, b)
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join(fixtures, "tiny-std02", "model.pt"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := os.ReadFile("testdata/small.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := os.ReadFile("testdata/legacy.pt")
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		path, msg string
	}{
		{write("truncated.pt", model[:len(model)/2]), "not a valid zip archive"},
		{write("truncated-legacy.pt", legacy[:len(legacy)-40]), "storage"},
		{write("truncated.safetensors", small[:len(small)-4]), "outside"},
		{write("random.bin", random), "not a PyTorch, safetensors or .npz checkpoint"},
		{write("random-pickle.pt", append([]byte{0x80}, random...)), "magic number"},
		{write("empty.pt", nil), "not a PyTorch"},
		{"testdata/non_tensor.pt", `key "step": value is an int, not a tensor`},
		{"testdata/list.pt", "top-level object is a list, not a dict of tensors"},
		{"testdata/complex.pt", "unsupported storage type torch.ComplexFloatStorage"},
		{filepath.Join(dir, "missing.pt"), "no such file"},
	}
	for _, c := range cases {
		_, err := Read(c.path)
		if err == nil {
			t.Errorf("Read(%s): no error", c.path)
			continue
		}
		if !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Read(%s) error %q should name the file and contain %q", c.path, err, c.msg)
		}
	}
}
