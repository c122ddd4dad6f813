// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package fastcpu_test

import (
	"slices"
	"testing"

	"github.com/gomlx/compute/gobackend/fastcpu"
)

func TestSwitches(t *testing.T) {
	if got := fastcpu.Kernels(); !slices.Equal(got, []string{"transpose", "fusion"}) {
		t.Errorf("Kernels() = %v", got)
	}
	for _, name := range fastcpu.Kernels() {
		if on, err := fastcpu.Enabled(name); err != nil || !on {
			t.Errorf("%s: on by default, got %v, %v", name, on, err)
		}
		if prev, err := fastcpu.SetEnabled(name, false); err != nil || !prev {
			t.Errorf("SetEnabled(%s, false) = %v, %v", name, prev, err)
		}
		if on, _ := fastcpu.Enabled(name); on {
			t.Errorf("%s still on", name)
		}
		if prev, _ := fastcpu.SetEnabled(name, true); prev {
			t.Errorf("SetEnabled(%s, true): previous state on", name)
		}
	}
	if _, err := fastcpu.SetEnabled("fma", true); err == nil {
		t.Error("unknown kernel accepted")
	}
}
