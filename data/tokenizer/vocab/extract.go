//go:build ignore

// Command extract regenerates bert-base-uncased.txt from a HuggingFace tokenizer.json:
// it sorts model.vocab by id and writes one token per line.
//
// Provenance of the committed file (sha256 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3):
//
//	cd /tmp && mkdir -p x && cd x && go mod init x
//	GOFLAGS=-mod=mod go mod download -json github.com/daulet/tokenizers@v1.24.0   # prints "Dir"
//	go run extract.go $DIR/test/data/bert-base-uncased.json bert-base-uncased.txt
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: go run extract.go tokenizer.json vocab.txt")
	}
	in, out := os.Args[1], os.Args[2]
	raw, err := os.ReadFile(in)
	if err != nil {
		log.Fatal(err)
	}
	var tj struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(raw, &tj); err != nil {
		log.Fatalf("parsing %s: %v", in, err)
	}
	tokens := make([]string, len(tj.Model.Vocab))
	for tok, id := range tj.Model.Vocab {
		if id < 0 || id >= len(tokens) || tokens[id] != "" {
			log.Fatalf("%s: id %d of %q is out of range or duplicated", in, id, tok)
		}
		tokens[id] = tok
	}
	f, err := os.Create(out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, tok := range tokens {
		fmt.Fprintln(w, tok)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
