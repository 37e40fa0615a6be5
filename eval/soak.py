"""The soak phase of `python -m eval.bench`: many plain HTTP calls to one long-running app.

A real deployment serves for days. This starts `python app.py`, sends SOAK_REQUESTS calls to
/ask over plain HTTP (POST /gradio_api/call/ask, then its result stream) from a few threads,
and compares throughput and resident memory over the first and the last WINDOW requests.
"""

from __future__ import annotations

import http.client
import itertools
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from eval.serving import start_app

SOAK_REQUESTS = 12_000
WINDOW = 2_000
THREADS = 8


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ask(connection: http.client.HTTPConnection, question: str) -> bool:
    """One /ask call the way a plain HTTP integrator makes it: start the event, read its result."""
    body = json.dumps({"data": [question, None]})  # /ask takes (question, history)
    connection.request("POST", "/gradio_api/call/ask", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    started = json.loads(response.read())
    connection.request("GET", f"/gradio_api/call/ask/{started['event_id']}")
    response = connection.getresponse()
    return response.status == 200 and b"event: complete" in response.read()


def soak(index_dir: Path, texts: list[str], requests: int = SOAK_REQUESTS) -> dict:
    server, url = start_app(index_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = urlparse(url)
    counter, lock = itertools.count(), threading.Lock()
    finished: list[float] = []
    errors = [0]
    memory: list[tuple[int, float]] = []  # (requests finished, resident MB)
    done = threading.Event()

    def user(_: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        while True:
            with lock:
                n = next(counter)
            if n >= requests:
                break
            try:
                good = _ask(connection, texts[n % len(texts)])
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                good = False
                connection.close()
                connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
            with lock:
                finished.append(time.perf_counter())
                errors[0] += not good
        connection.close()

    def watch() -> None:
        while not done.wait(0.5):
            memory.append((len(finished), _rss_mb(server.pid)))

    try:
        monitor = threading.Thread(target=watch, daemon=True)
        monitor.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            list(pool.map(user, range(THREADS)))
        seconds = time.perf_counter() - started
        done.set()
        monitor.join()
        end_rss = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    finished.sort()
    first = WINDOW / (finished[WINDOW - 1] - started)
    last = WINDOW / (finished[-1] - finished[-WINDOW - 1])
    rss_first = next((mb for n, mb in memory if n >= WINDOW), end_rss)
    return {
        "soak_requests": len(finished),
        "soak_errors": errors[0],
        "soak_seconds": seconds,
        "soak_first_requests_per_s": first,
        "soak_last_requests_per_s": last,
        "soak_ratio_last_to_first": last / first,
        "soak_rss_after_first_mb": rss_first,
        "soak_rss_end_mb": end_rss,
    }
