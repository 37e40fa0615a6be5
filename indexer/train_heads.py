"""Fit the message classifiers (safety, scope) on the team's labelled sets at index build.

Each head is a logistic regression over the same sentence embeddings the product computes for
a question anyway, so classifying costs one small matrix product at answer time. The labelled
sets live in corpus/training/ (written for this purpose, never copied from an eval set); a
stable quarter of each is held out to choose the decision threshold and report what it costs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexer.bank import BANK_FILE, load_bank_questions
from indexer.embed import embed
from indexer.heads import (
    HEADS_FILE,
    HEADS_REPORT,
    HEADS_VOCABULARY,
    NEVER,
    SENTENCE_TIERS,
    Head,
    Lexical,
)
from indexer.text import split_sentences, stable_key

# What each class's threshold must reach out of fold: safety is recall first (a
# missed emergency is the worst miss); a request to decide for someone is flagged only when
# sure, since that declines the question.
# Raised from 0.97 and 0.96: out of fold, medical recall 0.971 -> 0.981 (precision 0.966 ->
# 0.939), self-harm 0.961 -> 0.982 (precision 0.879 -> 0.840). On the tuning sets' answerable
# messages 24 instead of 18 notices beside an answer, the same answers; the dev safety file's
# one missed medical emergency is caught.
TARGETS = {
    "safety": {
        "medical": ("recall", 0.98),
        "self_harm": ("recall", 0.98),
        "decision": ("precision", 0.95),
    },
    "scope": {},
}
# The crisis notice's own bar, for a self-harm head that answers in two tiers. Past the recall
# bar above, a message reads close to a crisis; past this one, sure of it. Out of fold the
# recall bar's precision is 0.77: distress, anger and exhaustion sit close to a crisis in
# embedding space, and no model tried separated them better (C 2-64, a one-hidden-layer
# network, nearest neighbours). With one bar, 107 of the 1,086 dev messages that are no
# emergency got an emergency or crisis notice ("will the radiation burn my skin" among them).
# Between the bars the product answers and offers 988 in one line above the answer; a message
# there that asks nothing the pages answer gets the crisis notice (qa/engine). Chosen where 19
# of 20 flagged are crises out of fold (0.52, recall 0.90): 77 of those 1,086 notices, and
# every dev crisis (184) still gets the full notice (the others above the bar, or one sentence
# read alone, qa/safety.SENTENCE_SURE). At 9 of 10 (0.32): about 95 notices.
SURE = {"safety": {"self_harm": ("precision", 0.95)}}
# One sentence of a longer message read alone (qa/safety) lies outside what the head learnt,
# whole messages, so it must reach a higher bar than a whole message: the probability that
# this share of the urgent messages as written reaches, out of fold. Set as fixed
# probabilities (self-harm 0.8 close, 0.9 corroborating, 0.95 sure; medical 0.98 sure), the
# bars did not move when the training data moved the head's scale: with the bank's questions
# learnt as calm (VOICES_FROM), crises scored lower too, and a buried crisis read alone fell
# under them. These shares are what those fixed bars caught before that change.
SENTENCE_RECALL = {
    "safety": {
        "near": {"self_harm": 0.80},
        "corroborates": {"self_harm": 0.73, "medical": 0.73},
        "sure": {"self_harm": 0.665, "medical": 0.585},
    }
}
# Every message of the scope set is calm (none is an emergency or asks for a decision): the
# safety head also learns from them that everyday and off-topic questions are calm.
CALM_FROM = {"safety": ("scope", "calm")}
# Every question of the bank is one the pages answer, written in the voices people use (lay
# words, typos, 2-5 word look-ups, a story first), which the scope set's in-scope class,
# mostly whole formal questions, lacks: short look-ups such as "sutent hair color" read as
# chit-chat. The bank lends its voices, not its size: together its questions weigh half as
# much as the scope set's own in-scope ones, so the scope set still sets the prior. Fitted
# on the tuning sets (cross-validated abstain operating point, answerable refused / out of
# scope answered): without the bank 0.027 / 0.194; weight 0.25 0.020 / 0.171; 0.5 0.016 /
# 0.171; 1.0 0.020 / 0.169; 2.0 0.027 / 0.169.
# The same questions are calm for the safety head: none is an emergency, and a quarter of them
# tell a worried or angry story first ("they want to stick a needle in my liver", "i feel
# railroaded"), the distress the safety set's own calm messages, mostly plain questions, lack.
# Without them that distress read as a crisis. Over 16 older held-out sets (mean), answerable
# messages given an emergency or crisis notice 0.118 -> 0.053 at weight 1.0 (0.056 at 0.5),
# medical and self-harm recall unchanged. With 295 more safety messages (indirect crises told
# in stories, and calm ones sharing their words) and the sentence bars fitted (below): at
# weight 1.0 one held-out medical emergency missed (a high fever with chills after a procedure,
# told before a calm question about fever as a side effect), at 0.5 none; hence 0.5.
VOICES_FROM = {"scope": ("in_scope", 0.5), "safety": ("calm", 0.5)}
# Except, for the safety head, the bank's questions asking what someone should do ("should i
# join a trial", "what would you do"): the pages answer them in general, but whether one asks
# to decide for a person is the head's own decision class to learn, from the safety set alone.
# Lent as calm, they taught it otherwise: out-of-fold decision recall 0.82 -> 0.68 at the same
# precision.
LENT_EXCEPT = {
    "safety": re.compile(
        r"\bshould (i|we|he|she|they|my \w+)\b|\bwould you\b|\bif you were\b", re.IGNORECASE
    )
}
# The counts beside the embedding, per head. Safety reads letter runs (2-4 inside words):
# typos, run-together words and other languages keep most of theirs. Out of fold on the safety
# set (4 folds, self-harm at 96% recall) they halve the false crisis flags against word pairs
# (94 -> 42, precision 0.76 -> 0.88) at the same recall; medical precision 0.94 -> 0.93.
ANALYZER = {"safety": ("char_wb", (2, 4)), "scope": ("word", (1, 2))}
FOLDS = 4  # thresholds are chosen on out-of-fold probabilities, folds by a hash of the text
# A crisis is often one sentence inside a long message about treatment ("...and I have been
# keeping the pills aside..."); the whole message's embedding then sits far from the short
# crisis messages the head learnt. Each self-harm message is also learnt buried among 1-3 calm
# sentences (taken from the calm messages), and as many calm messages are made as long, so
# that length says nothing. Measured on 200 hard dev messages a helper wrote (50 self-harm,
# most long with the crisis buried; 50 medical; 60 calm; 40 anxious): self-harm caught
# 43 -> 50 of 50, calm messages given an emergency notice 3 -> 4 of 60; on the dev safety file
# 40/40 and 60/60 kept, calm 76 -> 75 of 80. The cost: notices beside answers on the four
# tuning sets 22 -> 46 of 700, most on long stories. Medical messages buried too (weight 0.5
# or 0.2): medical 49 -> 50 of 50, but 20 or 15 notices on those 140 calm messages (9 here)
# and 31 or 21 beside answers on dev_extra2 alone (19 here).
# Thresholds are still chosen on the messages as written (below). Deterministic (fixed seed).
BURIED = {"safety": ("self_harm",)}
BURIED_CONTEXT = (1, 3)  # calm sentences around each buried message
BURIED_WEIGHT = 0.5
BURIED_SEED = 7


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


def lent_voices(name: str, corpus_dir: Path) -> tuple[list[str], str]:
    """The bank's questions lent to head `name` for their voices (VOICES_FROM), and the label
    they take; none when the head borrows none (a missing bank lends nothing)."""
    if name not in VOICES_FROM:
        return [], ""
    bank = load_bank_questions(corpus_dir / "training" / BANK_FILE)
    label = VOICES_FROM[name][0]
    skip = LENT_EXCEPT.get(name)
    return [q.question for q in bank if not (skip and skip.search(q.question))], label


def labelled_examples(name: str, corpus_dir: Path) -> tuple[list[str], list[str]]:
    """What head `name` is trained on: its own file, plus the messages another file lends it
    under one label (CALM_FROM). A missing file lends nothing."""
    files = training_files(corpus_dir)
    texts, labels = load_examples(files[name])
    if name in CALM_FROM and files[CALM_FROM[name][0]].exists():
        extra, _ = load_examples(files[CALM_FROM[name][0]])
        texts, labels = texts + extra, labels + [CALM_FROM[name][1]] * len(extra)
    return texts, labels


def _mix(keys: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 of each key xor `salt`: a stable pseudo-random order of `keys` per salt."""
    with np.errstate(over="ignore"):
        x = keys ^ np.uint64(salt)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def buried(texts: list[str], labels: list[str], urgent: tuple[str, ...]):
    """(texts, labels, sources): each urgent message with 1-3 calm sentences before or after
    it, and as many calm messages with calm sentences around them; `sources` are the messages
    they were made from, so that each falls in its source's fold.

    Every choice (which calm messages, which sentences around each, where it sits) is drawn
    from hashes of the texts involved, not from one random sequence: with a sequence, adding or
    dropping one training message dealt every buried message anew, and the classifiers' bars
    moved between two index builds that differed by six rows."""
    calm = [t for t, label in zip(texts, labels, strict=True) if label == "calm"]
    context = list(
        dict.fromkeys(
            s
            for t in calm
            for s in split_sentences(t)
            if len(s.split()) >= 4 and not s.endswith("?")
        )
    )
    context_keys = np.array([stable_key(s) for s in context], dtype=np.uint64)
    targets = [(t, label) for t, label in zip(texts, labels, strict=True) if label in urgent]
    wanted = min(len(calm), len(targets))
    chosen = sorted(calm, key=lambda t: stable_key(f"{BURIED_SEED} {t}"))[:wanted]
    targets += [(t, "calm") for t in chosen]
    made, made_labels, sources = [], [], []
    for text, label in targets:
        salt = stable_key(f"{BURIED_SEED} {label} {text}")
        low, high = BURIED_CONTEXT
        count = low + salt % (high - low + 1)
        picked = np.argsort(_mix(context_keys, salt), kind="stable")[:count]
        around = [context[i] for i in picked]
        cut = (salt >> 8) % (len(around) + 1)
        made.append(" ".join([*around[:cut], text, *around[cut:]]))
        made_labels.append(label)
        sources.append(text)
    return made, made_labels, sources


def fold_of(text: str) -> int:
    """A stable fold: the same text is always in the same one, whatever the file order."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % FOLDS


def _fit(vectors: np.ndarray, texts: list[str], labels: list[str], analyzer: tuple, weights=None):
    """Logistic regression over [embedding, TF-IDF of words and word pairs or letter runs]."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    kind, ngram_range = analyzer
    lexical = TfidfVectorizer(
        analyzer=kind, ngram_range=ngram_range, min_df=2, sublinear_tf=True, dtype=np.float32
    )
    counts = lexical.fit_transform(texts)
    # Unweighted classes: weighting the rare urgent ones up made off-topic chatter ("what's the
    # weather") look urgent; recall is set by the threshold instead.
    model = LogisticRegression(C=16.0, max_iter=5000)
    model.fit(hstack([csr_matrix(vectors), counts]).tocsr(), labels, sample_weight=weights)
    return model, lexical, kind


def _as_head(model, lexical, kind: str) -> Head:
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # sklearn keeps one row for two classes; softmax needs both
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    vocabulary = {term: int(column) for term, column in lexical.vocabulary_.items()}
    return Head(
        tuple(str(c) for c in model.classes_),
        coef.astype(np.float32),
        intercept.astype(np.float32),
        np.full(len(model.classes_), 0.5, dtype=np.float32),
        Lexical(vocabulary, lexical.idf_.astype(np.float32), kind),
    )


def _reached_by(scores: np.ndarray, share: float) -> float | None:
    """The highest score that `share` of `scores` still reach (None for no scores)."""
    ranked = np.sort(scores)[::-1]
    if not len(ranked):
        return None
    return float(ranked[max(1, int(np.ceil(share * len(ranked)))) - 1])


def _threshold(scores: np.ndarray, positive: np.ndarray, target: tuple[str, float]) -> float:
    """For ("recall", r): the highest threshold that still catches r of the held-out positives.
    For ("precision", p): the lowest threshold at which p of the flagged are right (recall
    targets stop at 0.5, precision targets may go above it)."""
    metric, value = target
    if metric == "recall":
        reached = _reached_by(scores[positive], value)
        return 0.5 if reached is None else min(0.5, reached)
    # Above 0.5 too: a class that is flagged only when sure may need more than the argmax.
    for threshold in np.unique(np.concatenate([scores, [0.5]])):
        flagged = scores >= threshold
        if flagged.any() and (flagged & positive).sum() / flagged.sum() >= value:
            return float(threshold)
    return 0.5


def fit_head(
    model_encoder,
    texts: list[str],
    labels: list[str],
    targets: dict,
    analyzer: tuple,
    weights: np.ndarray | None = None,
    sources: list[str] | None = None,
    sure_targets: dict | None = None,
    sentence_targets: dict | None = None,
) -> Head:
    """Choose thresholds on out-of-fold probabilities (every example scored by a model that
    did not see it, FOLDS fits), then fit on all. One held-out quarter was used before: with
    ~60 self-harm positives in it, one hard example moved the threshold from 0.12 to 0.08 and
    doubled the false crisis notices on the dev sets."""
    vectors = embed(model_encoder, texts)
    labels_array = np.array(labels)
    folds = np.array([fold_of(t) for t in (sources or texts)])
    if weights is None:
        weights = np.ones(len(texts), dtype=np.float64)
    probs = None
    for k in range(FOLDS):
        test = folds == k
        trial = _as_head(
            *_fit(
                vectors[~test],
                [t for t, out in zip(texts, test, strict=True) if not out],
                list(labels_array[~test]),
                analyzer,
                weights[~test],
            )
        )
        fold_probs = trial.probabilities(
            vectors[test], [t for t, out in zip(texts, test, strict=True) if out]
        )
        if probs is None:
            probs = np.zeros((len(texts), fold_probs.shape[1]), dtype=np.float32)
        probs[test] = fold_probs
    # Thresholds and figures on the messages as written: made-up buried ones teach, but the
    # recall to reach is on what people send.
    written = np.array([t == s for t, s in zip(texts, sources or texts, strict=True)])
    report = {"out_of_fold": int(written.sum()), "folds": FOLDS, "classes": {}}
    thresholds, sure = [], []
    for n, label in enumerate(trial.classes):
        column = probs[written, n]
        positive = labels_array[written] == label
        threshold = _threshold(column, positive, targets[label]) if label in targets else 0.5
        thresholds.append(threshold)
        report["classes"][label] = _figures(column, positive, threshold)
        sure.append(threshold)
        if label in (sure_targets or {}):
            sure[-1] = max(threshold, _threshold(column, positive, sure_targets[label]))
            report["classes"][label]["sure"] = _figures(column, positive, sure[-1])
    sentence = None
    if sentence_targets:
        sentence = np.full((len(SENTENCE_TIERS), len(trial.classes)), NEVER, dtype=np.float32)
        for row, tier in enumerate(SENTENCE_TIERS):
            for label, share in sentence_targets.get(tier, {}).items():
                n = trial.classes.index(label)
                sentence[row, n] = _reached_by(probs[written & (labels_array == label), n], share)
                report["classes"][label][f"sentence_{tier}"] = round(float(sentence[row, n]), 4)
    final = _as_head(*_fit(vectors, texts, labels, analyzer, weights))
    thresholds, sure = (np.array(bars, dtype=np.float32) for bars in (thresholds, sure))
    return replace(final, thresholds=thresholds, sure=sure, sentence=sentence), report


def _figures(column: np.ndarray, positive: np.ndarray, threshold: float) -> dict:
    flagged = column >= threshold
    return {
        "threshold": round(threshold, 4),
        "positives": int(positive.sum()),
        "recall": round(float((flagged & positive).sum() / max(positive.sum(), 1)), 4),
        "precision": round(float((flagged & positive).sum() / max(flagged.sum(), 1)), 4),
    }


def build_heads(model_encoder, corpus_dir: Path, folder: Path) -> dict:
    """Fit every head; write heads.npz (weights), heads_vocabulary.json and heads.json (held-out
    figures)."""
    arrays, report, vocabularies = {}, {}, {}
    for name, path in training_files(corpus_dir).items():
        if not path.exists():
            continue
        texts, labels = labelled_examples(name, corpus_dir)
        weights = np.ones(len(texts), dtype=np.float64)
        voices, label = lent_voices(name, corpus_dir)
        if voices:
            share = VOICES_FROM[name][1] * labels.count(label) / len(voices)
            weights = np.concatenate([weights, np.full(len(voices), share)])
            texts, labels = texts + voices, labels + [label] * len(voices)
        sources = list(texts)
        if name in BURIED:
            made, made_labels, made_from = buried(texts, labels, BURIED[name])
            texts, labels, sources = texts + made, labels + made_labels, sources + made_from
            weights = np.concatenate([weights, np.full(len(made), BURIED_WEIGHT)])
        head, report[name] = fit_head(
            model_encoder,
            texts,
            labels,
            TARGETS[name],
            ANALYZER[name],
            weights,
            sources,
            SURE.get(name),
            SENTENCE_RECALL.get(name),
        )
        arrays[f"{name}.classes"] = np.array(head.classes)
        arrays[f"{name}.coef"] = head.coef
        arrays[f"{name}.intercept"] = head.intercept
        arrays[f"{name}.thresholds"] = head.thresholds
        arrays[f"{name}.sure"] = head.sure
        if head.sentence is not None:
            arrays[f"{name}.sentence"] = head.sentence
        arrays[f"{name}.idf"] = head.lexical.idf
        vocabularies[name] = {"analyzer": head.lexical.analyzer, "terms": head.lexical.vocabulary}
    np.savez(folder / HEADS_FILE, **arrays)
    (folder / HEADS_VOCABULARY).write_text(json.dumps(vocabularies), encoding="utf-8")
    (folder / HEADS_REPORT).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
