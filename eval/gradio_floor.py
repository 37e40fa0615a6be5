"""The 32-user load's baseline: `python -m eval.gradio_floor --port N --index DIR`.

The app exactly as `python app.py` serves it (the same Blocks, queue and launch settings), except
that /ask returns one answer record worked out at start instead of answering each question.
What the load measures against this is Gradio's own cost per request on this machine, so the
bench can say how much of the app's latency is answering and how much is the framework.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import app
from indexer.store import DEFAULT_INDEX_DIR
from qa.engine import QA


class OneAnswer:
    """Stands in for QA: the same record, whatever is asked (a baseline, never served to users)."""

    def __init__(self, record):
        self.record = record

    def answer(self, question, history=None):
        return self.record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.gradio_floor", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    args = parser.parse_args(argv)
    record = QA.load(args.index).answer("What is embolization?")
    demo = app.enable_queue(app.build_app(OneAnswer(record)))
    app.launch(demo, "127.0.0.1", args.port)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
