// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build goexperiment.simd

package defaultpkgs

// Added by the UNITER-in-Go project (third_party/README.md): the fastcpu kernels built on the simd packages.

import (
	_ "github.com/gomlx/compute/internal/gobackend/fastcpu/fusion"
)
