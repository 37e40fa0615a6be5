"""Understand a question: clean it, fix typos that matter, expand lay words, resolve follow-ups."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from indexer.lexical import stem, stopwords, words
from indexer.text import FOLD_QUOTES
from qa.spelling import Speller
from qa.texts import Texts

QUOTES = FOLD_QUOTES  # one table for the product and the eval (indexer/text.py)
# A question that leans on the conversation: a pronoun or a continuation opener.
DEPENDENT = re.compile(
    r"\b(it|its|it's|this|that|these|those|they|them|their|one|ones|same|the drug|the medicine|"
    r"the pill|the treatment|the procedure|the surgery|the operation)\b|"
    r"^(and|also|so|but|what about|how about|and if|what if|then)\b",
    re.IGNORECASE,
)
# "And if that one stops working too?" points at what the previous *answer* brought up
# (after "What if imatinib stops working?", that is sunitinib), not at the previous question.
NEW_REFERENT = re.compile(
    r"\b(that one|this one|the other one|the next one|that drug|the new one|too|as well|instead)\b",
    re.IGNORECASE,
)
# The chain of treatments: after "What if imatinib stops working?" the answer names the next
# drug, and "...that one stops working too?" asks about it.
FAILURE = re.compile(
    r"\b(stops?|stopped|no longer|not working|doesn'?t work|does not work|didn'?t work|fails?|"
    r"failed|resistant|not helping|doesn'?t help|grows again|"
    # "quit" is "stop" in everyday words, said of a drug ("quit working", "quit on me"), not
    # of smoking
    r"quits? (working|on)|"
    # growth that goes on while on a drug ("keeps growing", "still slowly growing"); not
    # "growth" ("keeps the growth under control") nor growing back after surgery
    r"(still|keeps?|kept)\W+(\w+\W+)?growing)\b",
    re.IGNORECASE,
)
# A drug that ends its clause after "after", in a question about what comes next ("options
# after sunitinib?", "after sunitinib, what else?", "after sunitinib options"): that drug has
# been tried. Not a clause of its own ("after imatinib shrinks the tumor, is surgery an
# option?").
AFTER_DRUG = re.compile(
    r"\bafter (?:the |all )?(\w+)(?=\s*(?:[,.?!;]|$)|\s+(?:what|and|or|next|else|options?)\b)"
)
ASKS_NEXT = re.compile(r"\b(next|else|options)\b")
POINTER_PHRASE = re.compile(
    r"\b(that one|this one|the other one|the next one|that drug|the new one|that|it)\b",
    re.IGNORECASE,
)
HISTORY_TURNS = 3
# Below this share of common English (or corpus) words, a message is taken to be in another
# language: it is not answered from English quotes (qa.engine), and its shorthand is not
# written out ("se" is a Spanish word).
ENGLISH_SHARE = 0.5
HISTORY_CHARS = 500


def clean(text: str) -> str:
    """NFKC (full-width letters), no control/format characters or lone surrogates, one space."""
    text = "".join(" " if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    text = unicodedata.normalize("NFKC", text).translate(QUOTES)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in text
    )
    text = re.sub(r"(?<=\d)(?=[a-zA-Z])|(?<=[a-zA-Z])(?=\d)", " ", text)  # "2cm" -> "2 cm"
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Understood:
    """A question ready for search: the text searched and the terms that must be covered."""

    text: str  # cleaned, typos fixed, follow-up resolved; shown to staff as the query
    search_text: str  # text plus lexicon expansions, for embedding and BM25
    key_terms: tuple[frozenset[str], ...]  # per topical word or phrase, the stems that cover it
    unknown_terms: tuple[str, ...]  # topical words the source and the lexicon never use
    context_terms: tuple[frozenset[str], ...] = ()  # everyday words the source also uses
    # After "what if imatinib and sunitinib stop working?", the stems of the next step's drugs:
    # the answer is about regorafenib, not another sentence about the first two.
    next_drugs: frozenset[str] = frozenset()
    # ...and the stems of the drugs said to have failed: the situation, not what is asked.
    tried: frozenset[str] = frozenset()


class Understander:
    """Built once from the lexicon and the corpus vocabulary; cheap per question."""

    def __init__(self, texts: Texts, vocabulary: frozenset[str], corpus_words: frozenset[str]):
        lexicon = texts.lexicon
        self.vocabulary = vocabulary  # stems known to the corpus
        self.variants = lexicon["spelling_variants"]
        self.abbreviations = lexicon.get("abbreviations", {})
        self.generic = frozenset(stem(w) for w in lexicon["generic"]) | frozenset(
            lexicon["generic"]
        )
        expansions: dict[str, str] = dict(lexicon["synonyms"])
        for generic, brands in lexicon["drugs"].items():
            expansions[generic] = " ".join([generic, *brands])
            for brand in brands:
                expansions[brand] = f"{generic} {brand}"
        self.expansions = expansions
        self.known_phrases = frozenset(expansions)
        self.phrase = re.compile(
            r"\b("
            + "|".join(re.escape(p) for p in sorted(expansions, key=len, reverse=True))
            + r")\b"
        )
        # Misspellings are corrected towards the corpus's words and the lexicon's (drug names,
        # lay words), then towards common English.
        # (The variants' targets, not their keys: a misspelling must never be "corrected" to
        # "tumour" or "dont", which the variants then no longer see.)
        self.speller = Speller(
            corpus_words
            | {w for phrase in expansions for w in phrase.split()}
            | set(self.variants.values())
        )
        self.topics = frozenset(stem(w) for w in lexicon.get("topics", []))
        # Brand names count as the generic drug: "that one" after Gleevec is not imatinib.
        self.drugs = {b: g for g, brands in lexicon["drugs"].items() for b in [g, *brands]}
        self.subject_stems = frozenset(stem(w) for w in lexicon.get("subjects", []))
        # The words that name a treatment or a drug, as typed (brand names too).
        self.subject_words = frozenset(lexicon.get("subjects", [])) | frozenset(self.drugs)
        self.sequence = [tuple(step) for step in lexicon.get("drug_sequence", [])]
        self.step = {drug: n for n, names in enumerate(self.sequence) for drug in names}
        self.intents = [
            (re.compile(pattern), words_) for pattern, words_ in lexicon.get("intents", {}).items()
        ]

    def fix_typos(self, text: str) -> str:
        """British spellings and apostrophe-less contractions ("dont", "isnt") to the forms the
        source and the patterns use, then misspellings to the closest known word (SymSpell
        over the corpus vocabulary and common English). The variants come first: SymSpell
        alone turned "isnt" into "int" and "doesnt" into "doesn"."""
        text = re.sub(r"[a-z][a-z'-]+", lambda m: self.variants.get(m.group(0), m.group(0)), text)
        if self.speller.known_share(text) >= ENGLISH_SHARE:
            # Shorthand ("tx", "se", "mets", "u", "b4") written out: the embedding model cannot
            # read it, and "se" is a word of its own in Spanish or French.
            text = re.sub(
                # A whole token: not "u" of "u.s." or "u/s", nor of "2u".
                r"(?<![\w./])[a-z][a-z0-9]*(?![\w/]|\.\w)",
                lambda m: self.abbreviations.get(m.group(0), m.group(0)),
                text,
            )
        return self.speller.correct(text)

    def content_count(self, text: str) -> int:
        """How many of a text's topical words the corpus or the lexicon knows."""
        return sum(1 for w in self.topical_words(self.expand(text)) if self._known(w))

    def _known(self, word: str) -> bool:
        """A word the corpus uses (by stem, or a stem with the same 6-letter start) or the lexicon
        knows. Five letters would make "weight" known through "weigh"."""
        if word in self.known_phrases or word in stopwords():
            return True
        stemmed = stem(word)
        if stemmed in self.vocabulary:
            return True
        prefix = stemmed[:6]
        return len(stemmed) >= 6 and any(
            v.startswith(prefix) and abs(len(v) - len(stemmed)) <= 3 for v in self.vocabulary
        )

    def expand(self, text: str) -> str:
        """The question plus the document's words for its lay words and drug names."""
        extra = [self.expansions[m.group(1)] for m in self.phrase.finditer(text)]
        extra += [words_ for pattern, words_ in self.intents if pattern.search(text)]
        return f"{text} {' '.join(extra)}".strip() if extra else text

    def topical_words(self, text: str) -> list[str]:
        """Words that carry a topic: not stop words, not generic conversation words."""
        return [
            w
            for w in words(text)
            if w not in stopwords() and w not in self.generic and stem(w) not in self.generic
        ]

    def topics_in(self, text: str) -> list[str]:
        """Subject words (drugs by generic name, procedures...) in order, each once."""
        found = (self.drugs.get(w, w) for w in words(text) if stem(w) in self.topics)
        return list(dict.fromkeys(found))

    def new_subjects(self, question: str, answer: str) -> tuple[str, ...]:
        """Subjects an answer brought up that its question did not name; drugs only, when the
        question was about a drug."""
        asked = self.topics_in(question.lower())
        said = [t for t in self.topics_in(answer.lower()) if t not in asked]
        if any(t in self.drugs for t in asked):
            said = [t for t in said if t in self.drugs]
            # An answer may name several later drugs; "the next one" is the nearest step of
            # the source's sequence, whatever order the quoted sentences came in.
            said.sort(key=lambda drug: self.step.get(drug, len(self.step)))
        return tuple(said)

    def subject_groups(self, key_terms) -> tuple[frozenset[str], ...]:
        """The key-term groups that name a treatment or drug: the answer must be about one."""
        return tuple(g for g in key_terms if g & self.subject_stems)

    def refers_to_last_answer(self, question: str, history: list[str]) -> bool:
        """ "And if that one stops working too?" after "What if X stops working?"."""
        return bool(history and NEW_REFERENT.search(question) and FAILURE.search(history[-1]))

    def earlier_question(self, earlier) -> str:
        """An earlier question of the conversation, bounded, cleaned and spelled as a new one."""
        return self.fix_typos(clean(str(earlier)[: HISTORY_CHARS * 2])[:HISTORY_CHARS].lower())

    def drugs_named(self, text: str) -> set[str]:
        """The drugs a (lower-case) text names, by generic name."""
        return {self.drugs[w] for w in words(text) if w in self.drugs}

    def resolve(self, text: str, history: list[str], introduced: tuple[str, ...] = ()) -> str:
        """Attach the conversation's topic to a question that names no subject of its own.

        "What are its side effects?" after "What is sunitinib?" searches for sunitinib's side
        effects; "What about surgery?" names its subject and is searched as it is.
        `introduced` are subjects the previous answer brought up that its question did not.
        """
        if not history:
            return text
        own = self.topical_words(self.expand(text))
        if any(stem(w) in self.topics for w in own):
            return text
        if own and not DEPENDENT.search(text) and len(own) > 2:
            return text  # a full question of its own ("how do I find a support group near me")
        if introduced and NEW_REFERENT.search(text):
            named, count = POINTER_PHRASE.subn(introduced[0], text, count=1)
            return named if count else f"{text} ({introduced[0]})"
        earlier = [self.earlier_question(e) for e in reversed(history[-HISTORY_TURNS:])]
        for question in earlier:
            topic = [w for w in self.topical_words(question) if stem(w) in self.topics]
            if topic:
                return f"{text} ({' '.join(dict.fromkeys(topic))})"
        if DEPENDENT.search(text):
            # "...call them?" after a question that names no treatment or drug ("Does the
            # American Cancer Society have programs...?"): "them" is what that question was
            # about, so its topical words the corpus knows are searched with this one.
            known = [w for w in self.topical_words(earlier[0]) if self._known(w)]
            if known:
                return f"{text} ({' '.join(dict.fromkeys(known))})"
        return text

    def understand(
        self, question: str, history: list[str] | None = None, introduced: tuple[str, ...] = ()
    ) -> Understood:
        # The engine passes the question part already cleaned, lower-cased and spelled.
        text = question
        text = self.resolve(text, list(history or []), introduced)
        key_terms, unknown = self.key_terms(text)
        context = tuple(
            frozenset({stem(w)})
            for w in dict.fromkeys(words(text))
            if w not in stopwords()
            and (w in self.generic or stem(w) in self.generic)
            and stem(w) in self.vocabulary
        )
        failed = self.failed_drugs(text, list(history or []))
        next_drugs = self.following(failed)
        tried = self.stems_of(failed) if next_drugs else frozenset()
        return Understood(text, self.expand(text), key_terms, unknown, context, next_drugs, tried)

    def next_drugs(self, text: str, history: list[str]) -> frozenset[str]:
        """For a question about a drug that stopped working, the stems (generic and brand) of
        the source's next step; with "...too", the last question's drugs failed as well."""
        return self.following(self.failed_drugs(text, history))

    def failed_drugs(self, text: str, history: list[str]) -> set[str]:
        """The drugs (generic names) a question says have stopped working or been tried."""
        if FAILURE.search(text):
            failed = self.drugs_named(text)
            if history and NEW_REFERENT.search(text):
                failed |= self.drugs_named(self.earlier_question(history[-1]))
            return failed
        if ASKS_NEXT.search(text):
            return {self.drugs[w] for w in AFTER_DRUG.findall(text) if w in self.drugs}
        return set()

    def following(self, failed: set[str]) -> frozenset[str]:
        """The stems of the step after the last of these drugs in the source's order."""
        steps = [n for n, step in enumerate(self.sequence) if failed & set(step)]
        if not steps or max(steps) + 1 >= len(self.sequence):
            return frozenset()
        return self.stems_of(set(self.sequence[max(steps) + 1]))

    def stems_of(self, generics: set[str]) -> frozenset[str]:
        """The stems of these drugs' generic and brand names."""
        return frozenset(stem(w) for w, generic in self.drugs.items() if generic in generics)

    def key_terms(self, text: str) -> tuple[tuple[frozenset[str], ...], tuple[str, ...]]:
        """Groups of stems the answer must cover (a lexicon phrase is covered by any of its
        words or the document's words for it), and the topical words nobody knows."""
        groups: list[frozenset[str]] = []
        for match in self.phrase.finditer(text):
            phrase = match.group(1)
            if not self.topical_words(phrase):
                continue
            expansion = f"{phrase} {self.expansions[phrase]}"
            groups.append(frozenset(stem(w) for w in words(expansion) if w not in stopwords()))
        unknown = []
        for word in self.topical_words(self.phrase.sub(" ", text)):
            if self._known(word):
                groups.append(frozenset({stem(word)}))
            else:
                unknown.append(word)
        return tuple(dict.fromkeys(groups)), tuple(unknown)
