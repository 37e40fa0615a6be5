"""The answering object: load the index and model once, then answer many questions."""

from __future__ import annotations

import time
from pathlib import Path

from indexer.embed import default_model, embed
from indexer.lexical import terms, words
from indexer.store import DEFAULT_INDEX_DIR, Index, load_index
from qa.compose import SentenceTable, needed_coverage, render, select
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
from qa.safety import SafetyGate
from qa.texts import load_texts
from qa.understand import Understander, clean

MAX_QUESTION_CHARS = 1000
# Below this cosine similarity the best sentence is not about the question at all.
MIN_SIMILARITY = 0.30
# With no topical word to check ("what are the options?"), ask for a clearly closer match.
MIN_SIMILARITY_NO_TERMS = 0.45
# When every topical word is in the quoted text, a rare word ("mitotic") may embed poorly.
MIN_SIMILARITY_ALL_TERMS = 0.10
RELATED_PASSAGES = 3
LOOK_BACK = 3  # how many "...that one too?" steps a conversation may chain
MAX_HISTORY = 20  # earlier questions looked at; only the last few can name the topic anyway


class InvalidQuestion(ValueError):
    """The question is not text (batch files can hold numbers or nulls)."""


class QA:
    """Answers questions from one loaded index; safe to share between threads (read-only)."""

    def __init__(self, index: Index, model=None):
        self.index = index
        self.model = model if model is not None else index.question_model()
        self.texts = load_texts()
        self.table = SentenceTable(index)
        corpus_words = frozenset(w for c in index.chunks for w in words(f"{c.section} {c.text}"))
        self.understander = Understander(self.texts, index.lexical.vocabulary, corpus_words)
        self.gate = SafetyGate(self.texts)

    @classmethod
    def load(cls, index_dir: Path = DEFAULT_INDEX_DIR, model_name: str | None = None) -> QA:
        """Load a verified index and its model; raises the index's named errors."""
        return cls(load_index(index_dir, model_name or default_model()))

    def _record(self, started, query, category, notice="", answer="", citations=(), **extra):
        return Answer(
            answer=answer,
            notice=notice,
            abstained=category not in (ANSWER, PERSONAL_ADVICE) or not answer,
            citations=tuple(citations),
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            query=query,
            category=category,
            **extra,
        )

    def answer(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer one question (with earlier questions of the conversation, if any)."""
        return self._answer(question, history, look_back=LOOK_BACK)

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
            notice = self.texts.notice("too_long", max_chars=MAX_QUESTION_CHARS)
            return self._record(started, "", INPUT_ERROR, notice, reason="too_long")
        verdict = self.gate.check(text.lower())
        if verdict.emergency:
            return self._record(started, text, EMERGENCY, self.texts.notice("emergency"))
        if verdict.not_covered:
            notice = self.texts.notice(verdict.not_covered)
            return self._record(started, text, NOT_COVERED, notice, reason=verdict.not_covered)
        history = [h for h in (history or [])[-MAX_HISTORY:] if isinstance(h, str)]
        introduced = ()
        if look_back and self.understander.refers_to_last_answer(text, history):
            introduced = self._introduced(history, look_back)
        understood = self.understander.understand(text, history, introduced)
        category = PERSONAL_ADVICE if verdict.personal_advice else ANSWER
        if understood.unknown_terms:
            return self._abstain(started, understood.text, category, "unknown_terms")
        query_vector = embed(self.model, [understood.search_text])[0]
        passages = retrieve(self.index, query_vector, terms(understood.search_text))
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
        )
        if not selection.groups:
            return self._abstain(started, understood.text, category, "subject_not_found")
        covered = selection.covered
        floor = MIN_SIMILARITY if understood.key_terms else MIN_SIMILARITY_NO_TERMS
        if understood.key_terms and covered == len(understood.key_terms):
            # Every topical word is in the quoted text: rare words ("mitotic") embed poorly.
            floor = MIN_SIMILARITY_ALL_TERMS
        if selection.top_similarity < floor:
            return self._abstain(started, understood.text, category, "low_similarity")
        if covered < needed_coverage(len(understood.key_terms)):
            return self._abstain(started, understood.text, category, "terms_not_covered")
        citations = self._citations(selection, passages)
        notice = self.texts.notice("personal_advice") if category == PERSONAL_ADVICE else ""
        return self._record(
            started,
            understood.text,
            category,
            notice,
            render(selection),
            citations,
            sentences=tuple(s.text for _, ss in selection.groups for s in ss),
        )

    def _abstain(self, started, query, category, reason) -> Answer:
        notice = self.texts.notice("not_covered")
        if category == PERSONAL_ADVICE:
            notice = f"{self.texts.notice('no_personal_advice')} {notice}"
        return self._record(started, query, NOT_COVERED, notice, reason=reason)

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
