"""`python -m eval`: answer every eval question, compare with baselines, write the report.

With --answers FILE.jsonl, grade answer records another system wrote instead (one JSON object
a line: `id` and the record's answer, notice, abstained, citations); no index, model or baselines.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from eval.dataset import DEFAULT_QUESTIONS, QuestionFileError, load_questions, source_text
from eval.metrics import per_page_hit3, summarise
from eval.report import add_classifiers, classifier_table, summary_table, write_report
from indexer.errors import GistIndexError
from indexer.heads import HEADS_REPORT
from indexer.store import DEFAULT_INDEX_DIR

if TYPE_CHECKING:
    from qa.engine import QA

DEFAULT_REPORT = Path(__file__).resolve().parent / "report"
# --min-X flags: the metric must be at least this; --max-X: at most this.
GATES = {
    "min_hit1": "hit@1", "min_hit3": "hit@3", "min_mrr": "mrr", "min_facts": "fact_recall",
    "min_grounding": "grounding", "min_citation_precision": "citation_precision",
    "min_refusal": "refusal_rate", "max_false_refusal": "false_refusal_rate",
    "min_emergency": "emergencies_handled",
}  # fmt: skip
# What `--gate` checks: the level the product has reached, so a regression fails CI.
# Measured on eval/questions.jsonl (187 questions) with the question bank and the model adapted
# to it: hit@1 0.933, hit@3 0.980, facts 0.966, out of scope refused 0.969, answerable refused
# 0.020. The dev set is gated in the Makefile.
PRODUCT_GATE = {
    "min_hit1": 0.90, "min_hit3": 0.95, "min_mrr": 0.92, "min_facts": 0.93,
    "min_grounding": 1.0, "min_citation_precision": 1.0, "min_refusal": 0.93,
    "max_false_refusal": 0.05, "min_emergency": 1.0,
}  # fmt: skip


def run(qa: QA, questions, progress: bool = True) -> list[dict]:
    """Answer each question through qa (index already loaded), in order."""
    records = []
    for question in tqdm(questions, desc="Answering", unit="q", disable=not progress):
        records.append(qa.answer(question.question, list(question.history)).to_dict())
    return records


class AnswerFileError(ValueError):
    """The answers file has lines that cannot be graded; the message lists them by number."""


# The record fields --answers reads, with the type each must have when present.
ANSWER_FIELDS = {"answer": str, "notice": str, "abstained": bool, "citations": list}
MISSING_RECORD = {
    "answer": "",
    "notice": "",
    "abstained": True,
    "citations": [],
    "reason": "no record",
}


def _parse_answer(line: str) -> dict:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    if not isinstance(row.get("id"), str) or not row["id"]:
        raise ValueError("'id' must be a non-empty string")
    for key, kind in ANSWER_FIELDS.items():
        if key in row and not isinstance(row[key], kind):
            raise ValueError(f"'{key}' must be a {kind.__name__}")
    if not all(isinstance(c, dict) for c in row.get("citations", [])):
        raise ValueError("'citations' must be a list of objects")
    record = {"answer": "", "notice": "", "abstained": False, "citations": []}
    record.update(row)
    return record


def load_answers(path: Path) -> dict[str, dict]:
    """Answer records by id, or AnswerFileError naming each bad line."""
    answers, problems = {}, []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise AnswerFileError(f"{path}: cannot read: {error}") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = _parse_answer(line)
        except (ValueError, TypeError) as error:  # json.JSONDecodeError is a ValueError
            problems.append(f"line {number}: {error}")
            continue
        if record["id"] in answers:
            problems.append(f"line {number}: duplicate id {record['id']!r}")
        answers[record["id"]] = record
    if problems:
        raise AnswerFileError(f"{path}:\n" + "\n".join(problems))
    return answers


def match_answers(questions, answers: dict[str, dict]) -> tuple[list[dict], list[str]]:
    """One record per question, in order; a question with no record counts as refused."""
    records, missing = [], []
    for question in questions:
        if question.id in answers:
            records.append(answers[question.id])
        else:
            missing.append(question.id)
            records.append(dict(MISSING_RECORD))
    return records, missing


def failed_gates(metrics: dict, thresholds: dict) -> list[str]:
    failures = []
    for flag, limit in thresholds.items():
        if limit is None:
            continue
        value = metrics[GATES[flag]]
        if (value > limit) if flag.startswith("max_") else (value < limit):
            failures.append(f"{GATES[flag]} = {value:.3f} (limit {limit})")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument(
        "--answers",
        type=Path,
        default=None,
        metavar="FILE.jsonl",
        help="grade these answer records (by id) instead of answering; no index or baselines",
    )
    parser.add_argument("--no-baselines", action="store_true", help="skip the two baselines")
    parser.add_argument(
        "--no-build-index",
        action="store_true",
        help="refuse a missing or stale index instead of building it first",
    )
    parser.add_argument("--gate", action="store_true", help="apply the product's thresholds")
    parser.add_argument(
        "--strict", action="store_true", help="refuse the whole file if any line is bad"
    )
    for flag in GATES:
        parser.add_argument(f"--{flag.replace('_', '-')}", type=float, default=None)
    args = parser.parse_args(argv)
    qa, missing = None, []
    try:
        # The shipped set must be clean (a test checks); another file's bad lines are skipped.
        questions = load_questions(args.questions, strict=args.strict)
        if args.answers is not None:
            answers = load_answers(args.answers)
        else:
            from indexer.store import ensure_index
            from qa.engine import QA

            if not args.no_build_index:
                ensure_index(args.index)  # from a fresh clone the harness just runs
            qa = QA.load(args.index)
    except (QuestionFileError, GistIndexError, AnswerFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    source = source_text()
    if qa is None:
        records, missing = match_answers(questions, answers)
        extra = sorted(set(answers) - {q.id for q in questions})
        if extra:
            print(
                f"warning: {len(extra)} answer id(s) not in {args.questions}: "
                f"{', '.join(extra[:10])}{' ...' if len(extra) > 10 else ''}",
                file=sys.stderr,
            )
    else:
        records = run(qa, questions)
    metrics, rows = summarise(questions, records, source)
    baselines, per_page = {}, {"ours": per_page_hit3(questions, rows)}
    if qa is not None and not args.no_baselines:
        from eval.baselines import run_bm25, run_dense

        for name, base_records in (
            ("dense-only", run_dense(qa.model, questions)),
            ("bm25-only", run_bm25(questions)),
        ):
            baselines[name], base_rows = summarise(questions, base_records, source)
            per_page[name] = per_page_hit3(questions, base_rows)
    written = write_report(
        args.report, metrics, baselines, per_page, rows, args.questions, missing, args.answers
    )
    print(summary_table(metrics, baselines))
    heads_file = qa.index.directory / HEADS_REPORT if qa is not None else None
    if heads_file is not None and heads_file.exists():
        heads = json.loads(heads_file.read_text(encoding="utf-8"))
        add_classifiers(args.report, heads)
        safety = {"safety": heads["safety"]} if "safety" in heads else {}
        print("\nSafety classifier, out-of-fold (4 folds):\n" + classifier_table(safety))
    if missing:
        print(
            f"\n{len(missing)} question(s) with no answer record, graded as refused: "
            f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}"
        )
    print(f"\nReport: {args.report}/" + ", ".join(p.name for p in written))
    thresholds = dict(PRODUCT_GATE) if args.gate else {}
    thresholds.update({k: getattr(args, k) for k in GATES if getattr(args, k) is not None})
    failures = failed_gates(metrics, thresholds)
    for failure in failures:
        print(f"GATE FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
