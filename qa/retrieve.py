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


def retrieve(index: Index, query_vectors: np.ndarray, query_terms: list[str]) -> list[Passage]:
    """Every chunk, best first; a chunk with no query word gets no lexical share.

    `query_vectors` holds one view of the question per row (the question asked, and for a
    message of several sentences the whole message); a chunk is as close as its closest view."""
    count = index.chunk_index.ntotal
    views = np.atleast_2d(query_vectors)
    sims, ids = index.chunk_index.search(views, count)
    dense = np.full(count, -np.inf, dtype=np.float32)
    for row in range(len(views)):
        dense[ids[row]] = np.maximum(dense[ids[row]], sims[row])
    lexical = index.lexical.scores(query_terms)
    fused = 1.0 / (RRF_K + 1 + _ranks(dense))
    fused += np.where(lexical > 0, 1.0 / (RRF_K + 1 + _ranks(lexical)), 0.0)
    order = np.argsort(-fused, kind="stable")
    return [
        Passage(index.chunks[i], float(fused[i]), float(dense[i]), float(lexical[i])) for i in order
    ]
