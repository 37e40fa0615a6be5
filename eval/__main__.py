"""`python -m eval`: answer every eval question, compare with baselines, write the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from eval.baselines import run_bm25, run_dense
from eval.dataset import DEFAULT_QUESTIONS, QuestionFileError, load_questions, source_text
from eval.metrics import per_page_hit3, summarise
from eval.report import summary_table, write_report
from indexer.errors import GistIndexError
from indexer.store import DEFAULT_INDEX_DIR, ensure_index
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
# Measured on eval/questions.jsonl (187 questions): hit@1 0.913, hit@3 0.973, MRR 0.942,
# facts 0.919. The retrieval and fact gates are issue 3's targets; hit@3 0.973 is 145/149,
# so one more question lost fails CI.
PRODUCT_GATE = {
    "min_hit1": 0.90, "min_hit3": 0.97, "min_mrr": 0.93, "min_facts": 0.90,
    "min_grounding": 1.0, "min_citation_precision": 1.0, "min_refusal": 0.95,
    "max_false_refusal": 0.02, "min_emergency": 1.0,
}  # fmt: skip


def run(qa: QA, questions, progress: bool = True) -> list[dict]:
    """Answer each question through qa (index already loaded), in order."""
    records = []
    for question in tqdm(questions, desc="Answering", unit="q", disable=not progress):
        records.append(qa.answer(question.question, list(question.history)).to_dict())
    return records


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
    try:
        # The shipped set must be clean (a test checks); another file's bad lines are skipped.
        questions = load_questions(args.questions, strict=args.strict)
        if not args.no_build_index:
            ensure_index(args.index)  # from a fresh clone the harness just runs
        qa = QA.load(args.index)
    except (QuestionFileError, GistIndexError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    source = source_text()
    metrics, rows = summarise(questions, run(qa, questions), source)
    baselines, per_page = {}, {"ours": per_page_hit3(questions, rows)}
    if not args.no_baselines:
        for name, records in (
            ("dense-only", run_dense(qa.model, questions)),
            ("bm25-only", run_bm25(questions)),
        ):
            baselines[name], base_rows = summarise(questions, records, source)
            per_page[name] = per_page_hit3(questions, base_rows)
    write_report(args.report, metrics, baselines, per_page, rows, args.questions)
    print(summary_table(metrics, baselines))
    print(f"\nReport: {args.report}/report.md, report.json, per_page_hit3.png, latency_hist.png")
    thresholds = dict(PRODUCT_GATE) if args.gate else {}
    thresholds.update({k: getattr(args, k) for k in GATES if getattr(args, k) is not None})
    failures = failed_gates(metrics, thresholds)
    for failure in failures:
        print(f"GATE FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
