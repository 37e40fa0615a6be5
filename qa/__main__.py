"""`python -m qa ask "..."` and `python -m qa answer --input Q.jsonl --output A.jsonl`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from indexer.errors import GistIndexError, ModelUnavailable
from indexer.store import DEFAULT_INDEX_DIR
from qa.engine import QA, InvalidQuestion
from qa.present import format_text


def _ask(qa: QA, args) -> int:
    record = qa.answer(args.question, args.history or [])
    if args.json:
        print(json.dumps(record.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_text(record))
    return 0


def _answer_batch(qa: QA, args) -> int:
    """Answer every line in input order; a bad line becomes an error row, the rest still run."""
    failures = 0
    with (
        open(args.input, encoding="utf-8", errors="replace") as source,
        open(args.output, "w", encoding="utf-8") as out,
    ):
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            row_id = None
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise InvalidQuestion("each line must be a JSON object")
                row_id = row.get("id")
                if "question" not in row:
                    raise InvalidQuestion("missing 'question'")
                history = row.get("history") or []
                if not isinstance(history, list):
                    raise InvalidQuestion("'history' must be a list of earlier questions")
                record = qa.answer(row["question"], history).to_dict()
                out.write(json.dumps({"id": row_id, "question": row["question"], **record}) + "\n")
            except (ValueError, InvalidQuestion) as error:
                failures += 1
                print(f"{args.input}:{number}: {error}", file=sys.stderr)
                out.write(json.dumps({"id": row_id, "line": number, "error": str(error)}) + "\n")
    if failures:
        print(f"{failures} line(s) failed; the others were answered.", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa", description="Ask GIST Answers.")
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="index folder")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--history", nargs="*", help="earlier questions of the conversation")
    ask.add_argument("--json", action="store_true", help="print the answer record as JSON")
    batch = commands.add_parser("answer", help="answer a JSONL file of questions")
    batch.add_argument("--input", type=Path, required=True)
    batch.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        qa = QA.load(args.index)
    except (GistIndexError, ModelUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "ask":
        return _ask(qa, args)
    if not args.input.exists():
        print(f"error: no such file: {args.input}", file=sys.stderr)
        return 2
    return _answer_batch(qa, args)


if __name__ == "__main__":
    sys.exit(main())
