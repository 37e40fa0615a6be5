"""Keep per-request work flat in long service: forget Gradio's finished plain-HTTP sessions.

Gradio 6.31 leaves an empty set in `Queue.pending_event_ids_session` for every session whose
events have all been delivered, and its `/call/<api>/<event_id>` result route scans that whole
dict to find an event's session. Every plain HTTP call to /ask is a session of its own, so the
scan grew with every request ever served: 1,800 entries after 1,800 calls, and the soak's
last 2,000 requests ran at 0.92x the first. This middleware drops the empty entries every
PRUNE_EVERY requests. It runs on the server's event loop, between requests, so never during
that scan; a session that sends another event gets its entry back from Gradio itself.
"""

from __future__ import annotations

PRUNE_EVERY = 100


class ForgetFinishedSessions:
    """ASGI middleware around the Gradio app; `blocks` is the served gr.Blocks."""

    def __init__(self, app, blocks):
        self.app = app
        self.blocks = blocks
        self.requests = 0

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.requests += 1
            if self.requests % PRUNE_EVERY == 0:
                forget_finished_sessions(self.blocks)


def forget_finished_sessions(blocks) -> int:
    """Drop the sessions with no pending event; returns how many were dropped."""
    pending = getattr(getattr(blocks, "_queue", None), "pending_event_ids_session", None)
    if not isinstance(pending, dict):
        return 0  # another Gradio version: nothing of this shape to tidy
    finished = [session for session, ids in pending.items() if not ids]
    for session in finished:
        pending.pop(session, None)
    return len(finished)


def steady_middleware(blocks) -> list:
    """For launch(): FastAPI's `middleware` argument."""
    from starlette.middleware import Middleware

    return [Middleware(ForgetFinishedSessions, blocks=blocks)]
