"""The replicas phase of `python -m eval.bench --replicas N`: the load through nginx.

`python -m serving.replicas` with 1 and then N replicas; against each, the 32-user load of the
bench twice: gradio_client users calling /ask, and plain HTTP users calling POST /api/answer.
Then, with N replicas, both kinds of users at once for 15 s while one replica is killed
(SIGKILL) 5 s in: how many requests failed, how many were in flight, and how many of those
started after it were served. The users run in 4 processes (see _run_users).

Every user is its own client to nginx (X-Forwarded-For, trusted from loopback), and the rate
limit is raised for the run: this measures what the replicas can serve, not the limiter.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from eval.bench import USERS, _cpu_seconds
from eval.metrics import percentile
from eval.serving import free_port
from serving.replicas import Running, run_replicas

NO_LIMIT = ("--rate", "100000", "--burst", "100000")
LOAD_QUESTIONS_PER_USER = 25  # 800 requests a load: a few seconds are too noisy for a ratio
# The kill run lasts a fixed time, every user asking until it ends: with a fixed number of
# questions each, the /api/answer users (3x faster) were done before the kill.
KILL_RUN_SECONDS = 15.0
KILL_AFTER_SECONDS = 5.0
TIMEOUT = 60


def _client(n: int) -> str:
    return f"127.0.1.{n}"  # a label for nginx's rate limit and logs; nothing is sent there


def _gradio_user(url: str, n: int):
    """A gradio_client user, set up as eval.bench's (no CA bundle, no telemetry); returns
    ask(question) -> None, raising on any failure, and close()."""
    from gradio_client import Client

    client = Client(
        url,
        verbose=False,
        ssl_verify=False,
        analytics_enabled=False,
        headers={"X-Forwarded-For": _client(n)},
    )

    def ask(question: str) -> None:
        client.submit(question, api_name="/ask").result(timeout=TIMEOUT)

    return ask, client.close


def _api_user(url: str, n: int):
    """A plain HTTP user of POST /api/answer on one kept-alive connection."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    connection = [http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)]
    headers = {"Content-Type": "application/json", "X-Forwarded-For": _client(n)}

    def ask(question: str) -> None:
        try:
            body = json.dumps({"question": question})
            connection[0].request("POST", "/api/answer", body, headers)
            response = connection[0].getresponse()
            record = response.read()
        except (OSError, http.client.HTTPException):
            connection[0].close()  # a new connection for the next question
            connection[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
            raise
        if response.status != 200 or "answer" not in json.loads(record):
            raise RuntimeError(f"HTTP {response.status}")

    return ask, connection[0].close


USER_KINDS = {"gradio": _gradio_user, "api": _api_user}


CLIENT_PROCESSES = 4  # the users run in this many processes (see _run_users)


SETUP_TIMEOUT = 300  # seconds for every user to connect and ask its first question
RESULTS_TIMEOUT = 900  # seconds for a process's users to finish once started


def _users_process(url, users, texts, per_user, seconds, start, done, out) -> None:
    """One load-generator process: a thread per user (n, kind); each sets up (gradio_client
    fetches the app's config and gets its cookie) and asks one question, then all wait for
    the common start and ask `per_user` questions one after another, or for `seconds` when
    given. Puts (results as (kind, error or "", started, seconds), this process's CPU seconds
    over the load) on `out`, or None when a user could not be set up."""
    results: list[tuple[str, str, float, float]] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(users) + 1)
    go = threading.Event()
    began: list[float] = []
    first = 50 if seconds else per_user  # where each user starts in the question list

    def more(i: int) -> bool:
        return time.perf_counter() - began[0] < seconds if seconds else i < per_user

    def user(n: int, kind: str) -> None:
        try:
            ask, close = USER_KINDS[kind](url, n)
            ask(texts[n % len(texts)])  # warm up: connections, the session
            ready.wait(timeout=SETUP_TIMEOUT)
        except Exception:  # noqa: BLE001 - a user that cannot start stops the whole run
            ready.abort()
            return
        if not go.wait(timeout=SETUP_TIMEOUT) or not began:
            return
        i = 0
        while more(i):
            started = time.perf_counter()
            try:
                ask(texts[(n * first + i) % len(texts)])
                error = ""
            except Exception as failure:  # noqa: BLE001 - counted as an error, the load goes on
                error = f"{type(failure).__name__}: {failure}"[:200]
            with lock:
                results.append((kind, error, started, time.perf_counter() - started))
            with done.get_lock():
                done.value += 1
            i += 1
        close()

    threads = [threading.Thread(target=user, args=(n, kind), daemon=True) for n, kind in users]
    for thread in threads:
        thread.start()
    try:
        ready.wait(timeout=SETUP_TIMEOUT)  # every user of this process is set up
        start.wait(timeout=SETUP_TIMEOUT)  # ... and of every other process
    except threading.BrokenBarrierError:
        start.abort()
        go.set()  # without `began`, the users return
        out.put(None)
        return
    cpu = time.process_time()
    began.append(time.perf_counter())
    go.set()
    for thread in threads:
        thread.join()
    out.put((results, time.process_time() - cpu))


def _run_users(url: str, kinds: list[str], texts: list[str], per_user=0, seconds=0.0, during=None):
    """Users (kinds[n] is user n's kind) spread over CLIENT_PROCESSES processes: in one
    process, 32 users' gradio_client threads share one GIL and the load generator, not the
    replicas, sets the pace. Each asks `per_user` questions, or asks for `seconds`. All start
    together; `during(done)` runs beside them, done() counting the requests finished so far.
    Returns (results as (kind, error or "", started, seconds), seconds, the load generator's
    CPU seconds), counted from the common start (perf_counter is the system's monotonic
    clock, the same in every process). RuntimeError if a user could not be set up."""
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    start = context.Barrier(CLIENT_PROCESSES + 1)
    done = context.Value("i", 0)
    out = context.Queue()
    users = list(enumerate(kinds))
    processes = [
        context.Process(
            target=_users_process,
            args=(url, users[p::CLIENT_PROCESSES], texts, per_user, seconds, start, done, out),
            daemon=True,
        )
        for p in range(CLIENT_PROCESSES)
    ]
    watcher = None
    try:
        for process in processes:
            process.start()
        try:
            start.wait(timeout=SETUP_TIMEOUT)
        except threading.BrokenBarrierError:
            raise RuntimeError("a load-generator user could not connect to the app") from None
        started = time.perf_counter()
        if during is not None:
            watcher = threading.Thread(target=during, args=(lambda: done.value,), daemon=True)
            watcher.start()
        results: list[tuple[str, str, float, float]] = []
        client_cpu = 0.0
        for _ in processes:
            got = out.get(timeout=RESULTS_TIMEOUT)
            if got is None:
                raise RuntimeError("a load-generator user could not connect to the app")
            results += got[0]
            client_cpu += got[1]
        seconds_taken = max(s + t for _, _, s, t in results) - started
    finally:
        for process in processes:
            if process.is_alive():
                process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    if watcher is not None:
        watcher.join(timeout=5)
    return results, seconds_taken, client_cpu


def _server_cpu(running: Running) -> float:
    """CPU seconds of the replicas, nginx's master and its workers."""
    children = Path(f"/proc/{running.nginx_pid}/task/{running.nginx_pid}/children")
    workers = [int(pid) for pid in children.read_text().split()]
    return sum(_cpu_seconds(pid) for pid in [*running.replicas, running.nginx_pid, *workers])


def _load(running: Running, kind: str, texts: list[str]) -> dict:
    cpu: list[float] = []

    def measure(done) -> None:  # the servers' CPU over the load itself, set-up excluded
        cpu.append(_server_cpu(running))
        while done() < USERS * LOAD_QUESTIONS_PER_USER:
            time.sleep(0.005)
        cpu.append(_server_cpu(running))

    results, seconds, client_cpu = _run_users(
        running.url, [kind] * USERS, texts, LOAD_QUESTIONS_PER_USER, during=measure
    )
    server_cpu = cpu[1] - cpu[0]
    ok = [t * 1000 for _, error, _, t in results if not error]
    return {
        "requests": len(results),
        "errors": len(results) - len(ok),
        "p50_ms": percentile(ok, 50),
        "p95_ms": percentile(ok, 95),
        "requests_per_s": len(results) / seconds,
        "server_cpu_ms_per_request": server_cpu * 1000 / len(results),
        "client_cpu_ms_per_request": client_cpu * 1000 / len(results),
    }


def _kill_one_under_load(running: Running, texts: list[str]) -> dict:
    """Half gradio_client users, half /api/answer users, asking for KILL_RUN_SECONDS; SIGKILL
    to one replica KILL_AFTER_SECONDS in."""
    kinds = ["gradio", "api"] * (USERS // 2)
    killed_at: list[float] = []
    victim = next(iter(running.replicas))

    def kill(done) -> None:
        time.sleep(KILL_AFTER_SECONDS)
        os.kill(victim, signal.SIGKILL)
        killed_at.append(time.perf_counter())

    results, _, _ = _run_users(running.url, kinds, texts, seconds=KILL_RUN_SECONDS, during=kill)
    figures = {}
    for kind in ("gradio", "api"):
        mine = [(not error, start) for k, error, start, _ in results if k == kind]
        in_flight = [
            1 for k, _, start, t in results if k == kind and start < killed_at[0] <= start + t
        ]
        after = [good for good, start in mine if start >= killed_at[0]]
        errors = Counter(error for k, error, _, _ in results if k == kind and error)
        figures[f"kill_{kind}_error_kinds"] = dict(errors.most_common(3))
        figures[f"kill_{kind}_requests"] = len(mine)
        figures[f"kill_{kind}_errors"] = sum(not good for good, _ in mine)
        figures[f"kill_{kind}_in_flight_at_kill"] = len(in_flight)  # on either replica
        figures[f"kill_{kind}_started_after_kill"] = len(after)
        figures[f"kill_{kind}_served_after_kill"] = sum(after)
    return figures


def replicas_load(index_dir: Path, questions, replicas: int) -> dict:
    """Figures of the replicas phase, keyed replicas1_* and replicasN_*, plus the ratios of
    N replicas' throughput to one's and the kill run's counts."""
    texts = [q.question for q in questions]
    figures: dict = {}
    for count in sorted({1, replicas}):
        running = run_replicas(index_dir, count, free_port(), *NO_LIMIT, stderr=subprocess.DEVNULL)
        try:
            for kind in ("gradio", "api"):
                for key, value in _load(running, kind, texts).items():
                    figures[f"replicas{count}_{kind}_{key}"] = value
            if count == replicas > 1:
                figures.update(_kill_one_under_load(running, texts))
        finally:
            running.stop()
    for kind in ("gradio", "api"):
        one = figures[f"replicas1_{kind}_requests_per_s"]
        figures[f"replicas_ratio_{kind}_throughput"] = (
            figures[f"replicas{replicas}_{kind}_requests_per_s"] / one
        )
    return figures
