// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build goexperiment.simd

package fusion

import "github.com/gomlx/compute/internal/gobackend/fastcpu"

// SetEnabled turns the pass on or off for the graphs compiled next and returns the previous setting.
func SetEnabled(on bool) (previous bool) { return fastcpu.SetEnabled(fastcpu.Fusion, on) }
