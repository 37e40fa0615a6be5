"""`python -m eval.feedback --db PATH`: what people said about the answers (app run with
`--feedback-db PATH`): counts, ratings by kind of reply, the worst-rated questions, comments.

The file is opened read-only; a missing file is an error, never created."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from collections import Counter, defaultdict
from pathlib import Path

from qa.feedback import DOWN, UP, read_rows


def _key(question: str) -> str:
    """Questions that differ only in case, spacing or end punctuation count as one."""
    return re.sub(r"\s+", " ", question.strip().lower()).rstrip("?.! ")


def summarise(rows: list[dict], top: int = 10) -> dict:
    """Counts, per-category ratings and the questions with the most thumbs down."""
    ratings = Counter(row["rating"] for row in rows)
    by_category: dict[str, Counter] = defaultdict(Counter)
    questions: dict[str, dict] = {}
    for row in rows:
        by_category[row["category"]][row["rating"]] += 1
        entry = questions.setdefault(
            _key(row["question"]),
            {"question": row["question"].strip(), UP: 0, DOWN: 0, "comments": []},
        )
        entry[row["rating"]] += 1
        if row["comment"].strip():
            entry["comments"].append(row["comment"].strip())
    worst = sorted(
        (q for q in questions.values() if q[DOWN]),
        key=lambda q: (-(q[DOWN] - q[UP]), -q[DOWN], q["question"]),
    )[:top]
    total = len(rows)
    return {
        "ratings": total,
        "up": ratings[UP],
        "down": ratings[DOWN],
        "share_down": round(ratings[DOWN] / total, 3) if total else 0.0,
        "with_comment": sum(1 for row in rows if row["comment"].strip()),
        "questions": len(questions),
        "first": rows[0]["time"] if rows else None,
        "last": rows[-1]["time"] if rows else None,
        "by_category": {k: {UP: v[UP], DOWN: v[DOWN]} for k, v in sorted(by_category.items())},
        "worst": worst,
    }


def render(summary: dict) -> str:
    if not summary["ratings"]:
        return "No ratings yet."
    lines = [
        f"{summary['ratings']} ratings of {summary['questions']} distinct questions "
        f"({summary['first']} to {summary['last']}): {summary['up']} up, {summary['down']} "
        f"down ({summary['share_down']:.0%} down), {summary['with_comment']} with a comment.",
        "",
        "By kind of reply:",
    ]
    for category, counts in summary["by_category"].items():
        lines.append(f"  {category:<16} up {counts[UP]:>4}   down {counts[DOWN]:>4}")
    lines += ["", "Worst-rated questions (down - up):"]
    if not summary["worst"]:
        lines.append("  none rated down")
    for entry in summary["worst"]:
        lines.append(f"  down {entry[DOWN]:>3}  up {entry[UP]:>3}  {entry['question']}")
        lines += [f"      comment: {comment}" for comment in entry["comments"][:3]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.feedback", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="the app's --feedback-db file")
    parser.add_argument("--top", type=int, default=10, help="how many worst questions to list")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        rows = read_rows(args.db)
    except (OSError, sqlite3.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = summarise(rows, args.top)
    print(json.dumps(summary, indent=2, ensure_ascii=False) if args.json else render(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
