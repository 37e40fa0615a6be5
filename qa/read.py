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
    r"looking for)\b|\bwondering (if|whether|what|how|why|about)\b|\bany (idea|info|advice)\b",
    re.IGNORECASE,
)
MIN_CONTENT = 2  # topical words a question part needs before it is searched alone
# A second question joined to the first inside one sentence: "what is X and when is it used".
JOINED_QUESTION = re.compile(
    r"\s*,?\s+(?:and|or|also|plus)\s+(?=(?:what|how|when|why|where|which|who|is|are|can|could|"
    r"do|does|will|should)\b)",
    re.IGNORECASE,
)
MAX_PARTS = 3


@dataclass(frozen=True)
class Reading:
    """What a message asks (`focus`) and what surrounds it (`context`, earliest first)."""

    message: str
    sentences: tuple[str, ...]
    focus: str
    context: tuple[str, ...]
    asking: bool = True  # some sentence asks something (else the message only tells)


def asks(sentence: str) -> bool:
    return sentence.rstrip().endswith("?") or bool(
        ASKING_OPENER.search(sentence) or ASKING_INSIDE.search(sentence)
    )


def read_message(message: str, content_words) -> Reading:
    """Split a cleaned message into sentences; the question sentences are the focus.

    `content_words(text)` counts the words of a text that the corpus knows as a topic. A
    question too bare to search by itself ("What now?") takes the sentence before it, and so
    on, until it names something; the other sentences are kept as context, the way earlier
    questions of a conversation are, so "those" and "it" can still be resolved.
    """
    sentences = tuple(split_sentences(message)) or (message,)
    asking = [i for i, s in enumerate(sentences) if asks(s)]
    if len(sentences) == 1 or not asking:
        return Reading(message, sentences, message, (), bool(asking))
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
    thing."""
    asked = [s for s in reading.sentences if asks(s)] or [reading.focus]
    parts = tuple(
        part for s in asked for part in JOINED_QUESTION.split(s) if len(part.split()) >= 2
    )
    return parts[:MAX_PARTS] if len(parts) >= 2 else ()
