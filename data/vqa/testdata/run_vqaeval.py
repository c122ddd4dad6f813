"""Runs the official VQA evaluator on the parity corpus of data/vqa's tests and prints what it computes.

    python3 run_vqaeval.py VQAEVAL_PY CORPUS_JSON

VQAEVAL_PY is GT-Vision-Lab/VQA's PythonEvaluationTools/vqaEvaluation/vqaEval.py as published (Python 2; the
version after the "Fixed processing answers bug" commit of March 2021). It is not part of this repository: fetch
it yourself. This script turns its two print statements into print() calls so that Python 3 runs it, and runs its
VQAEval.evaluate() unchanged on the corpus ({"annotations": [...], "results": [...]}, the official file layouts).
It prints JSON: the unrounded accuracy of every question (captured from setEvalQA) as repr strings, the
evaluator's accuracy dict, and the report vqaEvalDemo.py prints from it.
"""
import contextlib
import io
import json
import re
import sys

source = open(sys.argv[1], encoding="utf-8").read()
source = re.sub(r'^(\s*)print (.*)$', r'\1print(\2)', source, flags=re.M)
module = {"__name__": "vqaEval"}
exec(compile(source, sys.argv[1], "exec"), module)

corpus = json.load(open(sys.argv[2], encoding="utf-8"))


class Data:
    """The two attributes of the VQA helper class that VQAEval reads, built as vqa.py's createIndex/loadRes do."""

    def __init__(self, anns):
        self.anns = anns
        self.qa = {a["question_id"]: a for a in anns}

    def getQuesIds(self):
        return [a["question_id"] for a in self.anns]


results = [dict(r) for r in corpus["results"]]
qa = {a["question_id"]: a for a in corpus["annotations"]}
for r in results:  # loadRes copies these fields from the annotations
    r["image_id"], r["question_type"], r["answer_type"] = (qa[r["question_id"]][k] for k in
                                                             ("image_id", "question_type", "answer_type"))

raw = {}


class Eval(module["VQAEval"]):
    def setEvalQA(self, quesId, acc):
        raw[quesId] = repr(acc)
        super().setEvalQA(quesId, acc)


ev = Eval(Data(corpus["annotations"]), Data(results), n=2)
with contextlib.redirect_stdout(io.StringIO()):
    ev.evaluate()

report = io.StringIO()
with contextlib.redirect_stdout(report):  # the print statements of vqaEvalDemo.py
    print("\n")
    print("Overall Accuracy is: %.02f\n" % (ev.accuracy['overall']))
    print("Per Question Type Accuracy is the following:")
    for quesType in ev.accuracy['perQuestionType']:
        print("%s : %.02f" % (quesType, ev.accuracy['perQuestionType'][quesType]))
    print("\n")
    print("Per Answer Type Accuracy is the following:")
    for ansType in ev.accuracy['perAnswerType']:
        print("%s : %.02f" % (ansType, ev.accuracy['perAnswerType'][ansType]))
    print("\n")
json.dump({"per_question": {str(k): v for k, v in raw.items()}, "accuracy": ev.accuracy,
           "report": report.getvalue()}, sys.stdout)
