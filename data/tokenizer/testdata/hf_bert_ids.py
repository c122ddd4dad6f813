"""Tokenizes a corpus with Hugging Face's slow BertTokenizer, for the parity test of data/tokenizer.

    python3 hf_bert_ids.py HF_DIR VOCAB_TXT LOWER(0|1) CORPUS_JSON   # prints a JSON list of id lists

HF_DIR holds transformers' tokenization_utils.py and tokenization_bert.py (whole files from a transformers 4.x
release, or excerpts holding the definitions below). They are not part of this repository. This script takes
those definitions from the files unchanged (Trie, _is_whitespace, _is_control, _is_punctuation and
PreTrainedTokenizer.tokenize; load_vocab, whitespace_tokenize, BasicTokenizer, WordpieceTokenizer,
BertTokenizer._tokenize and _convert_token_to_id) and runs them as BertTokenizer(vocab, do_lower_case=LOWER)
with the default special tokens does: tokenize(text), then convert_tokens_to_ids.
"""
import ast
import collections
import itertools
import json
import re
import sys
import textwrap
import unicodedata
from collections import OrderedDict


def definitions(path, names, methods):
    """Source of the top-level definitions `names` and of the methods {class: [method]} of a Python file."""
    src = open(path, encoding="utf-8").read()
    tree = ast.parse(src)
    out, found = {}, set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
            out[node.name] = ast.get_source_segment(src, node)
            found.add(node.name)
        if isinstance(node, ast.ClassDef) and node.name in methods:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in methods[node.name]:
                    out[node.name + "." + item.name] = textwrap.dedent(ast.get_source_segment(src, item))
                    found.add(node.name + "." + item.name)
    want = set(names) | {c + "." + m for c, ms in methods.items() for m in ms}
    if found != want:
        sys.exit(f"{path} lacks {sorted(want - found)}")
    return out


class Logger:
    def warning(self, *a):
        print(*a, file=sys.stderr)

    error = warning


class AddedToken:  # BERT's default special tokens are plain strings in the releases this runs
    pass


ns = {"re": re, "itertools": itertools, "unicodedata": unicodedata, "collections": collections,
      "OrderedDict": OrderedDict, "logger": Logger(), "AddedToken": AddedToken, "List": list, "Optional": None}
hf_dir, vocab_file, lower, corpus_file = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
utils = definitions(f"{hf_dir}/tokenization_utils.py", ["Trie", "_is_whitespace", "_is_control", "_is_punctuation"],
                    {"PreTrainedTokenizer": ["tokenize"]})
bert = definitions(f"{hf_dir}/tokenization_bert.py", ["load_vocab", "whitespace_tokenize", "BasicTokenizer",
                                                     "WordpieceTokenizer"],
                   {"BertTokenizer": ["_tokenize", "_convert_token_to_id"]})
methods = {}
for name, code in list(utils.items()) + list(bert.items()):
    local = {}
    exec(code, ns, local)
    for k, v in local.items():
        if "." in name:
            methods[name] = v
        else:
            ns[k] = v


class Tokenizer:
    tokenize = methods["PreTrainedTokenizer.tokenize"]
    _tokenize = methods["BertTokenizer._tokenize"]
    _convert_token_to_id = methods["BertTokenizer._convert_token_to_id"]

    def __init__(self, vocab_file, do_lower_case):
        # BertTokenizer.__init__ and PreTrainedTokenizer's special-token bookkeeping for the default tokens.
        self.vocab = ns["load_vocab"](vocab_file)
        self.do_lower_case = do_lower_case
        self.do_basic_tokenize = True
        self.unk_token = "[UNK]"
        self.all_special_tokens = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]
        self.all_special_tokens_extended = list(self.all_special_tokens)
        self.unique_no_split_tokens = sorted(self.all_special_tokens)
        self.tokens_trie = ns["Trie"]()
        for t in self.unique_no_split_tokens:
            self.tokens_trie.add(t)
        self.basic_tokenizer = ns["BasicTokenizer"](do_lower_case=do_lower_case, never_split=None,
                                                   tokenize_chinese_chars=True, strip_accents=None)
        self.wordpiece_tokenizer = ns["WordpieceTokenizer"](vocab=self.vocab, unk_token=self.unk_token)

    def prepare_for_tokenization(self, text, **kwargs):
        return (text, kwargs)


tok = Tokenizer(vocab_file, lower)
corpus = json.load(open(corpus_file, encoding="utf-8"))
json.dump([[tok._convert_token_to_id(t) for t in tok.tokenize(text)] for text in corpus], sys.stdout)
