"""Parse the ACS export into pages and sections of clean answer text, with spans in the source."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.records import Page, Paragraph, Section
from indexer.sources import Sources
from indexer.text import clean_markup

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+(.*)$")
ONLY_LINK = re.compile(r"^\s*(?:\[[^\]]*\]\([^)]*\)\s*(?:<sup>\s*\d+\s*</sup>)?\s*)+$")
# Lines that belong to the site chrome or the review stamp, never to answer text.
CHROME = re.compile(
    r"^(?:\[cancer\.org\]\([^)]*\)\s*\|.*|\**cancer\.org\s*\|.*|-{3,}|Last Medical Review:.*)$",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"[.!?:][\"'”’)]*$")


@dataclass
class _Block:
    """A raw paragraph or list item while the page is being read."""

    raw: str
    start: int
    end: int
    is_list_item: bool

    @property
    def text(self) -> str:
        return clean_markup(self.raw)


@dataclass
class _OpenSection:
    path: tuple[str, ...]
    start: int
    blocks: list[_Block] = field(default_factory=list)


def _lines_with_offsets(text: str, start: int, end: int):
    offset = start
    for line in text[start:end].splitlines(keepends=True):
        yield offset, line.rstrip("\n").rstrip("\r")
        offset += len(line)


def _find_page_starts(text: str, sources: Sources) -> list[tuple[int, dict]]:
    """Locate each page by its title (any heading level, with or without bold markup)."""
    titles = {p["title"].casefold(): p for p in sources.pages}
    starts = []
    for offset, line in _lines_with_offsets(text, 0, len(text)):
        match = HEADING.match(line)
        if match and clean_markup(match.group(2)).casefold() in titles:
            starts.append((offset, titles.pop(clean_markup(match.group(2)).casefold())))
    if titles:
        missing = ", ".join(p["title"] for p in titles.values())
        raise ValueError(f"page titles not found in the corpus: {missing}")
    return starts


def _read_blocks(text: str, start: int, end: int):
    """Yield ('heading', title, offset) or ('block', _Block) or ('chrome', None) events."""
    paragraph: list[tuple[int, str]] = []

    def flush():
        if paragraph:
            raw = " ".join(line.strip() for _, line in paragraph)
            first, last = paragraph[0], paragraph[-1]
            yield "block", _Block(raw, first[0], last[0] + len(last[1].rstrip()), False)
            paragraph.clear()

    for offset, line in _lines_with_offsets(text, start, end):
        stripped = line.strip()
        heading = HEADING.match(line)
        item = LIST_ITEM.match(line)
        if not stripped:
            yield from flush()
        elif heading:
            yield from flush()
            yield "heading", clean_markup(heading.group(2)), offset
        elif CHROME.match(stripped):
            yield from flush()
        elif item:
            yield from flush()
            yield "block", _Block(item.group(1), offset, offset + len(line.rstrip()), True)
        else:
            paragraph.append((offset, line))
    yield from flush()


def _merge_broken(blocks: list[_Block]) -> list[_Block]:
    """Join paragraphs the export split mid-sentence ("...our trained" / "specialists.")."""
    merged: list[_Block] = []
    for block in blocks:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and not prev.is_list_item
            and not block.is_list_item
            and not SENTENCE_END.search(prev.text)
        ):
            merged[-1] = _Block(prev.raw + " " + block.raw, prev.start, block.end, False)
        else:
            merged.append(block)
    return merged


def _drop_related_links(blocks: list[_Block]) -> list[_Block]:
    """Drop bullets that only link to other pages, unless a lead-in ending in ':' has them."""
    kept: list[_Block] = []
    lead_in = False
    for block in blocks:
        if not block.is_list_item:
            lead_in = block.text.endswith(":")
            kept.append(block)
        elif lead_in or not ONLY_LINK.match(block.raw):
            kept.append(block)
    return kept


def _to_section(slug: str, open_section: _OpenSection) -> Section | None:
    blocks = _drop_related_links(_merge_broken(open_section.blocks))
    paragraphs = tuple(Paragraph(b.text, b.start, b.end, b.is_list_item) for b in blocks if b.text)
    if not paragraphs:
        return None
    return Section(slug, open_section.path, paragraphs, open_section.start, paragraphs[-1].end)


def _parse_page(text: str, start: int, end: int, info: dict, sources: Sources) -> Page:
    title = info["title"]
    nested = {h.casefold() for h in info.get("subsection_headings", [])}
    metadata = {h.casefold() for h in sources.metadata_headings}
    sections: list[Section] = []
    references: list[str] = []
    current = _OpenSection((title,), start)
    top: tuple[str, ...] = (title,)
    in_references = in_metadata = False

    def close():
        if current is not None and not in_metadata:
            section = _to_section(info["slug"], current)
            if section is not None:
                sections.append(section)

    for event in _read_blocks(text, start, end):
        if event[0] == "heading":
            _, heading, offset = event
            if heading.casefold() == title.casefold():
                continue
            close()
            in_metadata = heading.casefold() in metadata
            in_references = heading.casefold() == "references"
            if heading.casefold() in nested and len(top) > 1:
                path = (*top, heading)
            else:
                path = top = (title, heading)
            current = _OpenSection(path, offset)
        elif event[0] == "block":
            if in_references:
                references.append(event[1].text)
            elif not in_metadata:
                current.blocks.append(event[1])
    close()
    return Page(
        slug=info["slug"],
        title=title,
        url=info["url"],
        review_date=sources.review_date,
        sections=tuple(sections),
        references=tuple(references),
        topic=info.get("topic", ""),
    )


def parse_corpus(text: str, sources: Sources) -> list[Page]:
    """Split the source text into its pages (found by title) and each page into sections."""
    starts = _find_page_starts(text, sources)
    bounds = [offset for offset, _ in starts[1:]] + [len(text)]
    return [
        _parse_page(text, offset, end, info, sources)
        for (offset, info), end in zip(starts, bounds, strict=True)
    ]
