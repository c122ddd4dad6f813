package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchPrintsSummaryLast runs `uniter bench` on the tiny model: the last line is the summary scripts parse,
// with positive numbers (the compile time may round to 0), for a training step, a bfloat16 forward step and a training
// step through the fused attention.
func TestBenchPrintsSummaryLast(t *testing.T) {
	summary := regexp.MustCompile(`^step_seconds=([0-9.]+) examples_per_s=([0-9.]+) gflops=([0-9.]+) peak_rss_mb=([0-9]+) compile_seconds=([0-9.]+)$`)
	for _, extra := range [][]string{{"--mode", "train", "--task", "mlm"}, {"--mode", "forward", "--dtype", "bfloat16"},
		{"--mode", "train", "--fused-attention"}} {
		var out bytes.Buffer
		args := append([]string{"--model", "tiny", "--batch", "2", "--text-len", "6", "--regions", "4", "--steps", "2", "--warmup", "1"}, extra...)
		if err := runBench(args, &out); err != nil {
			t.Fatalf("%v: %v", extra, err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		m := summary.FindStringSubmatch(lines[len(lines)-1])
		if m == nil {
			t.Fatalf("%v: last line %q is not the summary", extra, lines[len(lines)-1])
		}
		for _, v := range m[1:4] {
			if f, _ := strconv.ParseFloat(v, 64); f <= 0 {
				t.Errorf("%v: summary %q has a non-positive value", extra, m[0])
			}
		}
	}
}

func TestBenchRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--model", "huge"}, {"--dtype", "float16"}, {"--mode", "backward"}, {"--task", "nlvr2"},
		{"--batch", "0"}, {"--steps", "0"}, {"--model", "tiny", "extra"}, {"--no-such-flag"},
	} {
		// The tiny model first: a bad argument must fail before any benchmark runs; a good one overrides it.
		all := append([]string{"--model", "tiny", "--batch", "1", "--text-len", "4", "--regions", "2"}, args...)
		if err := runBench(all, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
