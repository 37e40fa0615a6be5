"""Text utilities shared by the index build, answering and the eval harness: sentence splitting,
markup cleaning, the list-item format and quote folding, each defined once here."""

from __future__ import annotations

import hashlib
import re
import threading

import pysbd

# A list item in chunk text and in answers is one line starting with BULLET; reading, a Markdown
# "* " item and leading spaces are accepted too (the source export writes both).
BULLET = "- "
LIST_MARK = re.compile(r"^\s*[-*]\s+")

# Curly and other look-alike quote marks, folded to the ASCII ones people type.
QUOTE_MARKS = {"‘": "'", "’": "'", "‛": "'", "“": '"', "”": '"', "´": "'", "`": "'"}
DASHES = {"–": "-", "—": "-"}
FOLD_QUOTES = str.maketrans(QUOTE_MARKS)
FOLD_QUOTES_AND_DASHES = str.maketrans({**QUOTE_MARKS, **DASHES})
SPACES = re.compile(r"\s+")

SUPERSCRIPT = re.compile(r"<sup>\s*\d+\s*</sup>")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
BOLD = re.compile(r"\*\*(.+?)\*\*")
ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")


def stable_key(text: str) -> int:
    """A 64-bit number for a text, the same on every machine and in every run (Python's own
    hash() is salted per process): what index builds use to deal texts without a random
    sequence, so that a row more or fewer moves only what it touches."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def fold(text: str) -> str:
    """Case, quotes, dashes and whitespace folded, so exact-phrase checks ignore only those."""
    return SPACES.sub(" ", text.translate(FOLD_QUOTES_AND_DASHES)).strip().casefold()


_local = threading.local()


def _segmenter() -> pysbd.Segmenter:
    """One segmenter per thread: pysbd keeps the text being split on the object, so threads
    sharing one got each other's sentences (991 of 18,000 splits wrong with 6 threads)."""
    if not hasattr(_local, "segmenter"):
        _local.segmenter = _new_segmenter()
    return _local.segmenter


def _new_segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Sentence boundaries by pysbd, which knows abbreviations and parentheses."""
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]


def clean_markup(text: str) -> str:
    """Remove Markdown emphasis, placeholder links and footnote numbers; keep the words."""
    text = SUPERSCRIPT.sub("", text)
    text = LINK.sub(r"\1", text)
    text = BOLD.sub(r"\1", text)
    text = ITALIC.sub(r"\1", text)
    text = text.replace("\\_", "_").replace("**", "")
    return re.sub(r"\s+", " ", text).strip()


def bullet_item(line: str) -> str | None:
    """The text of a list-item line ("- item"), or None for a line that is not one."""
    mark = LIST_MARK.match(line)
    return line[mark.end() :] if mark else None


def without_bullet(line: str) -> str:
    """The line with its list-item mark removed, if it has one."""
    item = bullet_item(line)
    return line if item is None else item
