// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

// Package fastcpu holds the run-time switches of the Go backend's CPU kernels added by the UNITER-in-Go project
// (third_party/README.md), which live in its subpackages: transpose (a Transpose executor for the permutations that
// move the last axis) and fusion (a graph pass fusing float32 element-wise chains). Each kernel is on unless its
// environment variable says false; github.com/gomlx/compute/gobackend/fastcpu switches them at run time.
package fastcpu

import (
	"sync/atomic"

	"github.com/gomlx/compute/support/envutil"
)

// Kernel names one of the kernels.
type Kernel int

// The kernels.
const (
	Transpose Kernel = iota // read at every Transpose
	Fusion                  // read when a graph is compiled
	numKernels
)

// Names are the kernels' names, by Kernel.
var Names = [numKernels]string{"transpose", "fusion"}

// Envs are the environment variables that turn the kernels off at start-up (value false), by Kernel.
var Envs = [numKernels]string{"GOMLX_FASTCPU_TRANSPOSE", "GOMLX_FUSE_ELEMENTWISE"}

var enabled [numKernels]atomic.Bool

func init() {
	for k := range numKernels {
		enabled[k].Store(envutil.MustReadBool(Envs[k], true))
	}
}

// Enabled reports whether kernel k is on.
func Enabled(k Kernel) bool { return enabled[k].Load() }

// SetEnabled turns kernel k on or off and returns its previous state.
func SetEnabled(k Kernel, on bool) (previous bool) { return enabled[k].Swap(on) }
