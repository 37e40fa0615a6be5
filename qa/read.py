"""Read a message as people write it: find the question among greetings, feelings and story."""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.text import split_sentences

# A sentence asks something when it ends with "?" or opens the way English questions and
# requests open. These are grammar words, the same for any topic.
ASKING_OPENER = re.compile(
    r"^(?:(?:and|but|so|also|then|ok|okay|please|pls|plz)\W+)*"
    r"(what|what's|whats|how|how's|hows|which|why|when|where|who|whom|whose|"
    r"is|are|was|were|am|do|does|did|can|could|will|would|should|shall|may|might|must|"
    r"has|have|had|isn't|aren't|don't|doesn't|can't|won't|"
    r"tell|explain|describe|list|define|give|show|help|any|anything|info|information)\b",
    re.IGNORECASE,
)
ASKING_INSIDE = re.compile(
    r"\b(i|we)('d| would)? (want|wanted|need|needed|like|would like|wish) to (know|understand|"
    r"learn|find out|ask)\b|\b(i'?m|i am|we'?re|we are) (wondering|curious|trying to understand|"
    r"looking for)\b|\bwondering (if|whether|what|how|why|about)\b|\bany (idea|info|advice)\b|"
    # A question run on after a statement with no stop between ("i cant drive no more who can
    # take me ...", "... is there help for that", "... do i still get help"): a question word
    # and a modal verb, "is there" and what there is, or a verb before its subject. Not "is"
    # after a question word: "my husband, who is 64," and "the tumor, which is 5 cm," tell.
    r"\b(what|how|who|which|when|where|why) (can|could|do|does|did|will|would|should)\b|"
    r"\b(is|are) there (any|a|an|anything|anyone|someone|something|help|way|more|other)\b|"
    r"(?<!to )\b(do|does|did|can|could|will|would|should) (i|you|he|she|we|they)\b",
    re.IGNORECASE,
)
# A question run on after a statement behind a comma, dash or "and"/"but"/"or" ("my eyes are
# puffy since the pills, is that from them", "... and can it still be removed"): the clause
# opens with a verb before its subject. "is"/"are" count only before a pronoun ("..., is that
# normal"), so "... and is the main carer" tells; "so is he" tells too ("so" is left out). Not
# "were"/"should", which also open a condition: "..., were it not for my kids", "... and
# should the bleeding start again we call 911" tell.
CLAUSE_QUESTION = re.compile(
    r"(?:[,;:\u2013\u2014]|\s-|\b(?:and|but|or)\b)\s*"
    r"(?:(?:is|are|isn't|aren't)\s+(?:it|that|this|there|these|those|he|she|they)|"
    r"(?:can|could|will|would|can't|won't)\s+(?:it|that|this|there|these|those|the|my|his|"
    r"her|their|our|your))\b",
    re.IGNORECASE,
)
# A few words with no sentence end ("sunitinib side effects", "gleevec tumor bleeding") are
# a look-up: what people type into a search box asks, though it has no question's grammar.
LOOKUP_WORDS = 4
MIN_CONTENT = 2  # topical words a question part needs before it is searched alone
# A second question joined to the first inside one sentence: "what is X and when is it used",
# "... and can I still work?". After "and", a verb like "is" asks only when a subject follows
# it: "he had surgery and is doing well" is one statement.
JOINED_QUESTION = re.compile(
    r"\s*,?\s+(?:and|or|also|plus)\s+(?=(?:what|how|when|why|where|which|who)\b|"
    r"(?:is|are|can|could|do|does|did|will|would|should|may|might)\s+"
    r"(?:it|i|he|she|they|we|you|this|that|there|these|those|my|his|her|their|our|the)\b)",
    re.IGNORECASE,
)
MAX_PARTS = 3
# A sentence end or line break before the text's own end: only then can there be two sentences.
INNER_BREAK = re.compile(r"[.!?\n\r\u2026\u3002]")
TRAILING = " .!?\"')\u2019\u201d"


@dataclass(frozen=True)
class Reading:
    """What a message asks (`focus`) and what surrounds it (`context`, earliest first)."""

    message: str
    sentences: tuple[str, ...]
    focus: str
    context: tuple[str, ...]
    asking: bool = True  # some sentence asks something (else the message only tells)


def one_sentence(text: str) -> bool:
    """No sentence end before the text's last word: one sentence, without asking pysbd, which
    costs 0.4 ms even then (7% of answering a question). Checked against pysbd on every eval
    question it applies to (tests/test_text_units.py)."""
    return bool(text.strip()) and not INNER_BREAK.search(text.strip().rstrip(TRAILING))


def asks(sentence: str) -> bool:
    return sentence.rstrip().endswith("?") or bool(
        ASKING_OPENER.search(sentence)
        or ASKING_INSIDE.search(sentence)
        or CLAUSE_QUESTION.search(sentence)
    )


def looks_up(message: str) -> bool:
    text = message.strip()
    return len(text.split()) <= LOOKUP_WORDS and not text.endswith((".", "!"))


def read_message(message: str, content_words) -> Reading:
    """Split a cleaned message into sentences; the question sentences are the focus.

    `content_words(text)` counts the words of a text that the corpus knows as a topic. A
    question too bare to search by itself ("What now?") takes the sentence before it, and so
    on, until it names something; the other sentences are kept as context, the way earlier
    questions of a conversation are, so "those" and "it" can still be resolved.
    """
    sentences = (
        (message.strip(),) if one_sentence(message) else tuple(split_sentences(message))
    ) or (message,)
    asking = [i for i, s in enumerate(sentences) if asks(s)]
    if len(sentences) == 1 or not asking:
        return Reading(message, sentences, message, (), bool(asking) or looks_up(message))
    chosen = set(asking)
    first = asking[0]
    while first > 0 and content_words(" ".join(sentences[i] for i in sorted(chosen))) < MIN_CONTENT:
        first -= 1
        chosen.add(first)
    focus = " ".join(sentences[i] for i in sorted(chosen))
    context = tuple(s for i, s in enumerate(sentences) if i not in chosen)
    return Reading(message, sentences, focus, context)


def question_parts(reading: Reading) -> tuple[str, ...]:
    """The separate questions of a message that asks more than one ("is it a pill? how often
    do you take it?", "what is ablation and when is it used"); () for a message that asks one
    thing or only tells."""
    if not reading.asking:
        return ()
    parts: list[str] = []
    for sentence in (s for s in reading.sentences if asks(s)):
        for part in JOINED_QUESTION.split(sentence):
            if len(part.split()) >= 2 and asks(part) and part not in parts:
                parts.append(part)
    return tuple(parts[:MAX_PARTS]) if len(parts) >= 2 else ()
