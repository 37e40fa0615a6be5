"""BM25 over the chunks (bm25s), with the tokeniser shared by retrieval and term checks."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

WORD = re.compile(r"(?u)\b\w\w+\b")
# Snowball leaves comparatives alone ("larger" is not "larg"); the text and the questions use
# both forms, so a few common ones are folded to their base word before stemming.
BASE_FORMS = {
    "larger": "large", "largest": "large", "smaller": "small", "smallest": "small",
    "bigger": "big", "biggest": "big", "higher": "high", "highest": "high", "lower": "low",
    "lowest": "low", "longer": "long", "faster": "fast", "quicker": "quick", "worse": "bad",
    "better": "good", "easier": "easy", "harder": "hard", "stronger": "strong",
    "closer": "close", "closest": "close", "closely": "close", "earlier": "early",
    "later": "late", "older": "old", "younger": "young", "newer": "new", "greater": "great",
    "fewer": "few", "wider": "wide", "deeper": "deep", "thinner": "thin", "thicker": "thick",
}  # fmt: skip


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@cache
def stopwords() -> frozenset[str]:
    return frozenset(bm25s.stopwords.STOPWORDS_EN_PLUS)


def words(text: str) -> list[str]:
    """Lower-cased words of two or more letters, the same way bm25s tokenises."""
    return WORD.findall(text.lower())


def stem(word: str) -> str:
    return _stemmer().stemWord(BASE_FORMS.get(word, word))


def terms(text: str) -> list[str]:
    """Stemmed content words: the unit both BM25 and the coverage checks compare."""
    return [stem(w) for w in words(text) if w not in stopwords()]


class LexicalIndex:
    """A bm25s index saved to and loaded from a folder of fixed names."""

    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self.vocabulary = frozenset(retriever.vocab_dict)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index([terms(t) for t in texts], show_progress=False)
        return cls(retriever)

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(directory)))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk; zeros when no query term is in the vocabulary."""
        known = [t for t in query_terms if t in self.vocabulary]
        if not known:
            return np.zeros(self.retriever.scores["num_docs"], dtype=np.float32)
        return self.retriever.get_scores(known)
