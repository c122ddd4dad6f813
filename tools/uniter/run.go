package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/experiments/runner"
)

func init() {
	register("run", "train / evaluate as mmf_run: config=FILE run_type=train_val dataset=NAME model=uniter [key=value ...]", runCmd)
}

// runCmd loads the configuration from mmf_run-style arguments, runs it and prints the final evaluation as
// name=value pairs on one line.
func runCmd(args []string) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(os.Stderr, "usage: uniter run config=FILE [run_type=train_val] [dataset=NAME] [model=uniter] [key=value ...]")
		return nil
	}
	opts, err := config.ParseArgs(args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(opts)
	if err != nil {
		return err
	}
	r, err := runner.New(cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := r.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done: %d updates in %s, save dir %s\n", res.Step, res.Elapsed.Round(1e9), res.SaveDir)
	fmt.Println(runner.FormatMetrics(res.Final))
	return nil
}
