"""Two naive baselines for the same run: fixed 1000-character chunks, top chunk as the answer."""

from __future__ import annotations

import time

import numpy as np

from indexer.embed import embed
from indexer.lexical import LexicalIndex, terms
from indexer.sources import load_sources
from indexer.text import clean_markup

CHUNK_CHARS = 1000
TOP_K = 5


def naive_chunks() -> list[str]:
    """The whole export, markup removed, cut every 1000 characters with no regard for meaning."""
    text = "\n".join(clean_markup(line) for line in load_sources().read_text().splitlines())
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]


def _record(chunks: list[str], order, started: float) -> dict:
    top = [int(i) for i in order[:TOP_K]]
    return {
        "answer": chunks[top[0]],
        "notice": "",
        "abstained": False,
        "citations": [{"n": n, "text": chunks[i]} for n, i in enumerate(top, start=1)],
        "latency_ms": (time.perf_counter() - started) * 1000,
    }


def run_dense(model, questions) -> list[dict]:
    chunks = naive_chunks()
    vectors = embed(model, chunks)
    records = []
    for question in questions:
        started = time.perf_counter()
        query = embed(model, [question.question])[0]
        records.append(_record(chunks, np.argsort(-(vectors @ query)), started))
    return records


def run_bm25(questions) -> list[dict]:
    chunks = naive_chunks()
    lexical = LexicalIndex.build(chunks)
    records = []
    for question in questions:
        started = time.perf_counter()
        scores = lexical.scores(terms(question.question))
        records.append(_record(chunks, np.argsort(-scores, kind="stable"), started))
    return records
