"""Chunks cover every body sentence, never cross a section and carry Contract 2 metadata."""

import re

from indexer.chunk import CHUNK_SIZE, chunk_pages, chunk_sentences
from indexer.parse import HEADING, clean_markup

METADATA = re.compile(r"^#+\s*\**(Hyperlinks|References|Written by)\**\s*$")


def body_sentences(raw: str, titles: list[str]) -> list[str]:
    """Read the raw export independently of the parser: every prose line and bullet of the
    pages, minus headings, metadata sections, site chrome and link-only bullets."""
    lines, in_metadata, started = [], False, False
    for line in raw.splitlines():
        stripped = line.strip()
        heading = HEADING.match(line)
        if heading:
            title = clean_markup(heading.group(2))
            started = started or title in titles
            in_metadata = bool(METADATA.match(stripped))
            continue
        if not started or in_metadata or not stripped or stripped == "---":
            continue
        if stripped.startswith("Last Medical Review") or "1.800.227.2345" in stripped:
            continue
        if re.fullmatch(r"[-*]\s*\[[^\]]*\]\(#\)(<sup>\d+</sup>)?", stripped):
            continue  # a "see also" link
        lines.append(clean_markup(re.sub(r"^[-*]\s+", "", stripped)))
    sentences = []
    for line in lines:
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line) if s.strip()]
    return sentences


def test_every_body_sentence_is_in_a_chunk(pages, sources):
    chunks = chunk_pages(pages)
    corpus = re.sub(r"\s+", " ", " ".join(c.text.replace("- ", "") for c in chunks))
    sentences = body_sentences(sources.read_text(), [p.title for p in pages])
    assert len(sentences) > 200
    missing = [s for s in sentences if re.sub(r"\s+", " ", s) not in corpus]
    # Lines the export broke mid-sentence are checked as fragments of the joined sentence.
    assert missing == [], missing


def test_no_chunk_holds_metadata(pages):
    for chunk in chunk_pages(pages):
        for forbidden in ("Last Medical Review", "copyrighted", "Accessed at", "www.cancer",
                          "DeVita", "Hyperlinks", "Written by", "1.800.227.2345"):  # fmt: skip
            assert forbidden not in chunk.text, (forbidden, chunk.section)


def test_chunks_stay_inside_one_section_and_small_sections_stay_whole(pages):
    chunks = chunk_pages(pages)
    sections = {s.heading_path: s for p in pages for s in p.sections}
    for chunk in chunks:
        section = sections[chunk.section]
        assert section.start <= chunk.start < chunk.end <= section.end
        assert len(chunk.text) <= CHUNK_SIZE
    for path, section in sections.items():
        parts = [c for c in chunks if c.section == path]
        if len(section.text) < CHUNK_SIZE * 0.8:
            assert len(parts) == 1, path


def test_chunks_carry_contract_2_metadata(pages):
    for chunk in chunk_pages(pages):
        assert chunk.page and chunk.section.startswith(chunk.page)
        assert chunk.url.startswith("https://www.cancer.org/")
        assert chunk.link.startswith(chunk.url + "#:~:text=")
        assert chunk.review_date == "2017-05-17"
    sunitinib = next(c for c in chunk_pages(pages) if c.section.endswith("Sunitinib (Sutent)"))
    assert sunitinib.link.endswith("#:~:text=Sunitinib%20%28Sutent%29")


def test_lists_stay_with_their_lead_in(pages):
    chunks = chunk_pages(pages)
    sentences = chunk_sentences(chunks)
    lead = next(s for s in sentences if s.text == "There are several types of ablation:")
    items = [s.text for s in sentences if s.list_id == lead.introduces_list]
    assert len(items) == 4 and items[0].startswith("Radiofrequency ablation (RFA)")
