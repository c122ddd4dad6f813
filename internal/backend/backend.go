// Package backend creates GoMLX compute backends with the project's defaults: the pure-Go backend with unlimited
// worker parallelism (the default pool can deadlock in deep training graphs) unless a spec or $GOMLX_BACKEND says
// otherwise. Specs follow GoMLX: "go:parallelism=-1", "xla:cuda", "xla:/abs/path/plugin.so", "onnx:cpu".
package backend

import (
	"fmt"
	"os"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/gomlx/backends/default" // registers the available backends
)

// Default is the backend spec used when none is given and $GOMLX_BACKEND is unset.
const Default = "go:parallelism=-1"

// Spec resolves the backend spec: the argument, else $GOMLX_BACKEND, else Default.
func Spec(spec string) string {
	if spec != "" {
		return spec
	}
	if env := os.Getenv("GOMLX_BACKEND"); env != "" {
		return env
	}
	return Default
}

// New creates a backend for spec (see Spec).
func New(spec string) (compute.Backend, error) {
	spec = Spec(spec)
	b, err := compute.NewWithConfig(spec)
	if err != nil {
		return nil, fmt.Errorf("creating GoMLX backend %q: %w", spec, err)
	}
	return b, nil
}

var (
	sharedOnce sync.Once
	shared     compute.Backend
	sharedErr  error
)

// Shared returns one process-wide backend for the default spec, created on first use.
func Shared() (compute.Backend, error) {
	sharedOnce.Do(func() { shared, sharedErr = New("") })
	return shared, sharedErr
}
