package notebook

import (
	"fmt"
	"log"

	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/experiments/viz"
)

// Check stops a notebook cell on an error: it prints err and exits with status 1, which marks the cell failed.
func Check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// Must returns v, or stops the cell as Check does when err is not nil.
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// ConfigTable renders the values of some keys of an effective configuration as an HTML table; a missing key
// is an error naming it.
func ConfigTable(cfg *config.Config, keys ...string) (string, error) {
	rows := make([][]string, len(keys))
	for i, key := range keys {
		v, ok := cfg.Get(key)
		if !ok {
			return "", fmt.Errorf("config table: no key %s", key)
		}
		rows[i] = []string{key, fmt.Sprint(v)}
	}
	return viz.Table([]string{"key", "value"}, rows), nil
}

// Must2 returns a and b, or stops the cell as Check does when err is not nil.
func Must2[T, U any](a T, b U, err error) (T, U) {
	Check(err)
	return a, b
}
