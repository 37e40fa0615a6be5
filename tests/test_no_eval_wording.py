"""Rules must be written for kinds of messages, never copied from an eval question or evidence."""

import json
import re
from pathlib import Path

from eval.dataset import clean_markup

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILES = sorted((ROOT / "eval").glob("*.jsonl"))
WORD = re.compile(r"[a-z0-9']+")


def trigrams(text: str) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def eval_trigrams() -> set[tuple[str, ...]]:
    spans = set()
    for path in EVAL_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for text in [row["question"], *row.get("evidence", []), *row.get("history", [])]:
                spans |= trigrams(clean_markup(text))
    return spans


def rule_texts() -> list[tuple[str, str]]:
    """Every lexicon entry (key and expansion) and every literal run of words in a pattern."""
    lexicon = json.loads((ROOT / "corpus" / "lexicon.json").read_text(encoding="utf-8"))
    scope = json.loads((ROOT / "corpus" / "scope.json").read_text(encoding="utf-8"))
    texts = [(f"synonyms[{k!r}]", f"{k} | {v}") for k, v in lexicon["synonyms"].items()]
    texts += [(f"intents[{k!r}]", v) for k, v in lexicon["intents"].items()]
    patterns = [*scope["emergency"]["medical"], *scope["emergency"]["self_harm"]]
    patterns += scope["personal_advice"]
    for rule in scope["not_covered"].values():
        patterns += [rule["pattern"], rule.get("unless", "")]
    patterns += list(lexicon["intents"])
    for pattern in patterns:
        # Literal runs of words: what a pattern spells out between its regex syntax.
        for run in re.split(r"[\\()|?*+\[\]{}^$.]|\\b|\\w|\\s", pattern):
            texts.append((f"pattern {pattern[:40]!r}", run))
    return texts


def test_no_rule_copies_three_words_of_an_eval_question_or_its_evidence():
    spans = eval_trigrams()
    assert len(spans) > 1000  # the eval files were read
    copied = [
        (where, " ".join(span))
        for where, text in rule_texts()
        for part in text.split(" | ")
        for span in trigrams(part)
        if span in spans
    ]
    assert copied == [], copied


def test_the_check_catches_a_copied_phrase():
    spans = eval_trigrams()
    question = json.loads((ROOT / "eval" / "dev_realistic.jsonl").read_text().splitlines()[0])
    copied = " ".join(WORD.findall(question["question"].lower())[:4])
    assert trigrams(copied) & spans


def _spans(text: str, n: int) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_bank_question_copies_an_eval_question():
    """The question bank (corpus/training/bank.jsonl) was written from the pages alone; a short
    look-up can still come out word for word like an eval question, and is then left out, so
    the held-out figures do not credit the bank with a question it already holds. Seven words in
    a row in common count as the same question."""
    questions = [
        json.loads(line)["question"]
        for path in EVAL_FILES
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    whole = {" ".join(WORD.findall(q.lower())) for q in questions}
    seven = set().union(*(_spans(q, 7) for q in questions))
    bank = ROOT / "corpus" / "training" / "bank.jsonl"
    rows = [json.loads(line)["question"] for line in bank.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 500 and len(whole) > 500  # both files were read
    same = [q for q in rows if " ".join(WORD.findall(q.lower())) in whole]
    assert same == []
    shared = [q for q in rows if _spans(q, 7) & seven]
    assert shared == []
