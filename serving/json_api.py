"""`POST /api/answer` (Contract 5) and `GET /healthz`, added to the app's own HTTP server.

/api/answer takes `{"question": str, "history": [str, ...]}` and returns the Contract 3 record,
the same one the Gradio `/ask` endpoint returns. It keeps nothing between calls, so a load
balancer may send each call to any replica. A malformed body or wrong types get 400 with
`{"error": ...}`; a body over 64 KB gets 413 before it is parsed.
"""

from __future__ import annotations

import json
import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MAX_BODY_BYTES = 64 * 1024
ANSWER_PATH = "/api/answer"
HEALTH_PATH = "/healthz"


class BadRequest(Exception):
    """The body is not what /api/answer takes; the message says what to send instead."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused as soon as it is known to be over `limit` bytes (by its
    Content-Length, or while it streams in without one), so a huge body is never held."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"the body is over {limit // 1024} KB", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(f"the body is over {limit // 1024} KB", 413)
    return bytes(body)


def parse_question(body: bytes) -> tuple[str, list[str]]:
    """(question, history) from a JSON body, or BadRequest naming what is wrong."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON or UTF-8; or nested thousands deep
        raise BadRequest('the body must be JSON: {"question": "...", "history": [...]}') from None
    if not isinstance(payload, dict):
        raise BadRequest('the body must be a JSON object: {"question": "..."}')
    question = payload.get("question")
    if not isinstance(question, str):
        raise BadRequest('"question" must be a string')
    history = payload.get("history")
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise BadRequest('"history" must be a list of earlier questions (strings)')
    return question, history


def answer_route(qa) -> Route:
    """POST /api/answer over a shared, read-only QA object."""

    async def answer(request: Request) -> JSONResponse:
        try:
            question, history = parse_question(await read_body(request))
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)
        except ClientDisconnect:
            return JSONResponse({"error": "the body was not received"}, status_code=400)
        # Answering is CPU work (~10 ms): off the event loop that serves every other user.
        record = await run_in_threadpool(qa.answer, question, history)
        return JSONResponse(record.to_dict())

    return Route(ANSWER_PATH, answer, methods=["POST"])


async def health(_: Request) -> JSONResponse:
    """Answers once the app serves (it starts serving only after the index is loaded); `pid`
    tells which replica answered, for the replica supervisor and its tests."""
    return JSONResponse({"status": "ok", "pid": os.getpid()})


def http_routes(qa) -> list[Route]:
    """The routes app.py adds beside Gradio's own (they are matched first)."""
    return [answer_route(qa), Route(HEALTH_PATH, health, methods=["GET", "HEAD"])]
