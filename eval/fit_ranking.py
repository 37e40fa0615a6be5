"""`python -m eval.fit_ranking`: fit how candidate sentences are weighed, on labelled sets.

For every answerable question of the tuning sets (never the held-out test sets), the product
lists its candidate sentences with their features (qa.compose.RANKING_FEATURES); a sentence
holding one of the question's evidence phrases is a positive. A listwise logistic model
learns the weights, starting from (and kept near) the hand-set ones. They are scaled so the
similarity keeps weight 1 (the selection's margins are in units of cosine similarity) and
written to corpus/ranking.json with the top sentence's hit rate: hand-set, fitted, and
fitted under 5-fold cross-validation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.dataset import fold, load_questions
from eval.fit_abstain import TUNING_SETS
from indexer.sources import CORPUS_DIR
from indexer.store import DEFAULT_INDEX_DIR, ensure_index
from qa.abstain import ANSWER_ALL
from qa.engine import QA
from qa.ranking import HAND_RANKING, RANKING_FEATURES, RANKING_FILE

FOLDS = 5


def collect(qa: QA) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per question: (features of each candidate, whether it holds an evidence phrase)."""
    groups = []
    questions = [q for path in TUNING_SETS for q in load_questions(path) if q.answerable]
    for question in tqdm(questions, desc="Collecting", unit="q"):
        qa.collect = []
        qa.answer(question.question, list(question.history))
        rows, qa.collect = qa.collect, None
        if not rows:
            continue
        phrases = [fold(e) for e in question.evidence]
        labels = np.array([any(p in fold(s.text) for p in phrases) for (s, _), _ in rows])
        if labels.any():  # a question whose evidence is no candidate teaches nothing
            groups.append((np.array([f for _, f in rows]), labels))
    return groups


def top_hit(groups, weights: np.ndarray, bias: float = 0.0) -> float:
    """Share of questions whose best-scored candidate holds the evidence."""
    return float(np.mean([labels[np.argmax(x @ weights + bias)] for x, labels in groups]))


# L2 pull towards the hand-set weights: 0.01 / 0.001 / 0.0001 gave cross-validated top-sentence
# hits of 0.664 / 0.675 / 0.683 (hand-set: 0.664).
def fit(groups, l2: float = 0.0001) -> tuple[np.ndarray, float]:
    """Listwise: for each question, a softmax over its candidates should put its weight on
    the sentences holding the evidence (a conditional logit, fitted with L-BFGS). The bias
    cannot change an order, so it stays 0; the scale is fixed by giving 'dense' weight 1."""
    from scipy.optimize import minimize

    start = HAND_RANKING.weights.astype(np.float64)

    def loss(w):
        total, grad = 0.0, np.zeros_like(w)
        for x, labels in groups:
            s = x @ w
            s = s - s.max()
            p = np.exp(s) / np.exp(s).sum()
            q = p * labels / (p * labels).sum()
            total -= np.log((p * labels).sum())
            grad -= x.T @ (q - p)
        total /= len(groups)
        grad /= len(groups)
        return total + l2 * np.sum((w - start) ** 2), grad + 2 * l2 * (w - start)

    weights = minimize(loss, start, jac=True, method="L-BFGS-B").x
    return weights / weights[0], 0.0


def cross_validated(groups) -> float:
    hits = []
    for k in range(FOLDS):
        train = [g for n, g in enumerate(groups) if n % FOLDS != k]
        test = [g for n, g in enumerate(groups) if n % FOLDS == k]
        weights, bias = fit(train)
        hits += [labels[np.argmax(x @ weights + bias)] for x, labels in test]
    return float(np.mean(hits))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.fit_ranking", description=__doc__)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument("--output", type=Path, default=CORPUS_DIR / RANKING_FILE)
    args = parser.parse_args(argv)
    # Candidates are gathered with the hand-set weights, whatever was fitted before (or on
    # other features).
    qa = QA(ensure_index(args.index), ranking=HAND_RANKING, abstain=ANSWER_ALL)
    groups = collect(qa)
    weights, bias = fit(groups)
    settings = {
        "_about": "Written by python -m eval.fit_ranking: a sentence's score is features @ "
        "weights + bias (a listwise logistic model over each question's candidates, scaled "
        "so 'dense' weighs 1).",
        "features": list(RANKING_FEATURES),
        "weights": [round(float(w), 5) for w in weights],
        "bias": round(bias, 5),
        "questions": len(groups),
        "top_sentence_hit": {
            "hand_set": round(top_hit(groups, HAND_RANKING.weights), 4),
            "fitted_in_sample": round(top_hit(groups, weights, bias), 4),
            "fitted_cross_validated": round(cross_validated(groups), 4),
        },
    }
    args.output.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: settings[k] for k in ("weights", "bias", "top_sentence_hit")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
