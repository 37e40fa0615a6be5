"""The page Gradio serves names GIST Answers: its title and link preview (an ASGI middleware)."""

from __future__ import annotations

import html
import re

from qa.present import ui_texts

_PREVIEW_TAG = re.compile(rb'<meta\s+(?:property="og:|name="twitter:)[^>]*>\s*')
_CHARSET = b'<meta charset="utf-8" />'


def preview_head() -> bytes:
    """<title>, description and Open Graph tags naming the product, for link previews (which
    read the HTML as served, before any script sets the title)."""
    texts = ui_texts()
    title = html.escape(texts["title"])
    description = html.escape(texts["page_description"])
    return (
        f"\n\t\t<title>{title}</title>"
        f'\n\t\t<meta name="description" content="{description}" />'
        f'\n\t\t<meta property="og:type" content="website" />'
        f'\n\t\t<meta property="og:site_name" content="{title}" />'
        f'\n\t\t<meta property="og:title" content="{title}" />'
        f'\n\t\t<meta property="og:description" content="{description}" />'
    ).encode()


class BrandedPage:
    """ASGI middleware: the page's HTML names GIST Answers, not Gradio. Gradio's page template
    hard-codes Gradio's own link preview (og:title "Gradio", an image on GitHub); this drops
    those tags and puts the product's in. Only text/html responses are read; everything else
    (the API, the queue's event streams, assets) passes through untouched."""

    def __init__(self, app):
        self.app = app
        self.head = preview_head()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        start: dict | None = None
        chunks: list[bytes] = []

        async def rewrite(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                if _CHARSET in body:
                    body = _PREVIEW_TAG.sub(b"", body).replace(_CHARSET, _CHARSET + self.head, 1)
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                return await send({"type": "http.response.body", "body": body})
            await send(message)

        return await self.app(scope, receive, rewrite)


def page_middleware() -> list:
    """For launch(): FastAPI's `middleware` argument."""
    from starlette.middleware import Middleware

    return [Middleware(BrandedPage)]
