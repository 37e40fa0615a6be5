"""Turn an answer record into what people read: terminal text, the chat's messages (alert,
answer, its sources, provenance) and the take-home copy of a conversation.

Every text from outside (the question, the sources, the notices) is escaped here; the chat
renders the HTML these functions return, so nothing else may be put into a message."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from urllib.parse import quote

from indexer.records import HEADING_SEPARATOR
from indexer.sources import CORPUS_DIR, load_sources
from indexer.text import bullet_item
from qa.records import ANSWER, EMERGENCY, Answer
from qa.texts import load_texts

# Numbers a person may need to call, as they appear in the notices, and what a phone dials.
EMERGENCY_NUMBER = "911"
CRISIS_NUMBER = "988"


@cache
def ui_texts() -> dict:
    sources = load_sources()
    raw = json.loads((CORPUS_DIR / "ui.json").read_text(encoding="utf-8"))
    fill = {"helpline": sources.helpline, "review_date": sources.review_date_text}
    for key in ("disclaimer", "provenance", "transcript_heading"):
        raw[key] = raw[key].format(**fill)
    raw["helpline"] = sources.helpline
    raw["review_date"] = sources.review_date_text
    return raw


def source_line() -> str:
    return load_texts().notice("source")


def tel(number: str) -> str:
    """The tel: address of a US number as written in the texts (1-800-227-2345, 911)."""
    digits = re.sub(r"\D", "", number)
    return f"tel:+{digits}" if len(digits) == 11 else f"tel:{digits}"


def link_numbers(escaped: str, numbers: tuple[str, ...] | None = None) -> str:
    """Escaped text with each phone number made a tap-to-call link."""
    numbers = numbers or (ui_texts()["helpline"], EMERGENCY_NUMBER, CRISIS_NUMBER)
    pattern = "|".join(rf"(?<![\d-]){re.escape(n)}(?![\d-])" for n in numbers)
    return re.sub(pattern, lambda m: f'<a href="{tel(m[0])}">{m[0]}</a>', escaped)


def is_crisis(record: Answer) -> bool:
    """An emergency about self-harm: its notice gives the 988 Lifeline."""
    return record.category == EMERGENCY and CRISIS_NUMBER in record.notice


def format_text(record: Answer) -> str:
    """A readable answer for a terminal: notice, quoted answer, then numbered sources."""
    words = ui_texts()["terminal"]
    lines = []
    if record.notice:
        lines += [record.notice, ""]
    if record.answer:
        lines += [record.answer, ""]
    quoted = [c for c in record.citations if c.quoted]
    related = [c for c in record.citations if not c.quoted]
    if quoted:
        lines.append(words["sources"])
        lines += [f"  [{c.n}] {c.section}\n      {c.link}" for c in quoted]
    if related:
        lines.append(words["related"])
        lines += [f"  [{c.n}] {c.section}\n      {c.link}" for c in related]
    if record.citations:
        lines += ["", source_line()]
    lines.append(
        words["searched_for"].format(query=repr(record.query), ms=f"{record.latency_ms:.0f}")
    )
    return "\n".join(lines)


def _blocks(escaped: str) -> str:
    """Escaped text (blank-line blocks, "- " bullets) as HTML paragraphs and lists."""
    blocks = []
    for block in escaped.split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        items: list[str] = []
        for line in lines:
            item = bullet_item(line)
            if item is not None:
                items.append(f"<li>{item}</li>")
                continue
            if items:
                blocks.append("<ul>" + "".join(items) + "</ul>")
                items = []
            blocks.append(f"<p>{line}</p>")
        if items:
            blocks.append("<ul>" + "".join(items) + "</ul>")
    return "".join(blocks)


def _highlight(passage: str, sentences: tuple[str, ...]) -> str:
    """The passage as HTML paragraphs and lists, with the quoted sentences marked."""
    body = html.escape(passage, quote=False)
    for sentence in sentences:
        escaped = html.escape(sentence, quote=False)
        if escaped in body:
            body = body.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return _blocks(body)


def _link(href: str, text: str, css: str = "") -> str:
    """A link to cancer.org, opened in a new tab."""
    class_attr = f' class="{css}"' if css else ""
    return (
        f'<a{class_attr} href="{html.escape(href)}" target="_blank" '
        f'rel="noopener noreferrer">{text}</a>'
    )


def format_question(question: str) -> str:
    """The person's own message as the chat shows it, escaped, line breaks kept."""
    return "<p>" + html.escape(question.strip()).replace("\n", "<br>") + "</p>"


def _alert(record: Answer) -> str:
    """An emergency, first and unmistakable: role=alert, with numbers to tap."""
    texts = ui_texts()
    labels = texts["labels"]
    if is_crisis(record):
        title = labels["crisis"]
        calls = [
            (tel(CRISIS_NUMBER), labels["call"].format(number=CRISIS_NUMBER)),
            (f"sms:{CRISIS_NUMBER}", labels["text"].format(number=CRISIS_NUMBER)),
            (tel(EMERGENCY_NUMBER), labels["call"].format(number=EMERGENCY_NUMBER)),
        ]
    else:
        title = labels["emergency"]
        calls = [(tel(EMERGENCY_NUMBER), labels["call"].format(number=EMERGENCY_NUMBER))]
    buttons = "".join(f'<a class="gist-call" href="{h}">{html.escape(t)}</a>' for h, t in calls)
    notice = link_numbers(html.escape(record.notice), (texts["helpline"],))
    return (
        '<div class="gist-alert" role="alert">'
        f'<p class="gist-alert-title"><strong>{html.escape(title)}</strong></p>'
        f"<p>{notice}</p>"
        f'<p class="gist-calls">{buttons}</p>'
        "</div>"
    )


def _sources(record: Answer) -> str:
    """The answer's sources under it: links to each quoted section, then (folded) the
    passages with the quoted sentences marked, the related sections and the search."""
    texts = ui_texts()
    quoted = [c for c in record.citations if c.quoted]
    links = " · ".join(
        f"[{c.n}]&nbsp;{_link(c.link, html.escape(c.section.split(HEADING_SEPARATOR)[-1]))}"
        for c in quoted
    )
    cards = []
    for citation in record.citations:
        kind = "quoted" if citation.quoted else "related"
        title = f"[{citation.n}] " + HEADING_SEPARATOR.join(
            html.escape(part) for part in citation.section.split(HEADING_SEPARATOR)
        )
        if not citation.quoted:
            title += f' <span class="gist-tag">{html.escape(texts["related_heading"])}</span>'
        passage = _highlight(citation.text, record.sentences if citation.quoted else ())
        cards.append(
            f'<div class="gist-card gist-{kind}">'
            f'<p class="gist-card-title"><strong>{title}</strong></p>'
            f'<div class="gist-passage">{passage}</div>'
            f"<p>{_link(citation.link, html.escape(texts['read_section']))}</p>"
            "</div>"
        )
    summary = texts["sources_summary"].format(count=len(record.citations))
    query = f"{html.escape(texts['searched_for'])}: <code>{html.escape(record.query)}</code>"
    return (
        f'<p class="gist-source-links">{html.escape(texts["sources_label"])}: {links}</p>'
        f'<details class="gist-sources"><summary>{html.escape(summary)}</summary>'
        + "".join(cards)
        + f'<p class="gist-query">{query}</p></details>'
    )


def format_chat(record: Answer) -> str:
    """The assistant's chat message as one HTML block (no blank lines, so the chat's Markdown
    leaves it alone): an emergency alert first, another notice, the answer with its sources,
    and the provenance line."""
    texts = ui_texts()
    labels = texts["labels"]
    parts = []
    if record.category == EMERGENCY:
        parts.append(_alert(record))
    elif record.notice:
        label = labels.get(record.category) if record.category != ANSWER else None
        heading = f'<p class="gist-notice-title"><strong>{html.escape(label)}</strong></p>'
        notice = link_numbers(html.escape(record.notice))
        parts.append(
            f'<div class="gist-notice gist-{html.escape(record.category)}">'
            f"{heading if label else ''}<p>{notice}</p></div>"
        )
    if record.answer:
        parts.append(f'<div class="gist-answer">{_blocks(html.escape(record.answer))}</div>')
        parts.append(_sources(record))
        parts.append(f'<p class="gist-provenance">{html.escape(texts["provenance"])}</p>')
    return "".join(parts)


# The take-home copy -------------------------------------------------------------------------


def transcript(turns: list[dict], saved_on: str) -> str:
    """The conversation as plain text a patient can print or bring to an appointment: each
    question, the notice and answer, numbered sources with their cancer.org links, the review
    date and the disclaimer. `turns` holds {"question", "record"} (the record as a dict)."""
    texts = ui_texts()
    rule = "-" * 72
    lines = [texts["transcript_heading"], texts["transcript_saved"].format(date=saved_on), ""]
    lines += [texts["disclaimer"], ""]
    for number, turn in enumerate(turns, start=1):
        record = turn["record"]
        lines += [rule, f"{texts['transcript_question']} {number}: {turn['question'].strip()}", ""]
        if record.get("notice"):
            if record.get("category") == EMERGENCY:
                lines.append(texts["transcript_important"])
            lines += [record["notice"], ""]
        if record.get("answer"):
            lines += [f"{texts['transcript_answer']}:", record["answer"], ""]
        citations = record.get("citations") or []
        for quoted, heading in ((True, "sources_label"), (False, "related_heading")):
            chosen = [c for c in citations if bool(c.get("quoted", True)) is quoted]
            if chosen:
                lines.append(f"{texts[heading]}:")
                for c in chosen:
                    lines += [f"  [{c['n']}] {c['section']}", f"      {c['link']}"]
                    lines.append(f"      ({texts['reviewed'].format(date=c['review_date'])})")
                lines.append("")
    lines += [rule, source_line(), ""]
    return "\n".join(lines)


def save_link(turns: list[dict], saved_on: str) -> str:
    """ "Save conversation": a link that downloads the transcript, made in the browser from the
    page itself (a data: address), so the server writes no file."""
    texts = ui_texts()
    if not turns:
        return ""
    data = "data:text/plain;charset=utf-8," + quote(transcript(turns, saved_on), safe="")
    name = f"gist-answers-conversation-{saved_on}.txt"
    return (
        f'<a class="gist-save" href="{data}" download="{name}">'
        f"{html.escape(texts['save_conversation'])}</a>"
    )
