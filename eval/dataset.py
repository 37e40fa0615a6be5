"""The eval question file: load it and check every line, reporting bad ones by number."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from indexer.sources import load_sources
from indexer.text import clean_markup, fold

DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
PAGE_SLUGS = tuple(p["slug"] for p in load_sources().pages)


class QuestionFileError(ValueError):
    """The question file has lines that cannot be used; the message lists them by number."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    pages: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    must_include: tuple[tuple[str, ...], ...] = ()
    history: tuple[str, ...] = ()
    emergency: bool = False
    kind: str = ""  # an emergency's kind (medical, self_harm), or a safety set's calm/anxious
    personal_advice: bool = False  # asks the product to decide for one person
    group: str = ""  # paraphrases of one question share it
    persona: str = ""


def source_text() -> str:
    """The whole corpus with markup removed and folded: what 'in the source' means."""
    raw = load_sources().read_text()
    return fold(" ".join(clean_markup(line) for line in raw.splitlines()))


def _parse(line: str, source: str) -> Question:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    for key, kind in (("id", str), ("question", str), ("answerable", bool)):
        if not isinstance(row.get(key), kind):
            raise ValueError(f"'{key}' must be a {kind.__name__}")
    pages = tuple(row.get("pages", []))
    unknown = [p for p in pages if p not in PAGE_SLUGS]
    if unknown:
        raise ValueError(f"unknown page slug(s) {unknown}; use one of {list(PAGE_SLUGS)}")
    evidence = tuple(clean_markup(e) for e in row.get("evidence", []))
    missing = [e for e in evidence if fold(e) not in source]
    if missing:
        raise ValueError(f"evidence not found in the source: {missing}")
    if row["answerable"] and not evidence:
        raise ValueError("an answerable question needs at least one evidence phrase")
    groups = tuple(tuple(g) for g in row.get("must_include", []))
    if any(not g or not all(isinstance(t, str) for t in g) for g in groups):
        raise ValueError("'must_include' must be a list of non-empty lists of strings")
    history = tuple(row.get("history", []))
    if not all(isinstance(h, str) for h in history):
        raise ValueError("'history' must be a list of strings")
    return Question(
        id=row["id"],
        question=row["question"],
        answerable=row["answerable"],
        pages=pages,
        evidence=evidence,
        must_include=groups,
        history=history,
        emergency=bool(row.get("emergency", False)),
        kind=str(row.get("kind", "")),
        personal_advice=bool(row.get("personal_advice", False)),
        group=str(row.get("group", "")),
        persona=str(row.get("persona", "")),
    )


def load_questions(path: Path = DEFAULT_QUESTIONS, strict: bool = True) -> list[Question]:
    """Every question of the file, or QuestionFileError naming each bad line. Not strict: the
    bad lines are reported on stderr and left out, so one typo does not void a whole run."""
    source = source_text()
    questions, problems, seen = [], [], set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            question = _parse(line, source)
        except (ValueError, TypeError) as error:
            problems.append(f"line {number}: {error}")
            continue
        if question.id in seen:
            problems.append(f"line {number}: duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if problems and strict:
        raise QuestionFileError(f"{path}:\n" + "\n".join(problems))
    for problem in problems:
        print(f"warning: {path}: {problem} (left out)", file=sys.stderr)
    return questions


def plain_source() -> str:
    """The whole corpus with markup removed, line by line and not folded: for reading grades."""
    return "\n".join(clean_markup(line) for line in load_sources().read_text().splitlines())
