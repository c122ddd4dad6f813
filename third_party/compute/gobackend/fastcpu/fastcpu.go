// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

// Package fastcpu switches the Go backend's CPU kernels added by the UNITER-in-Go project (third_party/README.md)
// on and off at run time, so that a benchmark can interleave steps with and without one of them in one process:
//
//   - "transpose": a Transpose executor for the permutations that move the last axis (off: upstream's executor),
//     read at every Transpose;
//   - "fusion": the pass fusing float32 element-wise chains into one node, read when a graph is compiled.
//
// At start-up each kernel is on unless its environment variable is false: GOMLX_FASTCPU_TRANSPOSE,
// GOMLX_FUSE_ELEMENTWISE.
package fastcpu

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute/internal/gobackend/fastcpu"
)

// Kernels returns the kernels' names.
func Kernels() []string { return slices.Clone(fastcpu.Names[:]) }

// SetEnabled turns the named kernel on or off and returns its previous state.
func SetEnabled(name string, on bool) (previous bool, err error) {
	k, err := kernel(name)
	if err != nil {
		return false, err
	}
	return fastcpu.SetEnabled(k, on), nil
}

// Enabled reports whether the named kernel is on.
func Enabled(name string) (bool, error) {
	k, err := kernel(name)
	if err != nil {
		return false, err
	}
	return fastcpu.Enabled(k), nil
}

func kernel(name string) (fastcpu.Kernel, error) {
	i := slices.Index(fastcpu.Names[:], name)
	if i < 0 {
		return 0, fmt.Errorf("fastcpu: unknown kernel %q (known: %v)", name, fastcpu.Names)
	}
	return fastcpu.Kernel(i), nil
}
