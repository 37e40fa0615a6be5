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


TRAINING_FILES = {"bank.jsonl": "question", "safety.jsonl": "text", "scope.jsonl": "text"}


def test_no_training_message_copies_an_eval_question():
    """The training messages (corpus/training: the question bank, the safety and the scope
    sets) were written from the pages and from kinds of messages, never from an eval question.
    A short look-up can still come out word for word like one, and is then left out, so the
    held-out figures do not credit the product with a message it was trained on. Seven words
    in a row in common count as the same message."""
    questions = [
        json.loads(line)["question"]
        for path in EVAL_FILES
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    whole = {" ".join(WORD.findall(q.lower())) for q in questions}
    seven = set().union(*(_spans(q, 7) for q in questions))
    assert len(whole) > 500  # the eval files were read
    for name, field in TRAINING_FILES.items():
        path = ROOT / "corpus" / "training" / name
        rows = [json.loads(line)[field] for line in path.read_text(encoding="utf-8").splitlines()]
        assert len(rows) > 500, name  # the training file was read
        same = [q for q in rows if (words := " ".join(WORD.findall(q.lower()))) and words in whole]
        assert same == [], (name, same)
        shared = [q for q in rows if _spans(q, 7) & seven]
        assert shared == [], (name, shared)
