// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

//go:build !(amd64 && goexperiment.simd)

package fastmath

// The arithmetic slice functions have no vector part in this build.
func vectorAdd(dst, x, y []float32) int { return 0 }
func vectorSub(dst, x, y []float32) int { return 0 }
func vectorMul(dst, x, y []float32) int { return 0 }
func vectorDiv(dst, x, y []float32) int { return 0 }
func vectorSqrt(dst, x []float32) int   { return 0 }
