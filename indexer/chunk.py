"""Cut sections into passages (never across a section) and passages into quotable sentences."""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

from langchain_text_splitters import RecursiveCharacterTextSplitter

from indexer.records import HEADING_SEPARATOR, Chunk, Page, Section, Sentence
from indexer.text import BULLET, bullet_item, split_sentences

CHUNK_SIZE = 800
CHUNK_OVERLAP = 120
# Paragraphs first, then lines (list items), then sentence ends: a chunk only breaks mid-sentence
# when one sentence alone is longer than CHUNK_SIZE, which this corpus never has.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " "]


def chunk_settings() -> dict:
    return {"chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP, "separators": SEPARATORS}


def section_link(url: str, heading: str) -> str:
    """The page URL with a text fragment that makes the browser scroll to the heading."""
    # In a text directive '-', ',' and '&' are syntax, so they must be percent-encoded too.
    fragment = quote(heading, safe="").replace("-", "%2D")
    return f"{url}#:~:text={fragment}"


def section_body(section: Section) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The section's answer text, list items as bullets, and (text start, end, src start, end).

    Paragraphs are separated by a blank line but a list stays on consecutive lines under its
    lead-in, so the splitter's first choice of break keeps a list with its lead-in.
    """
    body, offsets = "", []
    for paragraph in section.paragraphs:
        if body:
            body += "\n" if paragraph.is_list_item else "\n\n"
        line = (BULLET if paragraph.is_list_item else "") + paragraph.text
        offsets.append((len(body), len(body) + len(line), paragraph.start, paragraph.end))
        body += line
    return body, offsets


@cache
def _splitter() -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE,
        chunk_overlap=CHUNK_OVERLAP,
        separators=SEPARATORS,
        keep_separator="end",
        add_start_index=True,
        strip_whitespace=True,
    )


def _source_span(start: int, end: int, offsets) -> tuple[int, int]:
    covered = [(s, e) for a, b, s, e in offsets if a < end and b > start]
    return covered[0][0], covered[-1][1]


def section_context(page: Page, section: Section) -> str:
    """The section's own headings (the page title only for the page's opening text), plus
    the page's topic: "Possible side effects (chemotherapy chemo)", not the whole path, so
    a page title naming two treatments does not lend both words to every section."""
    headings = HEADING_SEPARATOR.join(section.path[1:]) or page.title
    return f"{headings} ({page.topic})" if page.topic else headings


def chunk_pages(pages: list[Page]) -> list[Chunk]:
    """Split every section on its own; small sections stay whole, long ones overlap a little."""
    chunks: list[Chunk] = []
    for page in pages:
        for section in page.sections:
            body, offsets = section_body(section)
            for doc in _splitter().create_documents([body]):
                start = doc.metadata["start_index"]
                src_start, src_end = _source_span(start, start + len(doc.page_content), offsets)
                chunks.append(
                    Chunk(
                        id=len(chunks),
                        page_slug=page.slug,
                        page=page.title,
                        section=HEADING_SEPARATOR.join(section.path),
                        url=page.url,
                        link=section_link(page.url, section.title),
                        review_date=page.review_date,
                        start=src_start,
                        end=src_end,
                        text=doc.page_content,
                        context=section_context(page, section),
                    )
                )
    return chunks


def chunk_sentences(chunks: list[Chunk]) -> list[Sentence]:
    """Every sentence of every chunk, in order; a bullet is one unit, tied to its list's lead-in."""
    sentences: list[Sentence] = []
    for chunk in chunks:
        position, list_id, lead_in = 0, None, None
        for line in chunk.text.split("\n"):
            if not line.strip():
                continue
            item = bullet_item(line)
            if item is not None:
                if list_id is None:
                    list_id = len(sentences)
                    if lead_in is not None and sentences[lead_in].text.endswith(":"):
                        sentences[lead_in] = _with_list(sentences[lead_in], list_id)
                units, unit_list = [item.strip()], list_id
            else:
                list_id, units, unit_list = None, split_sentences(line), None
            for text in units:
                sentences.append(Sentence(len(sentences), chunk.id, text, position, unit_list))
                position += 1
                lead_in = len(sentences) - 1
    return sentences


def _with_list(sentence: Sentence, list_id: int) -> Sentence:
    return Sentence(sentence.id, sentence.chunk_id, sentence.text, sentence.position, None, list_id)
