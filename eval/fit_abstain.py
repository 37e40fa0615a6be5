"""`python -m eval.fit_abstain`: fit when to answer, from what retrieval finds, on labelled sets.

Runs the product on the tuning sets (eval/questions.jsonl, eval/dev_realistic.jsonl; not the
scope classifier's own training set, whose scores would be in-sample), keeps each message's
evidence (qa.abstain), fits a logistic regression "do the pages answer this?", and chooses
the threshold from the cross-validated curve of answerable-refused against
out-of-scope-answered. Writes corpus/abstain.json. The held-out test sets are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.dataset import load_questions
from indexer.sources import CORPUS_DIR
from indexer.store import DEFAULT_INDEX_DIR, ensure_index
from qa.abstain import ANSWER_ALL, SETTINGS_FILE, Evidence
from qa.engine import QA

EVAL_DIR = Path(__file__).resolve().parent
TUNING_SETS = tuple(
    EVAL_DIR / name
    for name in (
        "questions.jsonl",
        "dev_realistic.jsonl",
        "dev_extra.jsonl",
        "dev_extra2.jsonl",
    )
)
# eval/dev_oos.jsonl (159 out-of-scope messages in people's voices) was tried as a fifth set:
# out of scope refused on it 0.87 -> 0.91, but the decision it fitted refused "my baby brother
# has gist, how is it treated" (issue 11's own example; P 0.55 against a threshold of 0.66).
# It stays an eval set that reports the out-of-scope side.
# The operating point: refuse at most this share of answerable questions (cross-validated),
# and within that, answer as few out-of-scope ones as possible.
MAX_ANSWERABLE_REFUSED = 0.03
FOLDS = 5
REPEATS = 10


def tuning_examples() -> list[tuple[str, list[str], bool]]:
    """(question, history, answerable) from the tuning sets; emergencies and requests to decide
    are decided before this stage and left out."""
    examples = []
    for path in TUNING_SETS:
        for q in load_questions(path):
            if not q.emergency and not q.personal_advice:
                examples.append((q.question, list(q.history), q.answerable))
    return examples


def collect(qa: QA, examples) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for question, history, answerable in tqdm(examples, desc="Reading", unit="q"):
        record = qa.answer(question, history)
        if record.evidence is not None:
            rows.append(record.evidence.vector())
            labels.append(answerable)
    return np.array(rows), np.array(labels)


def curve(probabilities: np.ndarray, labels: np.ndarray) -> list[dict]:
    """At each threshold: the share of answerable refused and of out-of-scope answered."""
    points = []
    for threshold in np.round(np.arange(0.02, 0.99, 0.02), 2):
        answered = probabilities >= threshold
        points.append(
            {
                "threshold": float(threshold),
                "answerable_refused": float((~answered & labels).sum() / max(labels.sum(), 1)),
                "out_of_scope_answered": float(
                    (answered & ~labels).sum() / max((~labels).sum(), 1)
                ),
            }
        )
    return points


def choose(points: list[dict]) -> dict:
    """The fewest out-of-scope answered within the refusal budget; of thresholds that answer
    as few, the lowest, which refuses the fewest answerable questions (the highest was taken
    before: 0.78 where 0.76 answers the same out-of-scope share and refuses 0.5% fewer)."""
    allowed = [p for p in points if p["answerable_refused"] <= MAX_ANSWERABLE_REFUSED]
    return min(
        allowed or points[:1],
        key=lambda p: (p["out_of_scope_answered"], p["answerable_refused"], p["threshold"]),
    )


def fit(features: np.ndarray, labels: np.ndarray) -> tuple[dict, list[dict]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    model = LogisticRegression(C=1.0, max_iter=2000)
    # Each message's out-of-fold probability, averaged over REPEATS splits: with one split the
    # chosen threshold moved between 0.76 and 0.80 from split to split (six seeds tried).
    held_out = np.mean(
        [
            cross_val_predict(
                model,
                features,
                labels,
                cv=StratifiedKFold(FOLDS, shuffle=True, random_state=seed),
                method="predict_proba",
            )[:, 1]
            for seed in range(REPEATS)
        ],
        axis=0,
    )
    points = curve(held_out, labels)
    model.fit(features, labels)
    return {"weights": model.coef_[0].tolist(), "bias": float(model.intercept_[0])}, points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.fit_abstain", description=__doc__)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument("--output", type=Path, default=CORPUS_DIR / SETTINGS_FILE)
    args = parser.parse_args(argv)
    qa = QA(ensure_index(args.index), abstain=ANSWER_ALL)
    features, labels = collect(qa, tuning_examples())
    weights, points = fit(features, labels)
    chosen = choose(points)
    settings = {
        "_about": "Written by python -m eval.fit_abstain: P(the pages answer this | evidence) by "
        "logistic regression; answer when it reaches the threshold. The curve is cross-validated.",
        "features": Evidence.names(),
        **weights,
        "threshold": chosen["threshold"],
        "operating_point": chosen,
        "fitted_on": {
            "sets": [p.name for p in TUNING_SETS],
            "answerable": int(labels.sum()),
            "out_of_scope": int((~labels).sum()),
        },
        "curve": points,
    }
    args.output.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: settings[k] for k in ("weights", "bias", "threshold", "operating_point")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
