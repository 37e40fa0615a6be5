"""The message classifiers kept in the index folder: one linear layer over two views of a
message, its sentence embedding and TF-IDF counts of its words (word pairs, or letter runs).

The embedding says what a message is about; the words catch what an embedding blurs (a short
"i can't sleep" sits near self-harm in embedding space, "saving my pills" is plain in words).
Fitted at index build (indexer/train_heads.py); applied here with numpy alone.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADS_FILE = "heads.npz"
HEADS_REPORT = "heads.json"
HEADS_VOCABULARY = "heads_vocabulary.json"
# The tiers of one sentence read alone: close to a crisis, corroborating a whole message that
# is close to one, and sure of an emergency (qa/safety).
SENTENCE_TIERS = ("near", "corroborates", "sure")
NEVER = 1.01  # the bar of a class with no such tier: no probability reaches it
# The same tokens as scikit-learn's TfidfVectorizer defaults: lower case, 2+ word characters.
TOKEN = re.compile(r"(?u)\b\w\w+\b")


def softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def word_ngrams(text: str) -> list[str]:
    """Words and adjacent word pairs, as TfidfVectorizer(ngram_range=(1, 2)) makes them."""
    words = TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def char_ngrams(text: str, low: int = 2, high: int = 4) -> list[str]:
    """Letter runs of 2-4 inside each space-padded word, as TfidfVectorizer(analyzer="char_wb",
    ngram_range=(2, 4)) makes them: "pils" and "pills" share most of theirs, so typos and
    other spellings still count."""
    grams = []
    for word in text.lower().split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < len(padded):
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n is counted once, as sklearn does
                break
    return grams


ANALYZERS = {"word": word_ngrams, "char_wb": char_ngrams}


@dataclass(frozen=True)
class Lexical:
    """TF-IDF with sublinear counts and L2 norm, from a fitted vocabulary and idf."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    analyzer: str = "word"  # a key of ANALYZERS

    def transform(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), len(self.idf)), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram, count in Counter(ANALYZERS[self.analyzer](text)).items():
                column = self.vocabulary.get(gram)
                if column is not None:
                    rows[row, column] = (1 + math.log(count)) * self.idf[column]
            norm = np.linalg.norm(rows[row])
            if norm:
                rows[row] /= norm
        return rows


@dataclass(frozen=True)
class Head:
    """One classifier: class probabilities from embeddings and the texts they came from."""

    classes: tuple[str, ...]
    coef: np.ndarray  # classes x (embedding dimension + vocabulary)
    intercept: np.ndarray
    thresholds: np.ndarray
    lexical: Lexical
    # A second, higher bar for classes that answer in two tiers (self-harm: the crisis notice
    # when sure, a line offering 988 beside the answer when only past `thresholds`); for the
    # others the same as `thresholds`. None in an index built before the tiers: one bar.
    sure: np.ndarray | None = None
    # Bars for one sentence of a longer message read alone (qa/safety), one row per tier of
    # SENTENCE_TIERS, one column per class (above 1 where a class has no such tier). None in an
    # index built before they were fitted: qa/safety's fixed bars stand in.
    sentence: np.ndarray | None = None

    def sentence_bar(self, label: str, tier: str) -> float | None:
        """The bar one sentence read alone must reach for `label` at `tier`; None when the
        index has no fitted sentence bars."""
        if self.sentence is None:
            return None
        return float(self.sentence[SENTENCE_TIERS.index(tier), self.classes.index(label)])

    def probabilities(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        features = np.hstack([np.atleast_2d(vectors), self.lexical.transform(texts)])
        return softmax(features @ self.coef.T + self.intercept)

    def strongest(self, vectors: np.ndarray, texts: list[str]) -> dict[str, float]:
        """Each class's highest probability over the texts (a message and its question)."""
        return self.strongest_of(self.probabilities(vectors, texts))

    def strongest_of(self, probabilities: np.ndarray) -> dict[str, float]:
        """The same, from probabilities already computed (one row per text)."""
        return dict(zip(self.classes, probabilities.max(axis=0).tolist(), strict=True))

    def flagged(self, label: str, probability: float) -> bool:
        """Past the threshold chosen for this class on the held-out split."""
        return probability >= float(self.thresholds[self.classes.index(label)])

    def certain(self, label: str, probability: float) -> bool:
        """Past the higher bar chosen for this class (its only bar when it has one)."""
        bars = self.thresholds if self.sure is None else self.sure
        return probability >= float(bars[self.classes.index(label)])


def load_heads(folder: Path) -> dict[str, Head]:
    vocabularies = json.loads((folder / HEADS_VOCABULARY).read_text(encoding="utf-8"))
    with np.load(folder / HEADS_FILE) as data:
        names = sorted({key.split(".")[0] for key in data.files})
        return {
            name: Head(
                tuple(str(c) for c in data[f"{name}.classes"]),
                data[f"{name}.coef"],
                data[f"{name}.intercept"],
                data[f"{name}.thresholds"],
                Lexical(
                    vocabularies[name]["terms"], data[f"{name}.idf"], vocabularies[name]["analyzer"]
                ),
                data[f"{name}.sure"] if f"{name}.sure" in data.files else None,
                data[f"{name}.sentence"] if f"{name}.sentence" in data.files else None,
            )
            for name in names
        }
