"""How candidate sentences are weighed: ten features, weights fitted by python -m
eval.fit_ranking (corpus/ranking.json), the hand-set ones until then."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.sources import CORPUS_DIR

RANKING_FILE = "ranking.json"
RANKING_FEATURES = (
    "dense",  # cosine of the sentence (or the sentence with what it leans on) to the question
    "lexical",  # IDF-weighted share of the question's terms the sentence and its headings hold
    "passage_rank",  # RANK_BONUS / (1 + the passage's fused rank)
    "passage_dense",  # the whole passage's cosine: its headings say which situation it is
    "next_drug",  # about the next drug after one the question says stopped working
    "pointer",  # "See X": points elsewhere on cancer.org, answers nothing here
    "bare_lead_in",  # a list's lead-in when no list was asked for
    "passage_lexical",  # the passage's BM25 score, log(1 + x) / 3
    "bullet",  # an item of a list
    "bank_passage",  # cosine of the closest question-bank question the passage answers
)


@dataclass(frozen=True)
class Ranking:
    """A sentence's score: features @ weights + bias, in units of cosine similarity."""

    weights: np.ndarray
    bias: float = 0.0


# The weights set by hand before they were fitted (python -m eval.fit_ranking).
HAND_RANKING = Ranking(np.array([1.0, 0.7, 1.0, 0.5, 0.2, -0.3, -0.1, 0.0, 0.0, 0.0], np.float32))


def load_ranking(corpus_dir: Path = CORPUS_DIR) -> Ranking:
    """The fitted weights in corpus/ranking.json, or the hand-set ones when there are none."""
    path = corpus_dir / RANKING_FILE
    if not path.exists():
        return HAND_RANKING
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != RANKING_FEATURES:
        raise ValueError(
            f"{path} was fitted on other features; refit with: python -m eval.fit_ranking"
        )
    return Ranking(np.array(data["weights"], np.float32), float(data["bias"]))
