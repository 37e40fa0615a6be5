"""Records shared by the indexer and the answering layer: pages, sections, chunks, sentences."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

HEADING_SEPARATOR = " › "
# A sentence opening with one of these leans on the one before it: an answer quotes both, and
# the index embeds the pair as well as the sentence alone.
NEEDS_ANTECEDENT = re.compile(
    r"^(this|it|its|these|they|those|that|such|both|still|so|but|however|because of this|"
    r"for this reason|if this|often this|another|along with|the stomach upset)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Paragraph:
    """A block of clean answer text and where its raw form sits in the source file."""

    text: str
    start: int
    end: int
    is_list_item: bool = False


@dataclass(frozen=True)
class Section:
    """A titled part of a page; `path` runs from the page title down to the section heading."""

    page_slug: str
    path: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]
    start: int
    end: int

    @property
    def title(self) -> str:
        return self.path[-1]

    @property
    def heading_path(self) -> str:
        return HEADING_SEPARATOR.join(self.path)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True)
class Page:
    """One cancer.org page with its sections and the metadata kept out of answer text."""

    slug: str
    title: str
    url: str
    review_date: str
    sections: tuple[Section, ...]
    references: tuple[str, ...] = field(default=())
    topic: str = ""


@dataclass(frozen=True)
class Chunk:
    """A passage of one section, with everything a citation needs (Contract 2)."""

    id: int
    page_slug: str
    page: str
    section: str
    url: str
    link: str
    review_date: str
    start: int
    end: int
    text: str
    context: str = ""  # what the passage is about: its headings below the page title + topic

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Sentence:
    """One quotable unit of a chunk: a sentence, or a bullet of a list (`list_id` groups them)."""

    id: int
    chunk_id: int
    text: str
    position: int
    list_id: int | None = None
    introduces_list: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def lead_in(sentence: Sentence, neighbours: list[Sentence]) -> Sentence | None:
    """The sentence ending in ':' that introduces this bullet's list; `neighbours` are the
    sentences of its chunk, in order."""
    if sentence.list_id is None:
        return None
    return next((s for s in neighbours if s.introduces_list == sentence.list_id), None)


def antecedent(sentence: Sentence, neighbours: list[Sentence]) -> Sentence | None:
    """The sentence before one that opens with "This/It/But...", in the same chunk."""
    if sentence.position > 0 and NEEDS_ANTECEDENT.search(sentence.text):
        return neighbours[sentence.position - 1]
    return None
