// Package zoo finds pretrained checkpoints in a local model-zoo directory by MMF zoo name
// (checkpoint.resume_zoo=uniter.pretrained). Nothing is downloaded: when an entry is missing, the error says which
// file to fetch, where to put it and how to convert it.
package zoo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// EnvVar names the environment variable that overrides the zoo directory.
const EnvVar = "UNITER_ZOO"

// Entry describes a known zoo checkpoint.
type Entry struct {
	// File is the name of the released file.
	File string
	// URL is where the file is published.
	URL string
	// Description says what the weights are.
	Description string
}

// Known lists the zoo names MMF's UNITER project uses (mmf/configs/zoo/models.yaml) and the ORIG/VILLA files
// they hold.
var Known = map[string]Entry{
	"uniter.pretrained": {
		File:        "uniter-base.pt",
		URL:         "https://acvrpublicycchen.blob.core.windows.net/uniter/pretrained/uniter-base.pt",
		Description: "UNITER-base pretrained on COCO, VG, CC and SBU (ORIG checkpoint)",
	},
	"uniter.large.pretrained": {
		File:        "uniter-large.pt",
		URL:         "https://acvrpublicycchen.blob.core.windows.net/uniter/pretrained/uniter-large.pt",
		Description: "UNITER-large pretrained (ORIG checkpoint; needs the large model sizes)",
	},
	"villa.pretrained": {
		File:        "villa-base.pt",
		URL:         "https://convaisharables.blob.core.windows.net/villa/pretrained/villa-base.pt",
		Description: "VILLA-base: UNITER-base after adversarial pretraining (same architecture)",
	},
}

// extensions are the checkpoint file types tried for a name, in order.
var extensions = []string{".ckpt", ".safetensors", ".npz", ".pt", ".pth", ".bin"}

// Dir returns the zoo directory: $UNITER_ZOO when set, else configured (env.zoo_dir) when not empty, else
// <user cache dir>/uniter/zoo.
func Dir(configured string) string {
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	if configured != "" {
		return configured
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = "."
	}
	return filepath.Join(cache, "uniter", "zoo")
}

// Candidates lists the paths Find tries for name in dir, in order: <dir>/<name><ext>, then
// <dir>/<name>/model<ext>, then the released file name <dir>/<name>/<File> and <dir>/<File> for known names.
func Candidates(dir, name string) []string {
	var out []string
	for _, ext := range extensions {
		out = append(out, filepath.Join(dir, name+ext))
	}
	for _, ext := range extensions {
		out = append(out, filepath.Join(dir, name, "model"+ext))
	}
	if e, ok := Known[name]; ok {
		out = append(out, filepath.Join(dir, name, e.File), filepath.Join(dir, e.File))
	}
	return out
}

// Find returns the checkpoint file of name in dir. When there is none, the error names the file to download,
// the path to place it at and how to convert it.
func Find(dir, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("model zoo: bad name %q", name)
	}
	for _, p := range Candidates(dir, name) {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", missingError(dir, name)
}

// missingError explains how to install a zoo entry.
func missingError(dir, name string) error {
	dest := filepath.Join(dir, name+".pt")
	npz := filepath.Join(dir, name+".npz")
	convert := fmt.Sprintf("PyTorch .pt/.pth files are read as they are; to convert one to .npz instead run "+
		"/usr/bin/python3 -c \"import sys,torch,numpy as np; sd=torch.load(sys.argv[1],map_location='cpu'); "+
		"sd=sd.get('model',sd); np.savez(sys.argv[2],**{k:v.float().numpy() for k,v in sd.items() if hasattr(v,'float')})\" "+
		"FILE %s (MMF zoo tarballs: extract the .pth from %s.tar.gz first)", npz, name)
	e, ok := Known[name]
	if !ok {
		names := make([]string, 0, len(Known))
		for k := range Known {
			names = append(names, k)
		}
		slices.Sort(names)
		return fmt.Errorf("model zoo: %q not found in %s (set $%s to use another directory; known names: %s): "+
			"place its checkpoint (ORIG, MMF or this project's format) at %s; %s",
			name, dir, EnvVar, strings.Join(names, ", "), dest, convert)
	}
	return fmt.Errorf("model zoo: %q (%s) not found in %s (set $%s to use another directory): "+
		"download %s from %s and place it at %s; %s",
		name, e.Description, dir, EnvVar, e.File, e.URL, dest, convert)
}
