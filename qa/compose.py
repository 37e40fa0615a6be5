"""Choose the source sentences that answer a question and quote them with [n] markers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from indexer.lexical import terms
from indexer.records import Sentence, antecedent, lead_in
from indexer.store import Index
from indexer.text import BULLET
from qa.ranking import HAND_RANKING, Ranking
from qa.retrieve import Passage

MAX_WORDS = 90
MAX_SENTENCES = 4
SCORE_GAP = 0.12  # a sentence this much below the best is not quoted
CANDIDATE_PASSAGES = 5
CONTEXT_WEIGHT = 0.5
RANK_BONUS = 0.08
PART_PASSAGES = 2  # passages each question of a several-question message brings in
NEXT_DRUG_BONUS = 0.2  # for "what if X stops working?": the sentence is about the next drug
# A following sentence finishes the point when it is at most this much less similar to the
# question than the best quoted sentence. Swept on the four tuning sets (2026-11-28): 0.25 ->
# 0.35 raised facts 0.731 -> 0.769 (dev_realistic), 0.762 -> 0.783, 0.750 -> 0.756, median
# answer 40 -> 57 words; 0.45 and beyond added words and no facts.
COMPLETION_MARGIN = 0.35
# A list this short (in words, all its items) is quoted whole, whichever of its items was
# chosen, and finishes the sentence before its lead-in. Swept on the four tuning sets: 0 -> 50
# raised facts 0.824 -> 0.833 (dev_realistic) and 0.804 -> 0.825 (dev_extra), nothing lower,
# median answer +1 to +4 words; 90 and 120 added words and no facts.
SHORT_LIST_WORDS = 50
# "See X" sentences only point elsewhere on cancer.org; they answer nothing here.
POINTER = re.compile(r"\b(see|found in)\b [A-Z][^.]*\.$|^To learn more|^For more information")
ASKS_FOR_LIST = re.compile(
    r"\b(what are|which|list|types?|kinds?|side effects?|effects|options|complications|"
    r"symptoms|doctors|specialists|things|consider|include|ways|programs|services)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Selection:
    """The chosen sentences grouped by passage, in the order they will be cited."""

    groups: tuple[tuple[Passage, tuple[Sentence, ...]], ...]
    top_similarity: float
    coverage: float = 0.0  # the same, weighted by how rare each group's words are
    bank_similarity: float = 0.0  # the closest question-bank question to this one (cosine)


class SentenceTable:
    """Per-sentence facts computed once at load, so a question only does arithmetic."""

    def __init__(self, index: Index):
        self.index = index
        self.by_chunk: dict[int, list[Sentence]] = {}
        self.by_list: dict[int, list[Sentence]] = {}
        for sentence in index.sentences:
            self.by_chunk.setdefault(sentence.chunk_id, []).append(sentence)
            if sentence.list_id is not None:
                self.by_list.setdefault(sentence.list_id, []).append(sentence)
        self.terms = [frozenset(terms(s.text)) for s in index.sentences]
        self.heading_terms = {c.id: frozenset(terms(c.context)) for c in index.chunks}
        # What a sentence covers: its own words and its section's headings.
        self.covers = [self.terms[s.id] | self.heading_terms[s.chunk_id] for s in index.sentences]
        self.is_pointer = np.array([bool(POINTER.search(s.text)) for s in index.sentences])
        self.chunk_of = np.array([s.chunk_id for s in index.sentences])
        self.chunk_count = len(index.chunks)
        # A list is read as one unit (lead-in and bullets): the sentences of each list, which
        # share their bank scores, as (sentence ids, list number) pairs.
        in_list = [
            (s.id, s.list_id if s.list_id is not None else s.introduces_list)
            for s in index.sentences
            if s.list_id is not None or s.introduces_list is not None
        ]
        self.list_word_count = {
            n: sum(len(s.text.split()) for s in items) for n, items in self.by_list.items()
        }
        self.list_members = np.array([i for i, _ in in_list], dtype=np.int64)
        number = {n: k for k, n in enumerate(sorted({n for _, n in in_list}))}
        self.list_of_member = np.array([number[n] for _, n in in_list], dtype=np.int64)
        self.list_count = len(number)
        # Inverse sentence frequency: a rare shared word says more than a common one.
        counts: dict[str, int] = {}
        for sentence_terms in self.terms:
            for term in sentence_terms:
                counts[term] = counts.get(term, 0) + 1
        total = len(self.terms)
        self.idf = {t: math.log(1 + total / c) for t, c in counts.items()}

    def weight(self, group: frozenset[str]) -> float:
        return max((self.idf.get(t, 0.0) for t in group), default=0.0)

    def overlap(self, weighted_groups, covered: frozenset[str]) -> float:
        """IDF-weighted share of the question's term groups found in `covered`. A group found
        through a common word of its expansion ("drug" for "pill") earns that word's weight."""
        total = sum(w for _, w in weighted_groups)
        if not total:
            return 0.0
        found = 0.0
        for group, weight in weighted_groups:
            matched = group & covered
            if matched:
                found += min(weight, self.weight(matched) * weight / max(self.weight(group), 1e-9))
        return found / total

    def list_items(self, list_id: int) -> list[Sentence]:
        return self.by_list.get(list_id, [])

    def list_words(self, list_id: int) -> int:
        return self.list_word_count.get(list_id, 0)


class Picked:
    """The sentences chosen so far, with the passage each is cited from and the words used."""

    def __init__(self, table: SentenceTable, wants_list: bool):
        self.table, self.wants_list = table, wants_list
        self.chosen: dict[int, Sentence] = {}
        self.owner: dict[int, Passage] = {}
        self.words = 0
        self.picks = 0  # sentences taken for themselves, not what they brought along

    def take(self, sentence: Sentence, passage: Passage) -> bool:
        """Quote `sentence` with what it needs (the sentence it leans on, the lead-in of its
        list, the rest of the list when a list is asked for), unless it repeats a chosen one or
        the answer would go over MAX_WORDS."""
        table, chosen, vectors = self.table, self.chosen, self.table.index.sentence_vectors
        if any(s.text == sentence.text for s in chosen.values()):
            return False
        if chosen and max(float(vectors[sentence.id] @ vectors[i]) for i in chosen) > 0.9:
            return False
        extra = [sentence]
        neighbours = table.by_chunk[sentence.chunk_id]
        before = antecedent(sentence, neighbours)
        if before is not None and before.list_id is None and before.id not in chosen:
            extra.insert(0, before)
        introduction = lead_in(sentence, neighbours)
        if introduction is not None and introduction.id not in chosen:
            extra.insert(0, introduction)  # a bullet is read under the sentence introducing it
        if sentence.list_id is not None and (
            self.wants_list or table.list_words(sentence.list_id) <= SHORT_LIST_WORDS
        ):
            # Asked for a list, a bullet brings all of it: "side effects" wants every one. A
            # short list comes whole anyway: two of five treatments under "Types of treatment
            # for GIST include:" would say those are the types.
            extra += [s for s in table.list_items(sentence.list_id) if s.id != sentence.id]
        if sentence.introduces_list is not None:
            if not (self.wants_list or not chosen):
                return False  # a lead-in without its list says nothing
            extra += table.list_items(sentence.introduces_list)
        cost = sum(len(s.text.split()) for s in extra if s.list_id is None)
        if chosen and self.words + cost > MAX_WORDS:
            return False
        for s in extra:
            chosen[s.id] = s
            self.owner[s.id] = passage
        self.words += cost
        self.picks += 1
        return True


def closeness(index: Index, vectors) -> np.ndarray:
    """Each sentence's cosine to the closest of `vectors`. A sentence is embedded alone and
    with what it leans on ("It targets KIT..." after "This drug..."), and is as close as the
    closer of the two."""
    return np.max(
        [np.maximum(index.sentence_vectors @ v, index.window_vectors @ v) for v in vectors],
        axis=0,
    )


def select(
    table: SentenceTable,
    passages: list[Passage],
    query_vector: np.ndarray,
    key_terms,
    question: str,
    context_terms=(),
    subjects=(),
    next_drugs=frozenset(),
    tried=frozenset(),
    ranking: Ranking | None = None,
    collect: list | None = None,
    other_views: np.ndarray | None = None,
    part_vectors: np.ndarray | None = None,
) -> Selection:
    """Score sentences of the best passages; keep a few strong, non-redundant ones.

    `other_views` (rows) are the question read other ways: for a message of several sentences
    the whole message, since the story around a question ("found by accident during a scope,
    1.5 cm") often says what the question ("can I just leave it?") is about; and a bare
    question with what the story names. A sentence is as close as the closest view.

    `ranking` weighs each sentence's features (RANKING_FEATURES); `collect`, when given,
    receives every candidate with its features (for fitting the weights)."""
    ranking = ranking or HAND_RANKING
    index = table.index
    others = [] if other_views is None else list(np.atleast_2d(other_views))
    views = [query_vector, *others]
    dense = closeness(index, views)
    # How close the question is to the questions each sentence is known to answer (written in
    # people's words), and the best of those per passage.
    if index.bank is not None:
        bank = index.bank.sentence_scores(query_vector, len(dense))
    else:
        bank = np.zeros_like(dense)
    # A bullet too short to be asked about alone ("Hair loss") answers what its list answers.
    by_list = np.zeros(table.list_count, dtype=np.float32)
    np.maximum.at(by_list, table.list_of_member, bank[table.list_members])
    bank[table.list_members] = by_list[table.list_of_member]
    bank_passage = np.zeros(table.chunk_count, dtype=np.float32)
    np.maximum.at(bank_passage, table.chunk_of, bank)
    # The best passages by fused rank, plus those holding the sentences closest to the question:
    # one exact sentence can sit in a passage that the passage-level scores rank low.
    boost = np.zeros_like(dense)
    if next_drugs:
        boost[[i for i, covers in enumerate(table.covers) if covers & next_drugs]] = NEXT_DRUG_BONUS
    by_sentence = {
        int(table.chunk_of[i]) for i in np.argsort(-(dense + boost))[:CANDIDATE_PASSAGES]
    }
    by_sentence |= {int(table.chunk_of[i]) for i in np.argsort(-bank)[:CANDIDATE_PASSAGES]}
    # Each question of a message that asks several is searched on its own too.
    parts = () if part_vectors is None else part_vectors
    part_dense = [closeness(index, [v]) for v in parts]
    for scores in part_dense:
        by_sentence |= {int(table.chunk_of[i]) for i in np.argsort(-scores)[:PART_PASSAGES]}
    candidates = [
        p
        for rank, p in enumerate(passages)
        if rank < CANDIDATE_PASSAGES or p.chunk.id in by_sentence
    ]
    rank_of = {p.chunk.id: rank for rank, p in enumerate(candidates)}
    wants_list = bool(ASKS_FOR_LIST.search(question))
    # Everyday words ("gist", "treatment") count for less than the question's topical words.
    # A drug the question says has failed (`tried`) is the situation, not what the answer is
    # about: a sentence naming it is no closer to "what after regorafenib?" for that.
    groups = [(g, table.weight(g)) for g in key_terms if not g & tried]
    groups += [(g, CONTEXT_WEIGHT * table.weight(g)) for g in context_terms]
    rows, scored = [], []
    for passage in candidates:
        for sentence in table.by_chunk[passage.chunk.id]:
            here = table.covers[sentence.id]
            if subjects and not any(group & here for group in subjects):
                continue  # another treatment: chemo's "hair loss" is no answer about imatinib
            rows.append(
                (
                    float(dense[sentence.id]),
                    table.overlap(groups, here),
                    RANK_BONUS / (1 + rank_of[passage.chunk.id]),
                    passage.dense,
                    float(boost[sentence.id] > 0),
                    float(table.is_pointer[sentence.id]),
                    # "There are several types of X:" does not say what X is
                    float(sentence.introduces_list is not None and not wants_list),
                    math.log1p(passage.lexical) / 3,
                    float(sentence.list_id is not None),
                    float(bank_passage[passage.chunk.id]),
                )
            )
            scored.append((sentence, passage))
    part_scores: list[np.ndarray] = []
    pairs: list[tuple[Sentence, Passage]] = []
    if scored:
        features = np.array(rows, dtype=np.float32)
        if collect is not None:
            collect.extend(zip(scored, features, strict=True))
        scores = features @ ranking.weights + ranking.bias
        # Each part's own scores: the same features, with its own similarity in place of the
        # whole question's, and no word overlap (that counts the whole question's words).
        ids = np.array([s.id for s, _ in scored])
        part_scores = [
            scores
            + ranking.weights[0] * (d[ids] - features[:, 0])
            - ranking.weights[1] * features[:, 1]
            for d in part_dense
        ]
        pairs = scored
        scored = [(float(x), s, p) for x, (s, p) in zip(scores, pairs, strict=True)]
    bank_similarity = float(bank.max()) if len(bank) else 0.0
    if index.bank is not None:
        for view in others:
            scores = index.bank.sentence_scores(view, len(dense))
            bank_similarity = max(bank_similarity, float(scores.max()))
    if not scored:
        return Selection((), 0.0, 0.0, bank_similarity)
    scored.sort(key=lambda row: -row[0])
    best = scored[0][0]
    picked = Picked(table, wants_list)
    for score, sentence, passage in scored:
        # A lead-in or the sentence a pick leans on does not use up a slot: a bullet under its
        # list's lead-in is one point, not two.
        if picked.picks >= MAX_SENTENCES or (picked.chosen and score < best - SCORE_GAP):
            break
        picked.take(sentence, passage)
    # A message asking several things: each question's best sentence, if the answer has room
    # for its words (MAX_WORDS; MAX_SENTENCES bounds the pass above, not these).
    for own in part_scores:
        sentence, passage = pairs[int(np.argmax(own))]
        if sentence.id not in picked.chosen:
            picked.take(sentence, passage)
    chosen, owner, words = picked.chosen, picked.owner, picked.words
    # What the decision to answer rests on: the sentences chosen for the question and its
    # parts, before the completion below adds what finishes their points.
    support = frozenset().union(*(table.covers[i] for i in chosen))
    top_similarity = max(float(dense[i]) for i in chosen)
    coverage = table.overlap([(g, table.weight(g)) for g in key_terms], support)
    complete(table, chosen, owner, dense, top_similarity, words)
    groups: dict[int, tuple[Passage, list[Sentence]]] = {}
    for sentence_id, sentence in chosen.items():
        passage = owner[sentence_id]
        groups.setdefault(passage.chunk.id, (passage, []))[1].append(sentence)
    ordered = tuple(
        (passage, tuple(sorted(sentences, key=lambda s: s.position)))
        for passage, sentences in groups.values()
    )
    return Selection(ordered, top_similarity, coverage, bank_similarity)


def complete(table: SentenceTable, chosen: dict, owner: dict, dense, top: float, words: int):
    """A chosen sentence often opens a point that the next sentences of its passage finish
    ("...is an option." then how it is done and why it helps). Quote those too, in order, while
    they stay on the question and the answer stays within MAX_WORDS."""
    for sentence in sorted(chosen.values(), key=lambda s: -float(dense[s.id])):
        neighbours = table.by_chunk[sentence.chunk_id]
        position = sentence.position + 1
        while position < len(neighbours):
            following = neighbours[position]
            cost = len(following.text.split())
            if (
                following.id in chosen
                or following.list_id is not None
                or table.is_pointer[following.id]
                or float(dense[following.id]) < top - COMPLETION_MARGIN
                or words + cost > MAX_WORDS
            ):
                break
            if following.introduces_list is not None:
                # A lead-in without its list says nothing; with a short list, it finishes the
                # point ("...can cause other side effects:" and what they are).
                if table.list_words(following.introduces_list) <= SHORT_LIST_WORDS:
                    for s in [following, *table.list_items(following.introduces_list)]:
                        chosen[s.id] = s
                        owner[s.id] = owner[sentence.id]
                break
            chosen[following.id] = following
            owner[following.id] = owner[sentence.id]
            words += cost
            position += 1


def render(selection: Selection) -> str:
    """Markdown: each passage's sentences in document order, lists as bullets; [n] closes
    every run of prose or bullets, so each quoted line is followed by its citation."""
    blocks = []
    for n, (_, sentences) in enumerate(selection.groups, start=1):
        lines: list[str] = []
        prose: list[str] = []
        for i, sentence in enumerate(sentences):
            if sentence.list_id is None:
                prose.append(sentence.text)
                continue
            if prose:
                lines.append(" ".join(prose) + f" [{n}]")
                prose = []
            last_bullet = i + 1 == len(sentences) or sentences[i + 1].list_id != sentence.list_id
            lines.append(f"{BULLET}{sentence.text}" + (f" [{n}]" if last_bullet else ""))
        if prose:
            lines.append(" ".join(prose) + f" [{n}]")
        # A blank line after a list, or Markdown would fold the next prose into the last bullet.
        text = lines[0]
        for before, line in zip(lines, lines[1:], strict=False):
            text += (
                "\n\n" if before.startswith(BULLET) and not line.startswith(BULLET) else "\n"
            ) + line
        blocks.append(text)
    return "\n\n".join(blocks)
