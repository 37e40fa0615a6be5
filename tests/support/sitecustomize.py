"""Test-only audit hook: records every network connection a Python process attempts.

Loaded by putting this folder on PYTHONPATH; writes one line per connect/getaddrinfo to the
file named by GIST_NET_AUDIT.
"""

import os
import sys

_log = os.environ.get("GIST_NET_AUDIT")


def _audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo") and _log:
        with open(_log, "a") as out:
            out.write(f"{event} {args[1] if event == 'socket.connect' else args[0]!r}\n")


if _log:
    sys.addaudithook(_audit)
