package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/uniter-go/uniter/experiments/report"
)

func init() {
	register("plot", "draw a run directory's curves and attention maps into SVG/PNG/HTML files (offline)", plotCmd)
}

func plotCmd(args []string) error {
	opts := report.DefaultOptions()
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	run := fs.String("run", "", "run directory (env.save_dir of a run: metrics.jsonl, config.yaml, checkpoints)")
	out := fs.String("out", "", "output directory (default RUN/report)")
	fs.StringVar(&opts.Split, "split", opts.Split, "split of the attention example and the predictions: train, val or test")
	fs.IntVar(&opts.Example, "example", opts.Example, "index of the example in the split whose attention is drawn")
	fs.IntVar(&opts.Layer, "layer", opts.Layer, "attention layer (0-based; -1 = last)")
	fs.IntVar(&opts.Head, "head", opts.Head, "attention head (0-based; -1 = mean of the heads)")
	fs.IntVar(&opts.Predictions, "predictions", opts.Predictions, "VQA questions listed with predicted and true answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *run == "" {
		return errors.New("--run DIR is required")
	}
	if *out == "" {
		*out = filepath.Join(*run, "report")
	}
	files, err := report.WriteRunReport(*run, *out, opts)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Println(f)
	}
	return nil
}
