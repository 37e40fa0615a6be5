"""Adapt the embedding model to how people ask about these pages, at index build.

The question bank (indexer/bank.py) pairs about two thousand questions in people's words with
the sentences that answer them. A short contrastive training on those pairs (each question
against its own sentence, the other sentences of the batch as negatives: sentence-transformers'
MultipleNegativesRankingLoss) moves "can they just cut it out" towards the surgery sentences and
"the pill" towards imatinib's. About 90 s on 2 CPU cores; the adapted copy is saved in the
index folder and embeds both the pages and every question. The model setting stays the base
model: the adapted copy is part of the index, rebuilt with it.

Measured on the four tuning sets (none of them is training data here), hit@1 of questions,
dev_realistic, dev_extra, dev_extra2: 0.919/0.778/0.664/0.731 unadapted. With the first bank
(967 questions): one epoch, seeds 0 and 1, 0.919/0.769/0.748/0.769 and 0.926/0.769/0.741/0.762;
two epochs 0.933/0.787/0.783/0.756 and 0.926/0.787/0.776/0.762. With the second (1,992: more
long, indirect and keyword questions): one epoch, seeds 0 and 1, 0.933/0.796/0.804/0.744 and
0.926/0.787/0.797/0.756; two epochs 0.940/0.778/0.776/0.750. One epoch over the larger bank:
the same number of steps as two over the first, and as good or better.
"""

from __future__ import annotations

import copy

from indexer.text import stable_key

EPOCHS = 1
LEARNING_RATE = 2e-5
BATCH = 32
SCALE = 20.0  # cosine similarities times this are the logits (MultipleNegativesRankingLoss)
SEED = 0


def stable_batches(pairs: list[tuple[str, str]], seed: int = SEED) -> list[list[tuple[str, str]]]:
    """The pairs in batches of about BATCH, each pair's batch fixed by a hash of its text.

    A shuffle deals every pair anew when one is added or dropped, and the model trained on it
    moves as much as a different seed would: dropping six training rows for a held-out set
    moved the safety classifiers, which read this model's embeddings, enough to fail four
    unit tests. Here a pair keeps its batch and the batches keep their order, so a change to
    the bank changes only the batches it touches, until the number of batches (the pairs over
    BATCH, rounded) steps, once every BATCH pairs. A batch left empty stays in the list (as
    []), so that the batches after it keep their dropout seeds."""
    count = max(1, round(len(pairs) / BATCH))
    keyed: list[list[tuple[int, tuple[str, str]]]] = [[] for _ in range(count)]
    for pair in pairs:
        key = stable_key(f"{seed}\0{pair[0]}\0{pair[1]}")
        keyed[key * count >> 64].append((key, pair))
    return [[pair for _, pair in sorted(bucket)] for bucket in keyed]


def adapt(model, pairs: list[tuple[str, str]], progress: bool = True):
    """A trained copy of the sentence-transformers `model` (the original is left as it is: it
    is cached per process) on (question, answering text) pairs."""
    import torch
    from tqdm import tqdm

    if not pairs:
        return model
    adapted = copy.deepcopy(model)
    adapted.train()
    optimizer = torch.optim.AdamW(adapted.parameters(), lr=LEARNING_RATE)
    batches = [batch for epoch in range(EPOCHS) for batch in stable_batches(pairs, SEED + epoch)]
    for step, batch in enumerate(
        tqdm(batches, desc="Adapting the model", unit="batch", disable=not progress)
    ):
        if not batch:
            continue
        # Dropout draws its masks per batch: a batch that changed size does not shift the
        # random numbers of every batch after it.
        torch.manual_seed(SEED + step)
        questions = _embed(adapted, [q for q, _ in batch])
        answers = _embed(adapted, [a for _, a in batch])
        logits = questions @ answers.T * SCALE
        # Two questions of one batch may share their answer: that is no negative for either.
        texts = [a for _, a in batch]
        same = torch.tensor(
            [[i != j and x == y for j, y in enumerate(texts)] for i, x in enumerate(texts)]
        )
        loss = torch.nn.functional.cross_entropy(
            logits.masked_fill(same, -1e4), torch.arange(len(batch))
        )
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    adapted.eval()
    return adapted


def _embed(model, texts: list[str]):
    import torch

    # sentence-transformers 6 renamed tokenize (now deprecated, with a warning) to preprocess.
    prepare = getattr(model, "preprocess", None) or model.tokenize
    features = prepare(texts)
    return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
