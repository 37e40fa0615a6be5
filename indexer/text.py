"""Text utilities shared by the index build, answering and the eval harness."""

from __future__ import annotations

from functools import cache

import pysbd


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Sentence boundaries by pysbd, which knows abbreviations and parentheses."""
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]
