package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/uniter-go/uniter/data/vqa"
)

func init() {
	register("eval-vqa", "score a VQA results file with the official evaluator (vqaEval.py since 2021)", func(args []string) error {
		return evalVQA(args, os.Stdout, os.Stderr)
	})
}

// evalVQA reads official questions, annotations and results files and prints the accuracies as GT-Vision-Lab/VQA's
// vqaEvalDemo.py prints them.
func evalVQA(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval-vqa", flag.ContinueOnError)
	fs.SetOutput(stderr)
	qPath := fs.String("questions", "", "official questions JSON (v2_OpenEnded_mscoco_<split>_questions.json)")
	aPath := fs.String("annotations", "", "official annotations JSON (v2_mscoco_<split>_annotations.json)")
	rPath := fs.String("results", "", "results JSON: [{\"question_id\": …, \"answer\": …}, …]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *qPath == "" || *aPath == "" || *rPath == "" {
		return errors.New("--questions, --annotations and --results are all required")
	}
	qs, err := vqa.ReadQuestions(*qPath)
	if err != nil {
		return err
	}
	anns, err := vqa.ReadAnnotations(*aPath)
	if err != nil {
		return err
	}
	rs, err := vqa.ReadResults(*rPath)
	if err != nil {
		return err
	}
	asked := make(map[int64]bool, len(qs.Questions))
	for _, q := range qs.Questions {
		asked[q.QuestionID] = true
	}
	for _, a := range anns.Annotations {
		if !asked[a.QuestionID] {
			return fmt.Errorf("%s: question_id %d is annotated but not in %s", *aPath, a.QuestionID, *qPath)
		}
	}
	ev, err := vqa.Evaluate(anns.Annotations, rs)
	if err != nil {
		return fmt.Errorf("%s against %s: %w", *rPath, *aPath, err)
	}
	if ev.DuplicateResults > 0 {
		fmt.Fprintf(stderr, "note: %s has %d results for questions already answered; the last one counts, as in the official loader\n",
			*rPath, ev.DuplicateResults)
	}
	return ev.WriteReport(stdout)
}
