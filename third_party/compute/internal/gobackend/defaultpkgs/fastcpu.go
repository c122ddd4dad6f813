// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package defaultpkgs

// Added by the UNITER-in-Go project (third_party/README.md): the kernels of internal/gobackend/fastcpu, registered
// through upstream's extension points (node executors, graph transformations).

import (
	_ "github.com/gomlx/compute/internal/gobackend/fastcpu/transpose"
)
