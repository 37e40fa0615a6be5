"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings of chunks, fused by RRF."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.records import Chunk
from indexer.store import Index

# Reciprocal rank fusion constant; small because there are only a few dozen chunks, so the
# top few ranks should count for much more than the tail.
RRF_K = 10


@dataclass(frozen=True)
class Passage:
    """A chunk with its fused score and the two scores it came from."""

    chunk: Chunk
    score: float
    dense: float
    lexical: float


def _ranks(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return ranks


def retrieve(index: Index, query_vector: np.ndarray, query_terms: list[str]) -> list[Passage]:
    """Every chunk, best first; a chunk with no query word gets no lexical share."""
    count = index.chunk_index.ntotal
    sims, ids = index.chunk_index.search(query_vector.reshape(1, -1), count)
    dense = np.empty(count, dtype=np.float32)
    dense[ids[0]] = sims[0]
    lexical = index.lexical.scores(query_terms)
    fused = 1.0 / (RRF_K + 1 + _ranks(dense))
    fused += np.where(lexical > 0, 1.0 / (RRF_K + 1 + _ranks(lexical)), 0.0)
    order = np.argsort(-fused, kind="stable")
    return [
        Passage(index.chunks[i], float(fused[i]), float(dense[i]), float(lexical[i])) for i in order
    ]
