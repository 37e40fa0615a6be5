"""The question bank: questions people ask that one source sentence answers.

`corpus/training/bank.jsonl` holds about 2,600 of them, written for this purpose from the
pages alone (never from an eval set) in the voices people use: plain, lay words with typos,
2-5 keyword look-ups, a line of story first. Each names the sentence that answers it by a
verbatim phrase. The index build embeds them; at question time a message close to a bank
question points at that question's sentence. The pages say "resect" and "adjuvant"; the bank
says "cut it out" and "after the operation", so lay wording finds the sentence that answers it
without a word list that grows with every failing question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.records import Sentence
from indexer.text import fold

BANK_FILE = "bank.jsonl"
BANK_VECTORS = "bank_vectors.npy"
BANK_SENTENCES = "bank_sentences.npy"


@dataclass(frozen=True)
class BankQuestion:
    question: str
    answer: str  # a verbatim phrase of the sentence that answers it
    page: str


@dataclass(frozen=True)
class Bank:
    """The bank as answering uses it: one vector per question and the sentence it points at."""

    vectors: np.ndarray  # questions x embedding dimension, L2-normalised
    sentences: np.ndarray  # the answering sentence's id, one per question

    def sentence_scores(self, query_vector: np.ndarray, sentence_count: int) -> np.ndarray:
        """Each sentence's closest bank question to the query (cosine); 0 for a sentence no
        bank question points at."""
        best = np.zeros(sentence_count, dtype=np.float32)
        np.maximum.at(best, self.sentences, self.vectors @ query_vector)
        return best


def load_bank_questions(path: Path) -> list[BankQuestion]:
    """The bank file's rows; a missing file is an empty bank."""
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append(BankQuestion(row["question"], row["answer"], row.get("page", "")))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}, line {number}: not a bank row ({error})") from error
    return rows


def locate(
    questions: list[BankQuestion], sentences: list[Sentence], pages: list[str] | None = None
) -> list[int | None]:
    """The id of the sentence holding each question's answer phrase (None when no sentence
    holds it: a phrase across a sentence boundary, or text the corpus no longer has).

    `pages`, one page slug per sentence: a phrase the pages repeat ("some doctors may
    recommend trying other targeted drugs") is found on the page its writer named, not on
    whichever page comes first."""
    folded = [fold(s.text) for s in sentences]
    found: list[int | None] = []
    for question in questions:
        phrase = fold(question.answer)
        holders = [s.id for s, text in zip(sentences, folded, strict=True) if phrase in text]
        named = [i for i in holders if pages is not None and pages[i] == question.page]
        found.append((named or holders or [None])[0])
    return found
