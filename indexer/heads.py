"""The message classifiers kept in the index folder: a linear layer over question vectors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADS_FILE = "heads.npz"
HEADS_REPORT = "heads.json"


def softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Head:
    """One classifier: class probabilities from L2-normalised sentence embeddings."""

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    thresholds: np.ndarray

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return softmax(np.atleast_2d(vectors) @ self.coef.T + self.intercept)

    def strongest(self, vectors: np.ndarray) -> dict[str, float]:
        """Each class's highest probability over the vectors (the sentences of a message)."""
        best = self.probabilities(vectors).max(axis=0)
        return dict(zip(self.classes, best.tolist(), strict=True))

    def flagged(self, label: str, probability: float) -> bool:
        """Past the threshold chosen for this class on the held-out split."""
        return probability >= float(self.thresholds[self.classes.index(label)])


def load_heads(folder: Path) -> dict[str, Head]:
    with np.load(folder / HEADS_FILE) as data:
        names = sorted({key.split(".")[0] for key in data.files})
        return {
            name: Head(
                tuple(str(c) for c in data[f"{name}.classes"]),
                data[f"{name}.coef"],
                data[f"{name}.intercept"],
                data[f"{name}.thresholds"],
            )
            for name in names
        }
