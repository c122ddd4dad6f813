package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/uniter-go/uniter/data/torchckpt"
	"github.com/uniter-go/uniter/internal/backend"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

func init() {
	register("forward", "run every UNITER head on fixture-style inputs and write the outputs (checkpoint parity check)", forwardCmd)
}

// forwardInputs maps the arrays of inputs.npz the forward pass reads to the uniter.FullInputs fields they feed.
var forwardInputs = map[string]string{
	"input_ids": "InputIDs", "txt_mask": "TxtMask", "img_feat": "ImgFeat", "img_pos": "ImgPos", "img_mask": "ImgMask",
	"mlm_input_ids": "MLMInputIDs", "txt_labels": "TxtLabels", "mlm_pos": "MLMPositions", "mrm_mask": "MRMRegions",
	"mrm_img_feat": "MRMImgFeat", "mrm_pos": "MRMPositions", "feat_targets": "FeatTargets", "mrc_targets": "MRCTargets",
	"vqa_targets": "VQATargets", "itm_targets": "ITMTargets",
}

// forwardIntInputs are converted to int32; every other input to float32.
var forwardIntInputs = map[string]bool{"input_ids": true, "mlm_input_ids": true, "txt_labels": true, "mlm_pos": true, "mrm_pos": true, "itm_targets": true}

func forwardCmd(args []string) error {
	fs := flag.NewFlagSet("forward", flag.ContinueOnError)
	ckpt := fs.String("checkpoint", "", "UNITER checkpoint: ORIG/MMF .pt, .safetensors or .npz")
	cfgPath := fs.String("config", "", "ORIG-style config JSON (uniter-base.json keys plus img_dim, img_label_dim, num_answers)")
	inputsPath := fs.String("inputs", "", "inputs.npz with the fixture input names")
	outPath := fs.String("out", "", "where to write the outputs (.npz)")
	expected := fs.String("expected", "", "optional expected.npz to compare with; fails when an array is off by more than tol·max(1, max|ref|)")
	tol := fs.Float64("tol", 1e-4, "relative tolerance for --expected")
	backendSpec := fs.String("backend", "", "GoMLX backend (default $GOMLX_BACKEND or go:parallelism=-1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" || *cfgPath == "" || *inputsPath == "" || (*outPath == "" && *expected == "") {
		return errors.New("--checkpoint, --config, --inputs and --out (or --expected) are required")
	}
	outputs, err := runForward(*ckpt, *cfgPath, *inputsPath, *backendSpec)
	if err != nil {
		return err
	}
	if *outPath != "" {
		if err := numpy.ToNpzFile(outputs, *outPath); err != nil {
			return fmt.Errorf("writing %s: %w", *outPath, err)
		}
		fmt.Printf("wrote %d arrays to %s\n", len(outputs), *outPath)
	}
	if *expected != "" {
		return compareOutputs(outputs, *expected, *tol)
	}
	return nil
}

// runForward loads the model and inputs and returns every output of uniter.FullForward by name.
func runForward(ckptPath, cfgPath, inputsPath, backendSpec string) (named.Tensors, error) {
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := uniter.ParseConfigJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	sd, err := torchckpt.Read(ckptPath)
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	report, err := uniter.LoadWeights(store, cfg, sd.Tensors(), uniter.AllHeads...)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", ckptPath, err)
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", ckptPath, report)
	if len(report.Missing) > 0 {
		return nil, fmt.Errorf("%s is not a complete UNITER pretraining checkpoint: missing %d keys (%s); every head is needed for the forward check",
			ckptPath, len(report.Missing), report.Missing[0])
	}
	arrays, err := numpy.FromNpzFile(inputsPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", inputsPath, err)
	}
	feed := named.Tensors{}
	for name, field := range forwardInputs {
		t, ok := arrays[name]
		if !ok {
			return nil, fmt.Errorf("%s: missing input array %q", inputsPath, name)
		}
		want := dtypes.Float32
		if forwardIntInputs[name] {
			want = dtypes.Int32
		}
		if feed[field], err = convertTensor(t, want); err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", inputsPath, name, err)
		}
	}
	be, err := backend.New(backendSpec)
	if err != nil {
		return nil, err
	}
	exec, err := named.NewExec(be, store, func(scope *model.Scope, in named.Nodes) named.Nodes {
		return uniter.FullForward(scope, cfg, named.Bind[uniter.FullInputs](in))
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	outs, err := exec.Call(feed)
	if err != nil {
		return nil, fmt.Errorf("forward pass on %s: %w", inputsPath, err)
	}
	fmt.Fprintf(os.Stderr, "forward (every objective on the 3 passes) took %s\n", time.Since(start).Round(time.Millisecond))
	return outs, nil
}

// convertTensor returns t's values as a new tensor of dtype (int64 → int32, float64 → float32, …).
func convertTensor(t *tensors.Tensor, dtype dtypes.DType) (*tensors.Tensor, error) {
	if t.DType() == dtype {
		return t, nil
	}
	dims := t.Shape().Dimensions
	n := t.Shape().Size()
	flat := make([]float64, n)
	switch t.DType() {
	case dtypes.Int64:
		for i, v := range tensors.MustCopyFlatData[int64](t) {
			flat[i] = float64(v)
		}
	case dtypes.Int32:
		for i, v := range tensors.MustCopyFlatData[int32](t) {
			flat[i] = float64(v)
		}
	case dtypes.Float64:
		copy(flat, tensors.MustCopyFlatData[float64](t))
	case dtypes.Float32:
		for i, v := range tensors.MustCopyFlatData[float32](t) {
			flat[i] = float64(v)
		}
	case dtypes.Bool:
		for i, v := range tensors.MustCopyFlatData[bool](t) {
			if v {
				flat[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("unsupported dtype %s", t.DType())
	}
	switch dtype {
	case dtypes.Int32:
		out := make([]int32, n)
		for i, v := range flat {
			out[i] = int32(v)
		}
		return tensors.FromFlatDataAndDimensions(out, dims...), nil
	case dtypes.Float32:
		out := make([]float32, n)
		for i, v := range flat {
			out[i] = float32(v)
		}
		return tensors.FromFlatDataAndDimensions(out, dims...), nil
	}
	return nil, fmt.Errorf("cannot convert to %s", dtype)
}

// compareOutputs checks every array of expected against outputs with |go-ref| <= tol·max(1, max|ref|).
func compareOutputs(outputs map[string]*tensors.Tensor, expectedPath string, tol float64) error {
	expected, err := numpy.FromNpzFile(expectedPath)
	if err != nil {
		return fmt.Errorf("reading %s: %w", expectedPath, err)
	}
	var failed []string
	names := make([]string, 0, len(expected))
	for name := range expected {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		got, ok := outputs[name]
		if !ok {
			failed = append(failed, name+" (not computed)")
			continue
		}
		diff, scale, err := maxDiff(got, expected[name])
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", name, err))
			continue
		}
		status := "ok"
		if diff > tol*math.Max(1, scale) {
			status = "FAIL"
			failed = append(failed, name)
		}
		fmt.Printf("%-14s max|go-ref| = %.3g  (max|ref| %.3g)  %s\n", name, diff, scale, status)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d arrays differ from %s: %v", len(failed), expectedPath, failed)
	}
	fmt.Printf("all %d arrays match %s within %g·max(1, max|ref|)\n", len(names), expectedPath, tol)
	return nil
}

// maxDiff returns max|a-b| and max|b| of two float arrays of the same shape.
func maxDiff(a, b *tensors.Tensor) (diff, scale float64, err error) {
	if !slices.Equal(a.Shape().Dimensions, b.Shape().Dimensions) {
		return 0, 0, fmt.Errorf("shape %v, want %v", a.Shape().Dimensions, b.Shape().Dimensions)
	}
	af, err := convertTensor(a, dtypes.Float32)
	if err != nil {
		return 0, 0, err
	}
	bf, err := convertTensor(b, dtypes.Float32)
	if err != nil {
		return 0, 0, err
	}
	x, y := tensors.MustCopyFlatData[float32](af), tensors.MustCopyFlatData[float32](bf)
	for i := range x {
		diff = math.Max(diff, math.Abs(float64(x[i]-y[i])))
		scale = math.Max(scale, math.Abs(float64(y[i])))
	}
	return diff, scale, nil
}
