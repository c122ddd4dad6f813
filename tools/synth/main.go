// Command synth writes a synthetic CLEVR-like VQA / captioning dataset in the real VQA v2, COCO and region-feature
// formats (see package github.com/uniter-go/uniter/data/synthetic for the layout). It does nothing when -out
// already holds the dataset of the same settings.
//
//	synth -out DIR -images N -seed S -feature-dim D -format npz|imgdb|tsv
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/uniter-go/uniter/data/synthetic"
)

func main() {
	cfg := synthetic.DefaultConfig()
	out := flag.String("out", "", "output directory (required)")
	flag.IntVar(&cfg.NumImages, "images", cfg.NumImages, "number of images")
	flag.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed of scenes, questions, captions and feature noise")
	flag.Int64Var(&cfg.DetectorSeed, "detector-seed", cfg.DetectorSeed, "seed of the fixed feature projection")
	flag.IntVar(&cfg.FeatureDim, "feature-dim", cfg.FeatureDim, "region feature size (2048 for real BUTD features)")
	flag.IntVar(&cfg.MaxObjects, "max-objects", cfg.MaxObjects, "most objects per scene")
	flag.IntVar(&cfg.QuestionsPerImage, "questions-per-image", cfg.QuestionsPerImage, "questions per image (at most)")
	flag.StringVar(&cfg.FeatureFormat, "format", cfg.FeatureFormat, "feature store format: npz, imgdb or tsv")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	if err := synthetic.EnsureDataset(*out, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
	fmt.Printf("synth: %s holds %d images (D=%d, %s features); %.2fs\n", *out, cfg.NumImages, cfg.FeatureDim,
		cfg.FeatureFormat, time.Since(start).Seconds())
}
