// Command uniter is the command-line front end of the Go UNITER implementation, the equivalent of MMF's mmf_run:
//
//	uniter run config=experiments/synthetic/vqa.yaml run_type=train_val dataset=synthetic_vqa model=uniter
//	uniter forward --checkpoint model.pt --config config.json --inputs inputs.npz --out out.npz
//	uniter bench --model base --batch 8 --text-len 60 --regions 36 --mode train
//	uniter plot --run save/<experiment>-<timestamp>
//	uniter eval-vqa --questions Q --annotations A --results R
//
// Each subcommand lives in its own file and registers itself in commands.
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// command is one subcommand: run parses its own arguments and returns an error to report.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: uniter <command> [arguments]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", name, commands[name].summary)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "uniter: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "uniter %s: %s\n", os.Args[1], strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
