// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

//go:build !(amd64 && goexperiment.simd)

package fastmath

// HasAVX512Kernels reports whether ExpSlice32, ErfSlice32 and GeluErfSlice32 use AVX-512 kernels (never in this
// build).
func HasAVX512Kernels() bool { return false }

// expSlice32 implements ExpSlice32 (scalar build).
func expSlice32(dst, src []float32) { expSlice32Scalar(dst, src) }

// erfSlice32 implements ErfSlice32 (scalar build).
func erfSlice32(dst, src []float32) { erfSlice32Scalar(dst, src) }

// geluErfSlice32 implements GeluErfSlice32 (scalar build).
func geluErfSlice32(dst, src []float32) { geluErfSlice32Scalar(dst, src) }
