"""Correct misspelt words against the corpus's own vocabulary and common English (SymSpell)."""

from __future__ import annotations

import importlib.resources
import re
import string
from functools import cache

from symspellpy import SymSpell, Verbosity

# symspellpy ships an English word list with corpus frequencies (82,765 words). Every word in it
# counts as correctly spelt; only the commoner ones are offered as corrections, which keeps the
# start-up cost (the deletes SymSpell precomputes) to a fraction of a second.
ENGLISH_FILE = "frequency_dictionary_en_82_765.txt"
CORRECTION_MIN_COUNT = 1_000_000
# The corpus's words (and the lexicon's drug names and lay words) win over English ones at the
# same distance: "sutant" is "sutent" here, not "mutant".
DOMAIN_COUNT = 10**12
MIN_LENGTH = 4
TOKEN = re.compile(r"[a-z][a-z']+")


@cache
def english_counts() -> dict[str, int]:
    path = importlib.resources.files("symspellpy") / ENGLISH_FILE
    counts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition(" ")
        counts[word] = int(count)
    return counts


def one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    letters = string.ascii_lowercase
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in letters}
        | {a + c + b for a, b in splits for c in letters}
    )


def plausible(typed: str, word: str, names: frozenset[str]) -> bool:
    """Whether `word` may be what the misspelt `typed` meant. Typists seldom get a word's first
    letter wrong (a few in a hundred real misspellings, in Yannakoudakis and Fawthrop's and in
    Pollock and Zamora's counts); an English word with another first letter is another word:
    "gastro" is not "castro", "herceptin" not "perception", "ibrance" not "branch". The
    corpus's words that are no English word (drug names) may still be reached that way:
    "usnitinib", "lgeevec"."""
    return word[0] == typed[0] or word in names


class Speller:
    """Built once from the domain words; `correct` is a few microseconds per unknown word."""

    def __init__(self, domain_words):
        self.domain = frozenset(w for w in domain_words if w.isalpha())
        english = english_counts()
        self.names = self.domain - frozenset(english)  # drug names and other terms of art
        self.known = self.domain | frozenset(english)
        common = (w for w, count in english.items() if count >= CORRECTION_MIN_COUNT)
        self.common = self.domain | frozenset(common)
        # A 5-letter prefix: 26 MB and 0.17 s to build instead of 64 MB and 0.43 s with 7,
        # and the same corrections on the misspellings tried (drug names, surgery, stomach...).
        self.symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=5)
        for word, count in english.items():
            if count >= CORRECTION_MIN_COUNT and len(word) >= 3:
                self.symspell.create_dictionary_entry(word, count)
        for word in self.domain:
            self.symspell.create_dictionary_entry(word, DOMAIN_COUNT)

    def correct_word(self, word: str) -> str:
        # Words with an apostrophe ("don't", "gist's") are left as typed.
        if len(word) < MIN_LENGTH or word in self.known or not word.isalpha():
            return word
        distance = 1 if len(word) <= 5 else 2
        found = [
            s
            for s in self.symspell.lookup(word, Verbosity.ALL, max_edit_distance=distance)
            if plausible(word, s.term, self.names)
        ]
        closest = [s for s in found if s.distance == min(s.distance for s in found)]
        # A word with the typed first letter first ("evry" is "every", not the corpus's
        # "very"), then the corpus's words, then the commonest English word.
        closest.sort(key=lambda s: (s.term[0] != word[0], s.term not in self.domain, -s.count))
        if closest and closest[0].term in self.domain:
            return closest[0].term
        if not closest or closest[0].distance > 1:
            # Only common words are offered as corrections (SymSpell's start-up cost), so
            # "palpitatons" stayed as typed and "anemia" came out "amelia". A rarer English
            # word one edit away is the nearer reading.
            counts = english_counts()
            nearer = [
                w for w in one_edit(word) if w in self.known and plausible(word, w, self.names)
            ]
            if nearer:
                return max(nearer, key=lambda w: (counts.get(w, 0), w))
        return closest[0].term if closest else word

    def known_share(self, text: str) -> float:
        """The share of a text's words (any script) that are common English or the corpus's:
        low for a message written in another language (the full word list holds rare words
        such as "mich" that other languages use every day)."""
        found = re.findall(r"\w+", text.lower())
        words = [w.replace("'", "") for w in found if not w.isdigit()]
        if not words:
            return 1.0
        return sum(1 for w in words if w in self.common) / len(words)

    def correct(self, text: str) -> str:
        """The (lower-case) text with each unknown word replaced by its closest known word."""
        return TOKEN.sub(lambda m: self.correct_word(m.group(0)), text)
