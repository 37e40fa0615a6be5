"""Turn an answer record into what people read: terminal text, chat Markdown, source cards."""

from __future__ import annotations

import html
import json
from functools import cache

from indexer.sources import CORPUS_DIR, load_sources
from qa.records import ANSWER, EMERGENCY, Answer
from qa.texts import load_texts


@cache
def ui_texts() -> dict:
    sources = load_sources()
    raw = json.loads((CORPUS_DIR / "ui.json").read_text(encoding="utf-8"))
    fill = {"helpline": sources.helpline, "review_date": sources.review_date_text}
    raw["disclaimer"] = raw["disclaimer"].format(**fill)
    return raw


def source_line() -> str:
    return load_texts().notice("source")


def format_text(record: Answer) -> str:
    """A readable answer for a terminal: notice, quoted answer, then numbered sources."""
    lines = []
    if record.notice:
        lines += [record.notice, ""]
    if record.answer:
        lines += [record.answer, ""]
    quoted = [c for c in record.citations if c.quoted]
    related = [c for c in record.citations if not c.quoted]
    if quoted:
        lines.append("Sources:")
        lines += [f"  [{c.n}] {c.section}\n      {c.link}" for c in quoted]
    if related:
        lines.append("Related sections:")
        lines += [f"  [{c.n}] {c.section}\n      {c.link}" for c in related]
    if record.citations:
        lines += ["", source_line()]
    lines.append(f"(searched for: {record.query!r}; {record.latency_ms:.0f} ms)")
    return "\n".join(lines)


def format_chat(record: Answer) -> str:
    """The assistant's chat message in Markdown; every text from outside is escaped."""
    labels = ui_texts()["labels"]
    parts = []
    if record.category == EMERGENCY:
        parts.append(f"### {labels['emergency']}\n\n**{html.escape(record.notice)}**")
    elif record.notice:
        label = labels.get(record.category) if record.category != ANSWER else None
        heading = f"**{label}**\n\n" if label else ""
        parts.append(f"{heading}{html.escape(record.notice)}")
    if record.answer:
        parts.append(html.escape(record.answer, quote=False))
        quoted = [c for c in record.citations if c.quoted]
        links = [f"[{c.n}] [{html.escape(c.section.split(' › ')[-1])}]({c.link})" for c in quoted]
        parts.append("Sources: " + " · ".join(links))
        parts.append(f"<small>{html.escape(source_line())}</small>")
    return "\n\n".join(parts)


def _highlight(passage: str, sentences: tuple[str, ...]) -> str:
    """The passage as HTML paragraphs and lists, with the quoted sentences marked."""
    body = html.escape(passage, quote=False)
    for sentence in sentences:
        escaped = html.escape(sentence, quote=False)
        if escaped in body:
            body = body.replace(escaped, f"<mark>{escaped}</mark>", 1)
    blocks = []
    for block in body.split("\n\n"):
        lines = block.split("\n")
        prose = [line for line in lines if not line.startswith("- ")]
        items = [line[2:] for line in lines if line.startswith("- ")]
        blocks += [f"<p>{line}</p>" for line in prose]
        if items:
            blocks.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    return "".join(blocks)


def format_cards(record: Answer | None) -> str:
    """Source cards: page › section, the passage with the quoted sentences marked, a link."""
    texts = ui_texts()
    if record is None or not record.citations:
        notice = ""
        if record is not None and record.category == EMERGENCY:
            notice = f'<div class="gist-emergency" role="alert">{html.escape(record.notice)}</div>'
        empty = html.escape(texts["sources_empty"])
        section = '<section class="gist-sources" aria-label="Sources">'
        return f"{section}{notice}<p>{empty}</p></section>"
    cards = []
    for citation in record.citations:
        kind = "quoted" if citation.quoted else "related"
        title = f"[{citation.n}] " + " › ".join(
            html.escape(part) for part in citation.section.split(" › ")
        )
        if not citation.quoted:
            title += f' <span class="gist-tag">{html.escape(texts["related_heading"])}</span>'

        passage = _highlight(citation.text, record.sentences if citation.quoted else ())
        cards.append(
            f'<article class="gist-card gist-{kind}">'
            f"<h4>{title}</h4>"
            f'<div class="gist-passage">{passage}</div>'
            f'<p><a href="{html.escape(citation.link)}" target="_blank" rel="noopener noreferrer">'
            f"{html.escape(texts['read_section'])}</a>"
            f' <span class="gist-date">(reviewed {html.escape(citation.review_date)})</span></p>'
            "</article>"
        )
    query = html.escape(record.query)
    return (
        f'<section class="gist-sources" aria-label="Sources">'
        f"<h3>{html.escape(texts['sources_heading'])}</h3>"
        f'<p class="gist-query">{html.escape(texts["searched_for"])}: <code>{query}</code></p>'
        + "".join(cards)
        + "</section>"
    )
