"""One decision, from evidence: do the quoted sentences answer the question?

The features say what retrieval found; the weights and the threshold are fitted on labelled
questions by `python -m eval.fit_abstain` and kept in corpus/abstain.json, with the curve of
answerable-refused against out-of-scope-answered that the threshold was chosen from.
"""

from __future__ import annotations

import json
import math
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from indexer.sources import CORPUS_DIR

SETTINGS_FILE = "abstain.json"


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for one question, each in [0, 1] or close to it."""

    sentence_similarity: float  # cosine of the best quoted sentence (alone or with its lead-in)
    passage_similarity: float  # cosine of the best passage
    coverage: float  # IDF-weighted share of the question's corpus words the quoted text holds
    known_share: float  # share of the question's content words that the corpus uses at all
    lexical: float  # best BM25 score, squashed: log(1 + score) / 3
    agreement: float  # 1 when the best dense passage is among BM25's best three
    in_scope: float  # the scope classifier's probability that the pages cover this kind
    bank: float  # cosine of the closest question the pages are known to answer (question bank)

    def vector(self) -> list[float]:
        return list(astuple(self))

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class AbstainModel:
    """A logistic regression: answer when P(answerable | evidence) reaches the threshold."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def answers(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.threshold


# What the fitting commands answer with: they read the evidence, and must run before (or
# without) a fitted decision, e.g. after a feature is added.
ANSWER_ALL = AbstainModel((0.0,) * len(fields(Evidence)), 0.0, 0.0)


def load_abstain_model(corpus_dir: Path = CORPUS_DIR) -> AbstainModel:
    data = json.loads((corpus_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    if data["features"] != Evidence.names():
        raise ValueError(
            f"{SETTINGS_FILE} was fitted on other features; refit with: python -m eval.fit_abstain"
        )
    return AbstainModel(tuple(data["weights"]), data["bias"], data["threshold"])
