package config

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// builtin holds the canonical default files: defaults.yaml, models/<model>/defaults.yaml and
// datasets/<dataset>/defaults.yaml.
//
//go:embed defaults
var builtin embed.FS

// LoadOptions selects what Load merges on top of the built-in defaults.
type LoadOptions struct {
	// Config is the user YAML file (mmf_run's config=), or "" for none. Its includes: are resolved relative to
	// the including file, recursively.
	Config string
	// Overrides are key=value assignments (mmf_run's opts), applied in order after all files, strictly: the key
	// must exist. model= and dataset=/datasets= also choose which model and dataset defaults are merged.
	Overrides []string
}

// ParseArgs reads mmf_run-style arguments: config=PATH names the user YAML and every other argument is a
// key=value override. As in MMF, when the first argument has no '=', the arguments are read as space-separated
// "key value" pairs instead.
func ParseArgs(args []string) (LoadOptions, error) {
	var pairs []string
	if len(args) > 0 && !strings.Contains(args[0], "=") {
		if len(args)%2 != 0 {
			return LoadOptions{}, fmt.Errorf("arguments %q: want key value pairs, got an odd count", args)
		}
		for i := 0; i < len(args); i += 2 {
			pairs = append(pairs, args[i]+"="+args[i+1])
		}
	} else {
		pairs = args
	}
	var opts LoadOptions
	for _, a := range pairs {
		if file, ok := strings.CutPrefix(a, "config="); ok {
			opts.Config = file
		} else {
			opts.Overrides = append(opts.Overrides, a)
		}
	}
	return opts, nil
}

// Load builds the effective configuration as MMF does (mmf/utils/configuration.py): built-in defaults ⊕ model defaults (key model) ⊕ the
// defaults of each dataset (key datasets, a name, comma-separated names or a list) ⊕ the user YAML ⊕ overrides,
// then resolves interpolations. The model and datasets are taken from the overrides, else the user YAML, else
// the defaults. Unknown model or dataset names are errors listing the known ones.
func Load(opts LoadOptions) (*Config, error) {
	overrides := make([]override, len(opts.Overrides))
	for i, s := range opts.Overrides {
		o, err := parseOverride(s)
		if err != nil {
			return nil, err
		}
		overrides[i] = o
	}
	tree, err := loadFile(embedded, "defaults/defaults.yaml", nil)
	if err != nil {
		return nil, err
	}
	user := map[string]any{}
	if opts.Config != "" {
		file, err := filepath.Abs(opts.Config)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %w", opts.Config, err)
		}
		if user, err = loadFile(disk, file, nil); err != nil {
			return nil, err
		}
	}

	pick := func(key string) any {
		v := tree[key]
		if uv, ok := user[key]; ok {
			v = uv
		}
		for _, o := range overrides {
			if len(o.path) == 1 && o.path[0].key == key {
				v = o.value
			}
		}
		return v
	}
	model, ok := pick("model").(string)
	if !ok || model == "" {
		return nil, fmt.Errorf("config key model: want a model name (known: %s)", strings.Join(KnownModels(), ", "))
	}
	if !slices.Contains(KnownModels(), model) {
		return nil, fmt.Errorf("config key model: unknown model %q (known: %s)", model, strings.Join(KnownModels(), ", "))
	}
	datasets, err := toStringList(pick("datasets"), "datasets")
	if err != nil {
		return nil, err
	}
	if len(datasets) == 0 {
		return nil, fmt.Errorf("config key datasets: no dataset given; set dataset=NAME (known: %s)",
			strings.Join(KnownDatasets(), ", "))
	}

	files := []string{path.Join("defaults/models", model, "defaults.yaml")}
	for _, d := range datasets {
		if !slices.Contains(KnownDatasets(), d) {
			return nil, fmt.Errorf("config key datasets: unknown dataset %q (known: %s)", d,
				strings.Join(KnownDatasets(), ", "))
		}
		files = append(files, path.Join("defaults/datasets", d, "defaults.yaml"))
	}
	for _, f := range files {
		layer, err := loadFile(embedded, f, nil)
		if err != nil {
			return nil, err
		}
		tree = merge(tree, layer)
	}
	tree = merge(tree, user)
	for _, o := range overrides {
		if err := o.apply(tree); err != nil {
			return nil, err
		}
	}
	resolved, err := resolve(tree)
	if err != nil {
		return nil, err
	}
	return &Config{tree: resolved}, nil
}

// KnownModels lists the models that have built-in defaults.
func KnownModels() []string { return builtinNames("defaults/models") }

// KnownDatasets lists the datasets that have built-in defaults.
func KnownDatasets() []string { return builtinNames("defaults/datasets") }

// builtinNames lists the subdirectories of an embedded directory, sorted.
func builtinNames(dir string) []string {
	entries, err := builtin.ReadDir(dir)
	if err != nil {
		return nil // the directory is embedded at build time; it cannot be missing
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// source reads YAML files by name, from the embedded defaults (slash paths) or the disk (absolute OS paths).
type source struct {
	read func(name string) ([]byte, error)
	// include resolves an include path relative to the directory of the including file.
	include func(file, inc string) string
}

var (
	embedded = source{
		read: func(name string) ([]byte, error) { return fs.ReadFile(builtin, name) },
		include: func(file, inc string) string {
			return path.Join(path.Dir(file), inc)
		},
	}
	disk = source{
		read: os.ReadFile,
		include: func(file, inc string) string {
			if filepath.IsAbs(inc) {
				return filepath.Clean(inc)
			}
			return filepath.Join(filepath.Dir(file), inc)
		},
	}
)

// loadFile reads one YAML file and its includes: (a list, or a comma-separated string, of paths relative to the
// file), loaded recursively and merged in order, with the file itself merged on top. chain holds the including
// files, to report include cycles.
func loadFile(src source, file string, chain []string) (map[string]any, error) {
	if slices.Contains(chain, file) {
		return nil, fmt.Errorf("config include cycle: %s -> %s", strings.Join(chain, " -> "), file)
	}
	data, err := src.read(file)
	if err != nil {
		if len(chain) > 0 {
			return nil, fmt.Errorf("reading config %s (included by %s): %w", file, chain[len(chain)-1], err)
		}
		return nil, fmt.Errorf("reading config %s: %w", file, err)
	}
	tree, err := parseYAML(data, file)
	if err != nil {
		return nil, err
	}
	incs := tree["includes"]
	delete(tree, "includes")
	if incs == nil {
		return tree, nil
	}
	names, err := toStringList(incs, file+": includes")
	if err != nil {
		return nil, err
	}
	merged := map[string]any{}
	for _, inc := range names {
		sub, err := loadFile(src, src.include(file, inc), append(slices.Clone(chain), file))
		if err != nil {
			return nil, err
		}
		merged = merge(merged, sub)
	}
	return merge(merged, tree), nil
}
