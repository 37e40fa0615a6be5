"""GIST Answers chat app: `python app.py [--host 127.0.0.1] [--port 7860] [--index DIR]`."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

# Privacy: no usage analytics, set before Gradio is imported (and again on the Blocks below).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# Gradio 6 otherwise saves every question and answer in the browser ("run history", listed at
# /gradio_api/runs): on a shared computer the next person could read them.
os.environ["GRADIO_RUN_HISTORY"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Steady state in long service (issue 16). Gradio's queue keeps the last
# GRADIO_ANALYTICS_MAX_EVENTS events (default 10,000) and, after every event, copies them all
# and summarises them in a pandas DataFrame for its monitoring page, which this app does not
# serve: after 12,000 requests that was 43% of the CPU and throughput fell from 63 to 41
# req/s. Keep a few recent events and summarise them rarely. Set in code, not taken from the
# user's environment, before Gradio reads them (when the queue is created).
os.environ["GRADIO_ANALYTICS_MAX_EVENTS"] = "100"
os.environ["GRADIO_ANALYTICS_CACHE_FREQUENCY"] = "100000"
# One BLAS thread per matrix product, set before numpy is imported. The server answers many
# questions at once on its own threads; OpenBLAS's threads for each product (the question bank
# is a 2,000 x 384 product) spun against them: 32 users, 27 ms of CPU per request instead of
# 5, and 71 instead of 282 requests/s through nginx. A user's own setting is kept.
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")

from indexer.store import DEFAULT_INDEX_DIR, ensure_index  # noqa: E402
from qa.batching import BatchingEncoder  # noqa: E402
from qa.engine import QA  # noqa: E402
from qa.page_meta import page_middleware  # noqa: E402
from qa.ui import build_chat  # noqa: E402
from serving.steady import steady_middleware  # noqa: E402

if TYPE_CHECKING:
    import gradio as gr

# Questions answered at once. Their query vectors are embedded together (qa/batching.py), so
# more at once is cheaper per question: 32 users on 2 cores, 4 -> 16: 40 -> 46 requests/s.
CONCURRENCY = 16
QUEUE_SIZE = 64
# Gradio's default ("auto") sends every waiting user a new queue estimate each time any answer
# starts: with 30 waiting, 30 messages per answer. Once a second is enough for a progress line,
# and frees the server's one event loop (32 users: p95 1.03 -> 0.81 s, 4 ms less CPU each).
STATUS_UPDATE_SECONDS = 1.0
# Sessions whose state (the conversation's earlier questions) is kept. Gradio evicts the least
# recently used, so an active conversation keeps its follow-ups; every HTTP call to /ask is a
# session of its own, and 10,000 of them (the default) held ~250 MB.
STATE_SESSIONS = 1000
CSS = (Path(__file__).resolve().parent / "qa" / "app.css").read_text(encoding="utf-8")


def build_app(qa: QA, feedback_db: Path | None = None) -> gr.Blocks:
    """The chat UI (qa/ui.py) and the /ask API around one shared, read-only QA object; with
    `feedback_db`, answers can be rated and the ratings are stored there (qa/feedback.py)."""
    import gradio as gr

    def ask(question: str, history: list[str] | None = None) -> dict:
        """Answer one question, with the conversation's earlier questions if any; returns the
        answer record (Contract 3) as JSON."""
        if not isinstance(question, str):
            question = ""
        history = [h for h in history if isinstance(h, str)] if isinstance(history, list) else []
        return qa.answer(question, history).to_dict()

    demo = build_chat(qa, feedback_db)
    with demo:
        gr.api(ask, api_name="ask")
    return demo


def enable_queue(demo: gr.Blocks) -> gr.Blocks:
    """The serving settings above, for the app and for tests that serve it."""
    return demo.queue(
        default_concurrency_limit=CONCURRENCY,
        max_size=QUEUE_SIZE,
        status_update_rate=STATUS_UPDATE_SECONDS,
    )


def launch(demo: gr.Blocks, host: str, port: int, routes: list | None = None) -> None:
    """Start serving in the background (no share link, errors not shown to users). `routes`
    (Starlette routes, e.g. POST /api/answer) are served beside Gradio's and matched first."""
    import gradio as gr

    demo.launch(
        app_kwargs={
            "routes": list(routes or []),
            "middleware": page_middleware() + steady_middleware(demo),
        },
        server_name=host,
        server_port=port,
        share=False,
        show_error=False,
        footer_links=[],  # no developer links for patients; the README documents the API
        css=CSS,
        theme=gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"]),
        prevent_thread_lock=True,
        quiet=True,  # Gradio's banner suggests a public share link; main() prints the address
        state_session_capacity=STATE_SESSIONS,
    )


def load_qa(index_dir: Path) -> QA:
    """The shared QA object; concurrent users' questions are embedded in shared passes."""
    index = ensure_index(index_dir)
    return QA(index, model=BatchingEncoder(index.question_model()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: local only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument(
        "--feedback-db", type=Path, help="store ratings of answers in this SQLite file (opt-in)"
    )
    args = parser.parse_args(argv)
    # Loading the model and importing Gradio take seconds each: do them side by side.
    with ThreadPoolExecutor(max_workers=1) as pool:
        loading = pool.submit(load_qa, args.index)
        import gradio  # noqa: F401

        qa = loading.result()
    # Questions are embedded by onnxruntime on one thread. If PyTorch is in use instead (an
    # index without the ONNX copy, or one just built here), one thread for it too: under load
    # the other core runs Gradio, and a second OpenMP thread only spins against it
    # (32 users on 2 cores: same latency, 18 vs 29 ms of app CPU per request).
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    demo = build_app(qa, args.feedback_db)
    enable_queue(demo)
    from serving.json_api import http_routes

    try:
        launch(demo, args.host, args.port, http_routes(qa))
    except OSError as error:
        print(
            f"error: cannot serve on {args.host}:{args.port} ({error}). "
            f"Is GIST Answers already running? Use another port: python app.py --port "
            f"{args.port + 1}  (or: make run PORT={args.port + 1})",
            file=sys.stderr,
        )
        return 2
    print(f"GIST Answers is ready at http://{args.host}:{args.port}", flush=True)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
