"""The answering object: load the index and model once, then answer many questions."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexer.embed import default_model, embed
from indexer.lexical import terms, words
from indexer.store import DEFAULT_INDEX_DIR, Index, load_index
from indexer.text import split_sentences
from qa.abstain import AbstainModel, Evidence, load_abstain_model
from qa.compose import SentenceTable, render, select
from qa.ranking import load_ranking
from qa.read import question_parts, read_message
from qa.records import (
    ANSWER,
    EMERGENCY,
    INPUT_ERROR,
    NOT_COVERED,
    PERSONAL_ADVICE,
    Answer,
    Citation,
)
from qa.retrieve import retrieve
from qa.safety import MEDICAL, SELF_HARM, SafetyGate, read_alone
from qa.texts import load_texts
from qa.understand import ENGLISH_SHARE, Understander, clean

MAX_QUESTION_CHARS = 1000
RELATED_PASSAGES = 3
LOOK_BACK = 3  # how many "...that one too?" steps a conversation may chain
MAX_HISTORY = 20  # earlier questions looked at; only the last few can name the topic anyway
LEXICAL_SCALE = 3.0  # log(1 + BM25) is about 0-3 on this corpus
IN_SCOPE = "in_scope"  # the scope classifier class for what the pages cover
# A topic pattern (corpus/scope.json) is overruled when the scope classifier is this sure the
# question is one the pages cover. On the tuning sets, 0.8 frees 5 answerable questions that
# a pattern refused and lets through 1 out-of-scope one (then refused by the abstain decision).
SCOPE_OVERRULES = 0.8
NOTICES = {MEDICAL: "emergency", SELF_HARM: "crisis"}
# The scope classifier's kinds of out-of-scope question, and the notice that explains each.
SCOPE_NOTICES = {
    "other_cancer": "other_cancer",
    "dose": "dose",
    "cost": "cost",
    "pregnancy": "pregnancy",
    "prognosis": "prognosis",
    "other_drug": "unnamed_drug",
    "lifestyle": "diet_lifestyle",
    "causes_symptoms_diagnosis": "other_topic",
    "chit_chat": "chit_chat",
    "injection": "injection",
}


class InvalidQuestion(ValueError):
    """The question is not text (batch files can hold numbers or nulls)."""


class QA:
    """Answers questions from one loaded index; safe to share between threads (read-only)."""

    def __init__(self, index: Index, model=None, ranking=None, abstain: AbstainModel | None = None):
        self.index = index
        self.model = model if model is not None else index.question_model()
        self.texts = load_texts()
        self.table = SentenceTable(index)
        corpus_words = frozenset(w for c in index.chunks for w in words(f"{c.section} {c.text}"))
        self.understander = Understander(self.texts, index.lexical.vocabulary, corpus_words)
        heads = index.heads or {}
        self.gate = SafetyGate(self.texts, heads.get("safety"))
        self.scope = heads.get("scope")
        self.abstain = abstain or load_abstain_model()
        # The fitted sentence weights; python -m eval.fit_ranking passes the hand-set ones.
        self.ranking = ranking or load_ranking()
        # Set to a list by python -m eval.fit_ranking to receive every candidate sentence with
        # its features; None in service.
        self.collect: list | None = None

    @classmethod
    def load(cls, index_dir: Path = DEFAULT_INDEX_DIR, model_name: str | None = None) -> QA:
        """Load a verified index and its model; raises the index's named errors."""
        return cls(load_index(index_dir, model_name or default_model()))

    def _record(self, started, query, category, notice="", answer="", citations=(), **extra):
        return Answer(
            answer=answer,
            notice=notice,
            # An emergency notice may come with the pages' answer to the question asked; a
            # request to decide for someone is declined even when general facts are quoted.
            abstained=category in (NOT_COVERED, INPUT_ERROR, PERSONAL_ADVICE) or not answer,
            citations=tuple(citations),
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            query=query,
            category=category,
            **extra,
        )

    def answer(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer one question (with earlier questions of the conversation, if any)."""
        record = self._answer(question, history, look_back=LOOK_BACK)
        if record.category in (ANSWER, PERSONAL_ADVICE, NOT_COVERED) and self._foreign(question):
            # Written in another language: English quotes matched through mangled words are no
            # answer; whatever it asks, say where help is. An emergency keeps its notice.
            return replace(
                record,
                answer="",
                citations=(),
                sentences=(),
                abstained=True,
                category=NOT_COVERED,
                reason="other_language",
                notice=self.texts.notice("other_language"),
            )
        return record

    def _foreign(self, question: str) -> bool:
        return self.understander.speller.known_share(clean(question)) < ENGLISH_SHARE

    def _introduced(self, history: list[str], look_back: int) -> tuple[str, ...]:
        """What the answer to the last question brought up: that answer is worked out again
        (one more ~15 ms search), because a conversation's record keeps only its questions."""
        last = self._answer(history[-1], history[:-1], look_back=look_back - 1)
        said = " ".join([*last.sentences, *(c.text for c in last.citations)])
        return self.understander.new_subjects(
            self.understander.expand(clean(history[-1]).lower()), said
        )

    def _answer(self, question, history, look_back: int) -> Answer:
        started = time.perf_counter()
        if not isinstance(question, str):
            raise InvalidQuestion(f"question must be text, not {type(question).__name__}")
        if history is not None and not isinstance(history, list | tuple):
            raise InvalidQuestion("history must be a list of earlier questions")
        # Read at most a few times the limit: a 100,000-character paste is refused at once.
        text = clean(question[: MAX_QUESTION_CHARS * 4])
        if not text:
            return self._record(started, "", INPUT_ERROR, self.texts.notice("empty"))
        if len(text) > MAX_QUESTION_CHARS or len(question) > MAX_QUESTION_CHARS * 4:
            # Too long to answer well, but never too long to be read for an emergency.
            kind = self._emergency_in(text)  # all of it (up to 4x the limit), sentence by sentence
            if kind:
                return self._record(started, "", EMERGENCY, self.texts.notice(NOTICES[kind]))
            notice = self.texts.notice("too_long", max_chars=MAX_QUESTION_CHARS)
            return self._record(started, "", INPUT_ERROR, notice, reason="too_long")
        history = [h for h in (history or [])[-MAX_HISTORY:] if isinstance(h, str)]
        spelled = self.understander.fix_typos(text.lower())
        reading = read_message(
            spelled, self.understander.content_count, self.understander.subject_words
        )
        introduced = ()
        if look_back and self.understander.refers_to_last_answer(reading.focus, history):
            introduced = self._introduced(history, look_back)
        # The story around the question is read like earlier turns of a conversation: it can
        # name what "it" or "those" stands for, but it is not what is asked.
        understood = self.understander.understand(
            reading.focus, [*history, *reading.context], introduced
        )
        # One forward pass: the question part as written, typos fixed (searched and classified:
        # the classifiers learnt plain messages; lay-word expansions only feed BM25) and, for a
        # message of several sentences, the whole message (read for emergencies too: one
        # frightened line inside a long story is enough). Sentence by sentence was tried: a
        # short "i can't sleep." alone looks like a crisis, and 40% of dev questions got one.
        # Embedding the expanded text as well was measured: dev hit@1 0.694 -> 0.685, out of
        # scope refused 0.914 -> 0.886, 1.6x the latency. (Sentences are also read alone for a
        # crisis, below, at a much higher bar and only when long: qa/safety.SENTENCE_SURE.)
        texts = [understood.text]
        sentences: tuple[str, ...] = ()
        if len(reading.sentences) > 1:
            texts.append(reading.message)
        if len(reading.said) > 1:
            sentences = read_alone(reading.said)  # for an emergency, too
        parts = question_parts(reading)
        # A bare question with what the story names ("how is it treated (gist)") is searched
        # as one more view: the story's own words ("my baby brother") pull the question's
        # embedding away from the pages, but they stay what is classified and judged.
        bare = [reading.bare] if reading.bare else []
        vectors = embed(self.model, texts + list(parts) + bare)
        views = vectors[len(texts) + len(parts) :]
        part_vectors = vectors[len(texts) : len(texts) + len(parts)] if parts else None
        vectors = vectors[: len(texts)]
        # A batch of its own: in one with the whole message, every sentence is padded to the
        # message's length (dev_realistic p50 11.8 -> 15.9 ms that way).
        sentence_vectors = embed(self.model, list(sentences)) if sentences else None
        query_vector = vectors[0]
        verdict = self.gate.check(text.lower(), texts, vectors, sentences, sentence_vectors)
        # The scope classifier, read once: it can overrule a topic pattern, it is a feature of
        # the decision to answer, and it names the notice of a refusal. It reads the question
        # part and, for a message of several sentences, the whole message: "is he wrong?" says
        # what it asks only with the sentence before it.
        scope = self.scope.strongest(vectors, texts) if self.scope else None
        if verdict.not_covered and scope is not None and scope[IN_SCOPE] >= SCOPE_OVERRULES:
            # A topic word in a question about what the pages cover ("alcohol" ablation, "how
            # long do I have to lie on the table"): retrieval and the abstain decision judge it.
            verdict = replace(verdict, not_covered="")
        partly = ""
        if verdict.not_covered and any(not self.gate.out_of_scope(part) for part in parts):
            # One of several questions is about what the pages do not cover ("am i going to die
            # from this? what are the side effects of gleevec"): the others are still answered,
            # with the notice that explains the one that is not.
            partly, verdict = verdict.not_covered, replace(verdict, not_covered="")
        if verdict.near_crisis and (verdict.not_covered or not reading.asking):
            # Close to a crisis and asking nothing the pages answer: what it says is the
            # feelings, and they get the crisis notice.
            verdict = replace(verdict, emergency=SELF_HARM, near_crisis=False)
        if verdict.emergency:
            category, notice = EMERGENCY, self.texts.notice(NOTICES[verdict.emergency])
        elif verdict.personal_advice:
            category, notice = PERSONAL_ADVICE, self.texts.notice("personal_advice")
        else:
            category, notice = ANSWER, ""
        if verdict.not_covered:
            # An emergency keeps its notice; the out-of-scope part is simply not answered.
            if category == EMERGENCY:
                return self._record(started, understood.text, category, notice)
            notice = self.texts.notice(verdict.not_covered)
            return self._record(
                started, understood.text, NOT_COVERED, notice, reason=verdict.not_covered
            )
        if category == EMERGENCY and (verdict.personal_advice or not reading.asking):
            # The notice alone when the message asks nothing ("he collapsed and isn't
            # breathing"), or asks to decide for someone: that is the care team's.
            return self._record(started, understood.text, category, notice)
        # The whole message is searched beside its question: the story often names what the
        # question leaves out (tuning sets: hit@1 +0.01 to +0.02, out of scope refused the same).
        searched = np.vstack([vectors, views])
        passages = retrieve(self.index, searched, terms(understood.search_text))
        selection = select(
            self.table,
            passages,
            query_vector,
            understood.key_terms,
            understood.text,
            understood.context_terms,
            self.understander.subject_groups(understood.key_terms)
            + ((understood.next_drugs,) if understood.next_drugs else ()),
            understood.next_drugs,
            understood.tried,
            ranking=self.ranking,
            # Only the question asked, not the earlier one re-answered for "that one too?".
            collect=self.collect if look_back == LOOK_BACK else None,
            other_views=searched[1:],
            part_vectors=part_vectors,
        )
        evidence = self._evidence(understood, selection, passages, scope)
        covered = bool(selection.groups) and self.abstain.answers(evidence)
        if not covered:
            if verdict.near_crisis:  # nothing to answer: the feelings are what it says
                notice = self.texts.notice(NOTICES[SELF_HARM])
                return self._record(started, understood.text, EMERGENCY, notice, evidence=evidence)
            if category == ANSWER:
                reason = self._scope_reason(scope)
                category, notice = NOT_COVERED, self.texts.notice(reason)
            elif category == PERSONAL_ADVICE:
                notice = f"{notice} {self.texts.notice('not_covered_short')}"
            # An emergency's notice stands alone: nothing else to read before calling.
            return self._record(
                started, understood.text, category, notice, reason="not_found", evidence=evidence
            )
        # Lines beside an answer: 988 for a message close to a crisis (first, before a
        # personal-advice notice too: the one that matters more if it is one), when to call
        # 911 for one close to a medical emergency.
        lines = [self.texts.notice("support")] if verdict.near_crisis else []
        lines += [notice] if notice else []
        lines += [self.texts.notice(partly)] if partly else []
        if verdict.near_emergency and category == ANSWER:
            lines.append(self.texts.notice("when_to_call"))
        notice = " ".join(lines)
        return self._record(
            started,
            understood.text,
            category,
            notice,
            render(selection),
            self._citations(selection, passages),
            sentences=tuple(s.text for _, ss in selection.groups for s in ss),
            evidence=evidence,
        )

    def _emergency_in(self, text: str) -> str:
        """The kind of emergency a text shows, if any (patterns and classifier, on the text
        and on each of its long enough sentences: the longest messages dilute a crisis most)."""
        lowered = text.lower()
        sentences = read_alone(split_sentences(lowered))
        sentence_vectors = embed(self.model, list(sentences)) if sentences else None
        verdict = self.gate.check(
            lowered, [lowered], embed(self.model, [lowered]), sentences, sentence_vectors
        )
        # Not answered (too long to read well), so close to a crisis is the crisis notice.
        return verdict.emergency or (SELF_HARM if verdict.near_crisis else "")

    @staticmethod
    def _scope_reason(scope: dict[str, float] | None) -> str:
        """The notice for an abstention: the kind of question the scope classifier sees."""
        if scope is None:
            return "not_covered"
        return SCOPE_NOTICES.get(max(scope, key=scope.get), "not_covered")

    def _evidence(self, understood, selection, passages, scope) -> Evidence:
        """What retrieval found, as the features the abstain decision is fitted on."""
        known = len(understood.key_terms)
        # Everyday English words the pages happen not to use ("baby", "coffee") say nothing
        # about whether the pages answer; a word no dictionary knows (a drug the pages never
        # name, a test) does. Topic is the scope classifier's to judge.
        rare = [w for w in understood.unknown_terms if w not in self.understander.speller.common]
        content = known + len(rare)
        by_lexical = sorted(passages, key=lambda p: -p.lexical)[:3]
        best_dense = max(passages, key=lambda p: p.dense)
        return Evidence(
            sentence_similarity=selection.top_similarity,
            passage_similarity=best_dense.dense,
            # A question of everyday words only ("how is it treated") has none of its own
            # to miss: 0 here read as "nothing it names is covered".
            coverage=selection.coverage if understood.key_terms else 1.0,
            # Only everyday words ("how is it treated"): nothing unknown counts against it.
            known_share=known / content if content else 1.0,
            lexical=math.log1p(max(p.lexical for p in passages)) / LEXICAL_SCALE,
            agreement=float(best_dense.lexical > 0 and best_dense in by_lexical),
            in_scope=1.0 if scope is None else scope[IN_SCOPE],
            bank=selection.bank_similarity,
        )

    def _citations(self, selection, passages) -> list[Citation]:
        """Quoted passages first, in answer order; then related passages from other sections."""
        citations = [
            self._citation(n, passage, True)
            for n, (passage, _) in enumerate(selection.groups, start=1)
        ]
        seen = {c.section for c in citations}
        for passage in passages:
            if len(citations) >= RELATED_PASSAGES:
                break
            if passage.chunk.section not in seen:
                citations.append(self._citation(len(citations) + 1, passage, False))
                seen.add(passage.chunk.section)
        return citations

    @staticmethod
    def _citation(n, passage, quoted) -> Citation:
        chunk = passage.chunk
        return Citation(
            n=n,
            page=chunk.page,
            section=chunk.section,
            url=chunk.url,
            link=chunk.link,
            text=chunk.text,
            score=round(passage.score, 4),
            review_date=chunk.review_date,
            quoted=quoted,
        )
