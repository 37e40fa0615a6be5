"""Start the real app (`python app.py`) on a free local port, for the benchmark and tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(
    index_dir: Path,
    env: dict | None = None,
    timeout: float = 120,
    entry: tuple[str, ...] = ("app.py",),
    **popen,
):
    """Launch app.py (or another `entry` taking --port and --index) on 127.0.0.1 and wait until
    it accepts connections; returns (process, url).

    The caller terminates the process. Raises RuntimeError if it exits or never listens."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, *entry, "--port", str(port), "--index", str(index_dir)],
        cwd=ROOT,
        env=env,
        **popen,
    )
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/"
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the app did not start") from None
            time.sleep(0.3)
