// Package jsonfile reads and writes whole JSON files with buffered I/O and errors that name the file.
package jsonfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// Read decodes the JSON document in path into v.
func Read(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// Write encodes v as JSON into path, replacing the file.
func Write(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = json.NewEncoder(w).Encode(v)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
