"""Concurrent questions share forward passes and get the vectors they would get alone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from indexer.embed import embed, load_query_model
from qa.batching import BatchingEncoder

QUESTIONS = [
    "What are the side effects of imatinib?",
    "Is surgery used for GIST?",
    "What if sunitinib stops working?",
    "How is radiation therapy used?",
    "ｆｕｌｌ ｗｉｄｔｈ question",
    "What is a clinical trial? " * 20,  # much longer than the rest: padding in the batch
    "Can GIST come back?",
    "What does regorafenib do?",
]


class HeldModel:
    """The real encoder, held at its first pass until released, so later callers queue up."""

    def __init__(self, model):
        self.model, self.release, self.batch_sizes = model, threading.Event(), []

    def encode(self, texts, **options):
        self.batch_sizes.append(len(texts))
        assert self.release.wait(30)
        return self.model.encode(texts, **options)


def _until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_questions_that_wait_together_are_embedded_in_one_pass():
    real = load_query_model("bundled")
    held = HeldModel(real)
    encoder = BatchingEncoder(held)
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        first = pool.submit(embed, encoder, QUESTIONS[:1])
        _until(lambda: held.batch_sizes == [1])  # the worker is busy with the first question
        rest = [pool.submit(embed, encoder, [q]) for q in QUESTIONS[1:]]
        _until(lambda: encoder._waiting.qsize() == len(QUESTIONS) - 1)
        held.release.set()
        vectors = np.concatenate([first.result(), *(f.result() for f in rest)])
    assert held.batch_sizes == [1, len(QUESTIONS) - 1]
    assert encoder.passes == 2
    alone = np.concatenate([embed(real, [q]) for q in QUESTIONS])
    assert vectors.shape == (len(QUESTIONS), 384)
    assert np.abs(vectors - alone).max() < 1e-6


def test_a_failed_pass_reaches_every_caller_and_the_next_pass_works():
    real = load_query_model("bundled")

    class FailsOnce:
        failed = False

        def encode(self, texts, **options):
            if not self.failed:
                self.failed = True
                raise RuntimeError("out of memory")
            return real.encode(texts, **options)

    encoder = BatchingEncoder(FailsOnce())
    with pytest.raises(RuntimeError, match="out of memory"):
        embed(encoder, ["What is GIST?"])
    again = embed(encoder, ["What is GIST?"])
    assert np.abs(again - embed(real, ["What is GIST?"])).max() < 1e-6
