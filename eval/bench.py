"""`python -m eval.bench`: measured speed and memory, with the bare floor in the same run.

Prints a table and writes bench.json: cold start, index build, per-question latency against
"embed the query + FAISS search", HTTP load on 127.0.0.1 with 32 concurrent users against the
app and against its Gradio floor (the same app with a ready answer), peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eval.dataset import load_questions
from eval.metrics import percentile
from eval.serving import start_app
from eval.soak import SOAK_REQUESTS, soak
from indexer.embed import embed
from indexer.store import DEFAULT_INDEX_DIR, ensure_index
from qa.engine import QA

# gradio_client pings Hugging Face when a Client starts unless both of these say no.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPORT = Path(__file__).resolve().parent / "bench"
USERS = 32
QUESTIONS_PER_USER = 10
COLD_START = """
import time, sys
from qa.engine import QA
qa = QA.load(sys.argv[1])
qa.answer("What are the side effects of imatinib?")
print("ready", flush=True)
"""


def _run_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def _until_ready(command: list[str]) -> float:
    """Seconds from starting a process to its 'ready' line (not counting its exit)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.strip() == "ready":
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"{command} ended without answering")
    process.wait()
    return elapsed


def cold_start(index_dir: Path, runs: int = 3) -> dict:
    """Process start to first answer (imports, index and model load), best and median of runs."""
    times = [_until_ready([sys.executable, "-c", COLD_START, str(index_dir)]) for _ in range(runs)]
    return {"cold_start_s_median": statistics.median(times), "cold_start_s_best": min(times)}


def build_time() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return _run_seconds([sys.executable, "-m", "indexer", "--index", f"{tmp}/i", "--quiet"])


def latency(qa: QA, questions, rounds: int = 3) -> dict:
    """Per-question latency of answering vs the floor: embed the query + FAISS search."""
    texts = [q.question for q in questions]
    answer_ms, floor_ms = [], []
    for _ in range(rounds):
        for question in questions:
            answer_ms.append(qa.answer(question.question, list(question.history)).latency_ms)
        for text in texts:
            started = time.perf_counter()
            vector = embed(qa.model, [text])
            qa.index.chunk_index.search(vector, 5)
            floor_ms.append((time.perf_counter() - started) * 1000)
    p50, floor = percentile(answer_ms, 50), percentile(floor_ms, 50)
    return {
        "latency_p50_ms": p50,
        "latency_p95_ms": percentile(answer_ms, 95),
        "floor_p50_ms": floor,
        "floor_p95_ms": percentile(floor_ms, 95),
        "ratio_p50_to_floor": p50 / floor if floor else None,
    }


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _closed_loop(user, app_pid: int) -> dict:
    """USERS threads, each asking QUESTIONS_PER_USER questions one after another."""
    user(0)  # warm up: connections, the app's first requests
    app_cpu, own_cpu = _cpu_seconds(app_pid), time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        results = [r for rs in pool.map(user, range(USERS)) for r in rs]
    wall = time.perf_counter() - started
    app_cpu, own_cpu = _cpu_seconds(app_pid) - app_cpu, time.process_time() - own_cpu
    ok = [t * 1000 for good, t in results if good]
    return {
        "http_requests": len(results),
        "http_errors": sum(1 for good, _ in results if not good),
        "http_p50_ms": percentile(ok, 50),
        "http_p95_ms": percentile(ok, 95),
        "http_requests_per_s": len(results) / wall,
        # Load generator and app share the machine's cores: where the CPU went.
        "http_app_cpu_ms_per_request": app_cpu * 1000 / len(results),
        "http_client_cpu_ms_per_request": own_cpu * 1000 / len(results),
    }


def _gradio_client(url: str):
    """A gradio_client user. The app is plain HTTP on loopback, so there is no certificate to
    verify: ssl_verify=False only stops httpx from loading the CA bundle for every call, which
    cost the load generator 70 ms of CPU per request (7 ms without) on the cores the app needs.
    Telemetry is off: nothing leaves the machine, the bench included."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False, analytics_enabled=False)


def _serve_under_load(index_dir: Path, texts: list[str], entry: tuple[str, ...]) -> dict:
    """Start a server, answer one question, then run the 32-user load against it."""
    launched = time.perf_counter()
    server, url = start_app(
        index_dir, entry=entry, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def user(n: int) -> list[tuple[bool, float]]:
        client, results = _gradio_client(url), []
        for i in range(QUESTIONS_PER_USER):
            question = texts[(n * QUESTIONS_PER_USER + i) % len(texts)]
            started = time.perf_counter()
            try:
                client.predict(question, api_name="/ask")
                results.append((True, time.perf_counter() - started))
            except Exception:  # noqa: BLE001 - counted as an error, the load goes on
                results.append((False, time.perf_counter() - started))
        client.close()
        return results

    try:
        _gradio_client(url).predict("What is embolization?", api_name="/ask")
        figures = {"app_start_to_first_answer_s": time.perf_counter() - launched}
        figures.update(_closed_loop(user, server.pid))
        figures["app_peak_rss_mb"] = _peak_rss_mb(server.pid)
        return figures
    finally:
        server.terminate()
        server.wait(timeout=30)


def http_load(index_dir: Path, questions) -> dict:
    """32 concurrent gradio_client users x 10 questions against the real app on 127.0.0.1,
    and the same load against its Gradio floor (eval/gradio_floor.py: the same app whose /ask
    returns a ready answer) in the same run: the ratio is the app's cost over the framework's."""
    texts = [q.question for q in questions]
    floor = _serve_under_load(index_dir, texts, ("-m", "eval.gradio_floor"))
    figures = _serve_under_load(index_dir, texts, ("app.py",))
    figures["http_floor_p50_ms"] = floor["http_p50_ms"]
    figures["http_floor_p95_ms"] = floor["http_p95_ms"]
    figures["http_floor_requests_per_s"] = floor["http_requests_per_s"]
    figures["http_floor_app_cpu_ms_per_request"] = floor["http_app_cpu_ms_per_request"]
    figures["ratio_http_p95_to_floor"] = figures["http_p95_ms"] / floor["http_p95_ms"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--skip-http", action="store_true", help="skip the HTTP load test")
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="also run the load through nginx against 1 and this many app replicas "
        "(eval/bench_replicas.py; needs nginx)",
    )
    parser.add_argument(
        "--soak-requests",
        type=int,
        default=SOAK_REQUESTS,
        help=f"plain HTTP calls in the soak phase (default {SOAK_REQUESTS}; 0 skips it)",
    )
    args = parser.parse_args(argv)
    ensure_index(args.index)
    questions = load_questions()
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "questions": len(questions),
    }
    print("Measuring index build, cold start, latency and HTTP load (one to three minutes)...")
    figures["index_build_s"] = build_time()
    figures.update(cold_start(args.index))
    # The load generator first, while this process is small: once the model is loaded here,
    # every garbage collection in the 32 client threads walks ~6x as many objects.
    if not args.skip_http:
        figures.update(http_load(args.index, questions))
    if args.replicas:
        from eval.bench_replicas import replicas_load

        print(f"Load through nginx against 1 and {args.replicas} replicas (one to two minutes)...")
        figures.update(replicas_load(args.index, questions, args.replicas))
    if args.soak_requests:
        print(f"Soak: {args.soak_requests} plain HTTP calls to one app (three to five minutes)...")
        figures.update(soak(args.index, [q.question for q in questions], args.soak_requests))
    figures.update(latency(QA.load(args.index), questions))
    args.report.mkdir(parents=True, exist_ok=True)
    (args.report / "bench.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        shown = f"{value:.2f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    print(f"\nWritten to {args.report}/bench.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
