"""Fit the message classifiers (safety, scope) on the team's labelled sets at index build.

Each head is a logistic regression over the same sentence embeddings the product computes for
a question anyway, so classifying costs one small matrix product at answer time. The labelled
sets live in corpus/training/ (written for this purpose, never copied from an eval set); a
stable quarter of each is held out to choose the decision threshold and report what it costs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from indexer.embed import embed
from indexer.heads import HEADS_FILE, HEADS_REPORT, softmax

# What each class's threshold must reach on the held-out quarter: safety is recall first (a
# missed emergency is the worst miss); a request to decide for someone is flagged only when
# sure, since that declines the question.
TARGETS = {
    "safety": {
        "medical": ("recall", 0.97),
        "self_harm": ("recall", 0.97),
        "decision": ("precision", 0.9),
    },
    "scope": {},
}
# Every message of the scope set is calm (none is an emergency or asks for a decision): the
# safety head also learns from them that everyday and off-topic questions are calm.
CALM_FROM = {"safety": ("scope", "calm")}
HELD_OUT_SHARE = 4  # one in four, by a hash of the text


def training_files(corpus_dir: Path) -> dict[str, Path]:
    folder = corpus_dir / "training"
    return {name: folder / f"{name}.jsonl" for name in TARGETS}


def load_examples(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    return texts, labels


def held_out(text: str) -> bool:
    """A stable split: the same text is always on the same side, whatever the file order."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % HELD_OUT_SHARE == 0


def _fit(vectors: np.ndarray, labels: list[str]):
    from sklearn.linear_model import LogisticRegression

    # Balanced classes: the rare urgent classes weigh as much as the many calm messages.
    # Unweighted classes: weighting the rare urgent ones up made off-topic chatter ("what's the
    # weather") look urgent; recall is set by the threshold instead.
    model = LogisticRegression(C=16.0, max_iter=3000)
    model.fit(vectors, labels)
    return model


def _probabilities(model, vectors: np.ndarray) -> np.ndarray:
    return (
        softmax(vectors @ model.coef_.T + model.intercept_)
        if len(model.classes_) > 2
        else (model.predict_proba(vectors))
    )


def _threshold(scores: np.ndarray, positive: np.ndarray, target: tuple[str, float]) -> float:
    """For ("recall", r): the highest threshold that still catches r of the held-out positives.
    For ("precision", p): the lowest threshold at which p of the flagged are right."""
    metric, value = target
    if metric == "recall":
        ranked = np.sort(scores[positive])[::-1]
        if not len(ranked):
            return 0.5
        keep = max(1, int(np.ceil(value * len(ranked))))
        return float(min(0.5, ranked[keep - 1]))
    for threshold in np.unique(np.concatenate([scores, [0.5]])):
        flagged = scores >= threshold
        if threshold >= 0.5 or (
            flagged.any() and (flagged & positive).sum() / flagged.sum() >= value
        ):
            return float(threshold)
    return 0.5


def fit_head(model_encoder, texts: list[str], labels: list[str], targets: dict) -> dict:
    """Fit on three quarters, choose thresholds on the held-out quarter, refit on all."""
    vectors = embed(model_encoder, texts)
    labels_array = np.array(labels)
    test = np.array([held_out(t) for t in texts])
    model = _fit(vectors[~test], list(labels_array[~test]))
    classes = list(model.classes_)
    probs = _probabilities(model, vectors[test])
    report = {"held_out": int(test.sum()), "trained_on": int((~test).sum()), "classes": {}}
    thresholds = {}
    for label in classes:
        column = probs[:, classes.index(label)]
        positive = labels_array[test] == label
        threshold = _threshold(column, positive, targets[label]) if label in targets else 0.5
        flagged = column >= threshold
        thresholds[label] = threshold
        report["classes"][label] = {
            "threshold": round(threshold, 4),
            "held_out_positives": int(positive.sum()),
            "recall": round(float((flagged & positive).sum() / max(positive.sum(), 1)), 4),
            "precision": round(float((flagged & positive).sum() / max(flagged.sum(), 1)), 4),
        }
    final = _fit(vectors, labels)
    coef, intercept = final.coef_, final.intercept_
    if len(classes) == 2:  # sklearn keeps one row for two classes; store both for softmax
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return {
        "classes": classes,
        "coef": coef.astype(np.float32),
        "intercept": intercept.astype(np.float32),
        "thresholds": np.array([thresholds[c] for c in classes], dtype=np.float32),
        "report": report,
    }


def build_heads(model_encoder, corpus_dir: Path, folder: Path) -> dict:
    """Fit every head and write heads.npz (weights) and heads.json (held-out figures)."""
    arrays, report = {}, {}
    files = training_files(corpus_dir)
    for name, path in files.items():
        if not path.exists():
            continue
        texts, labels = load_examples(path)
        if name in CALM_FROM and files[CALM_FROM[name][0]].exists():
            extra, _ = load_examples(files[CALM_FROM[name][0]])
            texts, labels = texts + extra, labels + [CALM_FROM[name][1]] * len(extra)
        head = fit_head(model_encoder, texts, labels, TARGETS[name])
        for key in ("coef", "intercept", "thresholds"):
            arrays[f"{name}.{key}"] = head[key]
        arrays[f"{name}.classes"] = np.array(head["classes"])
        report[name] = head["report"]
    np.savez(folder / HEADS_FILE, **arrays)
    (folder / HEADS_REPORT).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
