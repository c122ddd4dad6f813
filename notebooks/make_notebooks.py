#!/usr/bin/env python3
"""Writes the GoNB notebooks owned by the notebook harness (standard library only; any python3 runs it):

  00_smoke.ipynb              smoke test: repo packages (experiments/viz) and GoMLX work inside a notebook;
  testdata/failing.ipynb      negative test: the cells tagged "expect-failure" must be reported as failed;
  testdata/checked.ipynb      an already *executed* notebook (hand-made outputs) for the checker's unit test.

Run from anywhere:  python3 notebooks/make_notebooks.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# The per-notebook header (see README.md): pin gonbui to the kernel's version, point GoNB's module at this repo,
# build without XLA and with SIMD, and run GoMLX on the pure-Go backend.
HEADER = """\
!*go get github.com/janpfeifer/gonb@${GONB_VERSION} 2>go-get.log || { cat go-get.log; exit 1; }
!*go mod edit -require github.com/uniter-go/uniter@v0.0.0-00010101000000-000000000000 -replace github.com/uniter-go/uniter=${GONB_DIR}/..
%goflags -tags=noxla
%env GOEXPERIMENT simd
%env GOMLX_BACKEND go:parallelism=-1"""


def code(src, tags=(), outputs=None):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs or [],
            "source": src if isinstance(src, list) else src.strip("\n")}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    return cell


def markdown(src):
    return {"cell_type": "markdown", "metadata": {}, "source": src.strip("\n")}


def notebook(cells):
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"},
                         "language_info": {"name": "go"}}}


def write(path, nb):
    with open(os.path.join(HERE, path), "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")


SMOKE = notebook([
    markdown("""
# Smoke test: repository packages and GoMLX inside GoNB

Runs in CI (`go test ./notebooks/`). The first cell is the header every notebook in this folder starts with
(see `README.md`)."""),
    code(HEADER),
    markdown("Training curves with `viz.LineChart` (synthetic numbers), on a linear and on a log axis."),
    code("""
import (
	"math"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync() // flush the displays before the cell's program exits
var steps, train, val []float64
for s := 0; s <= 1000; s += 50 {
	steps = append(steps, float64(s))
	train = append(train, 0.3+4*math.Exp(-float64(s)/250))
	val = append(val, 0.45+4*math.Exp(-float64(s)/300))
}
chart := viz.LineChart{Title: "MLM loss", YLabel: "loss", Series: []viz.Series{
	{Name: "train", X: steps, Y: train}, {Name: "val", X: steps, Y: val}}}
svg, err := chart.SVG()
if err != nil {
	panic(err)
}
gonbui.DisplaySVG(svg)
chart.LogY, chart.Title = true, "MLM loss (log scale)"
if svg, err = chart.SVG(); err != nil {
	panic(err)
}
gonbui.DisplaySVG(svg)"""),
    markdown("Word × region attention with `viz.Heatmap` (a synthetic softmax over 6 regions)."),
    code("""
import (
	"fmt"
	"math"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync()
words := []string{"[CLS]", "a", "dog", "on", "the", "grass", "[SEP]"}
regions := []string{"r0", "r1", "r2", "r3", "r4", "r5"}
attn := make([][]float32, len(words))
for i := range words {
	var sum float64
	row := make([]float64, len(regions))
	for j := range regions {
		row[j] = math.Exp(-math.Abs(float64(i-j)) / 1.5)
		sum += row[j]
	}
	attn[i] = make([]float32, len(regions))
	for j := range row {
		attn[i][j] = float32(row[j] / sum)
	}
}
svg, err := viz.Heatmap(attn, words, regions, "text→image attention (layer 12, head mean)")
if err != nil {
	panic(err)
}
gonbui.DisplaySVG(svg)
fmt.Printf("row sums ≈ 1: %.3f\\n", attn[2][0]+attn[2][1]+attn[2][2]+attn[2][3]+attn[2][4]+attn[2][5])"""),
    markdown("Boxes weighted by attention with `viz.DrawBoxes`, tokens with `viz.TokensHTML`, a `viz.Table`."),
    code("""
import (
	"image"
	"image/color"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync()
img := image.NewRGBA(image.Rect(0, 0, 320, 200))
for y := 0; y < 200; y++ {
	for x := 0; x < 320; x++ {
		img.SetRGBA(x, y, color.RGBA{uint8(60 + x/4), uint8(90 + y/3), 140, 255})
	}
}
boxes := [][4]float32{{20, 20, 140, 120}, {150, 60, 300, 180}, {60, 130, 200, 190}}
gonbui.DisplayImage(viz.DrawBoxes(img, boxes, []float32{0.2, 0.7, 0.1}, []string{"r0 .2", "r1 .7", "r2 .1"}))
gonbui.DisplayHTML(viz.TokensHTML([]string{"a", "dog", "<on>", "the", "grass"}, []float32{0.05, 0.6, 0.1, 0.05, 0.2}))
gonbui.DisplayHTML(viz.Table([]string{"task", "metric", "value"}, [][]string{{"VQA", "acc", "0.00"}, {"ITM", "acc", "0.00"}}))"""),
    markdown("GoMLX on the pure-Go backend (checks `-tags noxla`, `GOEXPERIMENT=simd` and `GOMLX_BACKEND`)."),
    code("""
import (
	"fmt"
	"runtime/debug"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/gomlx/backends/default"
	"github.com/gomlx/gomlx/core/graph"
)

%%
backend, err := compute.New()
if err != nil {
	panic(err)
}
out, err := graph.CallOnce(backend, func(x *graph.Node) *graph.Node { return graph.Mul(x, x) }, []float32{1, 2, 3})
if err != nil {
	panic(err)
}
got := out.Value().([]float32)
if got[0] != 1 || got[1] != 4 || got[2] != 9 {
	panic(fmt.Sprintf("x² of [1 2 3] = %v", got))
}
settings := map[string]string{}
if bi, ok := debug.ReadBuildInfo(); ok {
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
}
if settings["-tags"] != "noxla" || settings["GOEXPERIMENT"] != "simd" {
	panic(fmt.Sprintf("built with -tags=%q GOEXPERIMENT=%q, want noxla and simd", settings["-tags"], settings["GOEXPERIMENT"]))
}
fmt.Println(backend.Name(), "x² =", got, "| -tags", settings["-tags"], "| GOEXPERIMENT", settings["GOEXPERIMENT"])"""),
])

# Cells tagged "expect-failure" must be reported by the checker, all others must pass. No header: it needs nothing
# from the repository.
FAILING = notebook([
    markdown("Negative test for `notebooks_test.go`: each failure mode GoNB has, between passing cells."),
    code('%%\nfmt.Println("before")'),
    code('%%\npanic("deliberate failure")', tags=["expect-failure"]),
    code("!false", tags=["expect-failure"]),
    code('%%\nvar x int = "not an int"\nfmt.Println(x)', tags=["expect-failure"]),
    code('%%\nlog.Fatal("deliberate log.Fatal")', tags=["expect-failure"]),
    code('%%\nfmt.Println("exit status 1 (on stdout: not a failure)")'),
])


def stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


# An executed notebook with hand-made outputs, in both of nbformat's text forms (string and list of lines).
CHECKED = notebook([
    markdown("exit status 1 (markdown: ignored)"),
    code("%%\nok()", outputs=[stream("stdout", ["exit status 3\n"]), stream("stderr", "warning: x\n")]),
    code("%%\npanic(1)", outputs=[stream("stderr", ["panic: 1\n", "exit status 2\n"]),
                                  {"output_type": "error", "ename": "ERROR", "evalue": "exit status 2",
                                   "traceback": []}]),
    code(["!false\n", "!true"], outputs=[stream("stderr", "exit status 1\n")]),
    code("!echo", outputs=[stream("stderr", "exit status 0\nexit status 12 and more\n")]),
    code("%%\nbad", outputs=[{"output_type": "error", "ename": "ERROR", "evalue": "./main.go:3:1: syntax error",
                              "traceback": []}]),
    code("%%\ngonbui.DisplayHTML(x)", outputs=[stream("stdout", "lost\n")]),
    code("%%\ngonbui.DisplaySVG(x)", outputs=[{"output_type": "display_data", "metadata": {},
                                              "data": {"text/html": "<div><svg></svg></div>"}}]),
])

if __name__ == "__main__":
    write("00_smoke.ipynb", SMOKE)
    write("testdata/failing.ipynb", FAILING)
    write("testdata/checked.ipynb", CHECKED)
