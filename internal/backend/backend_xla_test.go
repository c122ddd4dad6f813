//go:build !noxla

package backend

import (
	"strings"
	"testing"
)

// TestXLAPluginByAbsolutePath checks the XLA build's device-free path: a plugin given by absolute path is loaded as
// given (no search, no download), and a library that is not a PJRT plugin fails with an error naming the spec and
// the missing PJRT entry point; a plugin name with auto-install off fails with go-xla's clear message.
func TestXLAPluginByAbsolutePath(t *testing.T) {
	t.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	for _, c := range []struct{ spec, want string }{
		{"xla:/lib/x86_64-linux-gnu/libm.so.6", "GetPjrtApi"},
		{"xla:/no/such/pjrt_c_api_cuda_plugin.so", "/no/such/pjrt_c_api_cuda_plugin.so"},
		{"xla:cuda", "no plugins found"},
	} {
		b, err := New(c.spec)
		if err == nil {
			b.Finalize()
			t.Fatalf("New(%q) succeeded without a PJRT plugin", c.spec)
		}
		if msg := err.Error(); !strings.Contains(msg, `creating GoMLX backend "`+c.spec+`"`) || !strings.Contains(msg, c.want) {
			t.Errorf("New(%q): %v; want the spec and %q", c.spec, err, c.want)
		}
	}
}
