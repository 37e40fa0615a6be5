"""`python -m serving.replicas --replicas 2 --port 7860`: app replicas behind nginx.

Starts N `python app.py` replicas on free loopback ports, then nginx (serving/nginx.py) on
--host:--port in front of them, and watches them: a replica that stops is reported on stderr
while nginx sends its users to the others; Ctrl-C (SIGINT) or SIGTERM stops everything it
started. Each child also gets SIGTERM from the kernel if this process dies without cleaning up.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from eval.serving import free_port
from indexer.store import DEFAULT_INDEX_DIR, ensure_index
from serving.json_api import HEALTH_PATH
from serving.nginx import Limits, nginx_command, render_config

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180  # seconds for the replicas to load the index and serve (a cold machine)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _child(command: list[str], **popen) -> subprocess.Popen:
    # A session of its own: Ctrl-C reaches the supervisor only, which stops children in order.
    return subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_parent, **popen
    )


def healthy(url: str, timeout: float = 2) -> dict | None:
    """The /healthz record at `url`, or None while it does not answer."""
    try:
        with urllib.request.urlopen(url + HEALTH_PATH.lstrip("/"), timeout=timeout) as reply:
            return json.loads(reply.read())
    except (OSError, ValueError):
        return None


def _exit_text(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


@dataclass
class Replica:
    n: int
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


class Replicas:
    """N app replicas and the nginx in front of them; `stop()` ends them all."""

    def __init__(
        self, index_dir: Path, host: str, port: int, count: int, limits: Limits, app_args=()
    ):
        self.index_dir, self.host, self.port, self.count = index_dir, host, port, count
        self.limits, self.app_args = limits, list(app_args)
        self.replicas: list[Replica] = []
        self.nginx: subprocess.Popen | None = None
        self.prefix = Path(tempfile.mkdtemp(prefix="gist-nginx-"))
        self.reported: set[int] = set()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Start the replicas side by side, wait until each answers /healthz, then nginx."""
        try:  # before the replicas' seconds of start-up, not as nginx's last word
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            with socket.socket(family) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx binds
                probe.bind((self.host, self.port))
        except OSError as error:
            raise RuntimeError(
                f"cannot serve on {self.host}:{self.port} ({error.strerror}); use another port: "
                f"make serve PORT={self.port + 1}"
            ) from None
        ports: set[int] = set()
        while len(ports) < self.count:
            ports |= {free_port()} - {self.port}
        for n, port in enumerate(sorted(ports), 1):
            command = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)]
            command += ["--index", str(self.index_dir), *self.app_args]
            # A replica's own "ready at" line names its private port: not for users.
            process = _child(command, stdout=subprocess.DEVNULL)
            self.replicas.append(Replica(n, port, process))
        deadline = time.time() + START_TIMEOUT
        for replica in self.replicas:
            self._wait(replica.url, replica.process, f"replica {replica.n}", deadline)
        config = render_config(self.prefix, self.host, self.port, sorted(ports), self.limits)
        self.nginx = _child(nginx_command(self.prefix, config))
        self._wait(self.url, self.nginx, "nginx", deadline)

    @staticmethod
    def _wait(url: str, process: subprocess.Popen, name: str, deadline: float) -> None:
        while not healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"{name} stopped at start ({_exit_text(process.returncode)})")
            if time.time() > deadline:
                raise RuntimeError(f"{name} did not answer {url} within {START_TIMEOUT} s")
            time.sleep(0.2)

    def check(self) -> bool:
        """Report replicas that stopped since the last check; False when nothing can serve."""
        for replica in self.replicas:
            code = replica.process.poll()
            if code is not None and replica.n not in self.reported:
                self.reported.add(replica.n)
                alive = self.count - len(self.reported)
                print(
                    f"replica {replica.n} (port {replica.port}, pid {replica.process.pid}) "
                    f"stopped: {_exit_text(code)}; {alive} of {self.count} still serving",
                    file=sys.stderr,
                    flush=True,
                )
        if self.nginx is not None and self.nginx.poll() is not None:
            print(f"nginx stopped: {_exit_text(self.nginx.returncode)}", file=sys.stderr)
            return False
        return len(self.reported) < self.count

    def stop(self) -> None:
        """SIGTERM to nginx and every replica, SIGKILL to any still running after 10 s."""
        children = [p for p in [self.nginx, *(r.process for r in self.replicas)] if p]
        for process in children:
            if process.poll() is None:
                process.terminate()
        for process in children:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)


@dataclass
class Running:
    """A `python -m serving.replicas` started by `run_replicas` (for the tests and the bench)."""

    process: subprocess.Popen
    url: str
    port: int
    replicas: dict[int, int]  # pid -> port
    nginx_pid: int
    prefix: Path

    def stop(self) -> int:
        """Ctrl-C, as a user would; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def run_replicas(index_dir: Path, count: int, port: int, *options: str, **popen) -> Running:
    """Start `python -m serving.replicas` and wait for its ready line; RuntimeError if it
    stops first (its stderr, wherever `popen` sends it, says why)."""
    command = [sys.executable, "-m", "serving.replicas", "--replicas", str(count)]
    command += ["--port", str(port), "--index", str(index_dir), *options]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, **popen)
    replicas, nginx = {}, None
    for line in process.stdout:  # the supervisor bounds its own start-up time
        if found := re.match(r"replica \d+: http://127.0.0.1:(\d+)/ \(pid (\d+)\)", line):
            replicas[int(found[2])] = int(found[1])
        elif found := re.match(r"nginx: pid (\d+), files in (\S+)", line):
            nginx = int(found[1]), Path(found[2])
        elif found := re.match(r"GIST Answers is ready at (\S+)", line):
            return Running(process, found[1], port, replicas, *nginx)
    code = process.wait()
    raise RuntimeError(f"python -m serving.replicas stopped at start (exit code {code})")


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m serving.replicas", description=__doc__)
    parser.add_argument("--replicas", type=int, default=2, help="app processes (default 2)")
    parser.add_argument("--host", default="127.0.0.1", help="nginx's address (default: local)")
    parser.add_argument("--port", type=int, default=7860, help="nginx's port (default 7860)")
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    limits = Limits()
    parser.add_argument(
        "--rate",
        type=int,
        default=limits.rate,
        help="answers per second per client (default %(default)s)",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=limits.burst,
        help="answers at once above the rate (default %(default)s)",
    )
    parser.add_argument(
        "app_args", nargs="*", metavar="-- APP_OPTION", help="more options for every app.py"
    )
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Ctrl-C and SIGTERM stop everything, at start-up too; SIGINT explicitly, since a shell
    # starts background jobs with it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    limits = Limits(args.rate, args.burst)
    replicas = Replicas(args.index, args.host, args.port, args.replicas, limits, args.app_args)
    try:
        ensure_index(args.index)  # built here once if needed, not by every replica at once
        replicas.start()
        for replica in replicas.replicas:
            print(f"replica {replica.n}: {replica.url} (pid {replica.process.pid})")
        print(f"nginx: pid {replicas.nginx.pid}, files in {replicas.prefix}")
        print(f"GIST Answers is ready at {replicas.url} ({args.replicas} replicas behind nginx)")
        sys.stdout.flush()
        while replicas.check():
            time.sleep(0.5)
        print("error: nothing left to serve; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C does not cut the clean-up
        replicas.stop()


if __name__ == "__main__":
    sys.exit(main())
