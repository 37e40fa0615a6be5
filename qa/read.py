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
    # A question asked for someone else ("my wife wants to know what that means", "he keeps
    # asking me whether it will shrink"): an indirect question, whoever its subject is.
    # Not "nobody needs to know", nor "i asked how much is too much" (what was asked before).
    r"\b(wants|wanted|would like|'d like) to (know|understand|find out)\b|"
    r"\b((asks|asking|wonders)( (me|us|him|her|them))?|asked (me|us)) (if|whether|what|how|"
    r"why|when|which)\b|"
    # "... since the pills is that normal": "is that" after a word, with no comma before it
    # (CLAUSE_QUESTION has the comma's). Not "is it": "this is it for me" tells.
    r"(?<=\w )(is|are|isn't|aren't) (that|this|these|those) \w|"
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
# The same clause with a treatment as its subject ("..., can chemo do that", "... but will
# surgery help"): which words name a treatment is the lexicon's to say (`subjects`). After
# "and can" a statement goes on with its verb ("he had surgery and can eat again"). Not
# "did"/"does": "... and did it on purpose" tells.
SUBJECT_CLAUSE = re.compile(
    r"(?:[,;:\u2013\u2014]|\s-|\b(?:and|but|or)\b)\s*"
    r"(?:can|could|will|would|can't|won't)\s+([a-z]+)",
    re.IGNORECASE,
)
# A statement and then a question in one sentence, behind a comma or a dash ("im scared, is
# the surgery dangerous?", "my brother has gist - how is it treated"): the question is what is
# asked and the statement is its context, as if it were a sentence of its own. The question
# opens as CLAUSE_QUESTION's do, with "how", "why" or "what is/can/..." and three words or
# more ("no one would notice if i was gone, so why not" tells), or as any question does when
# a question mark ends it. Not after a condition ("if it comes back, can it be removed?"):
# the condition belongs to the question.
CLAUSE_BREAK = re.compile(r"\s*(?:[,;:\u2013\u2014]|\s-)\s+")
WH_CLAUSE = re.compile(
    r"^(?:(?:and|but)\s+)?(?:how|why|"
    r"what(?:'s|s| is| are| can| could| do| does| should| would| will| else| about))\b",
    re.IGNORECASE,
)
# Not a relative clause ("my husband, who is 64, ..."), nor a question that follows from the
# statement ("it has spread to his liver, so why operate?"): that statement is the question's.
CONSEQUENCE = re.compile(r"^(?:who|whom|whose|which|where|when|so|then)\b", re.IGNORECASE)
CONDITION = re.compile(
    r"^(?:if|when|whenever|after|before|since|because|although|though|once|while|unless|"
    r"until|as|even)\b",
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
WORD = re.compile(r"[\w'-]+")
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
    # A question too bare to search alone, with the topical words of the sentences lent to it
    # ("what now? (imatinib)" for "my mom is on imatinib. what now?"); "" when the question
    # names enough to be searched alone.
    bare: str = ""
    # The sentences as written, before a statement and a question in one sentence are read
    # apart: what is read alone for a crisis (a clause alone can be too short to be read).
    said: tuple[str, ...] = ()


def one_sentence(text: str) -> bool:
    """No sentence end before the text's last word: one sentence, without asking pysbd, which
    costs 0.4 ms even then (7% of answering a question). Checked against pysbd on every eval
    question it applies to (tests/test_text_units.py)."""
    return bool(text.strip()) and not INNER_BREAK.search(text.strip().rstrip(TRAILING))


def asks(sentence: str, subjects: frozenset[str] = frozenset()) -> bool:
    """Whether a sentence asks something; `subjects` are the words naming a treatment."""
    return (
        sentence.rstrip().endswith("?")
        or bool(
            ASKING_OPENER.search(sentence)
            or ASKING_INSIDE.search(sentence)
            or CLAUSE_QUESTION.search(sentence)
        )
        or any(m.group(1).lower() in subjects for m in SUBJECT_CLAUSE.finditer(sentence))
    )


def clauses(sentence: str, subjects: frozenset[str] = frozenset()) -> list[str]:
    """[statement, question] for a sentence that tells and then asks behind a comma or dash;
    [sentence] otherwise."""
    for stop in CLAUSE_BREAK.finditer(sentence):
        before, after = sentence[: stop.end()].strip(), sentence[stop.end() :].strip()
        glued = f", {after}"
        question = (
            (WH_CLAUSE.match(after) and len(after.split()) >= 3)
            or (after.endswith("?") and ASKING_OPENER.match(after) and not CONSEQUENCE.match(after))
            or (CLAUSE_QUESTION.match(glued))
            or ((m := SUBJECT_CLAUSE.match(glued)) and m.group(1).lower() in subjects)
        )
        last = CLAUSE_BREAK.split(before.rstrip(",;:\u2013\u2014- "))[-1]
        if question and not CONDITION.match(last) and not asks(before, subjects):
            return [before, after]
    return [sentence]


def looks_up(message: str) -> bool:
    text = message.strip()
    return len(text.split()) <= LOOKUP_WORDS and not text.endswith((".", "!"))


def read_message(message: str, content_words, subjects: frozenset[str] = frozenset()) -> Reading:
    """Split a cleaned message into sentences; the question sentences are the focus.

    `content_words(text)` counts the words of a text that the corpus knows as a topic, and
    `subjects` are the words that name a treatment (the lexicon's). A
    question too bare to search by itself ("What now?") takes the sentence before it, and so
    on, until it names something; the other sentences are kept as context, the way earlier
    questions of a conversation are, so "those" and "it" can still be resolved.
    """
    said = ((message.strip(),) if one_sentence(message) else tuple(split_sentences(message))) or (
        message,
    )
    # Whether the message asks anything is read from its sentences as written: reading a
    # statement and a question apart is for searching, and "i want to die - why bother with
    # treatment" must still tell (an answer would follow the crisis notice).
    asking_at_all = any(asks(s, subjects) for s in said) or looks_up(message)
    sentences = tuple(part for s in said for part in clauses(s, subjects))
    asking = [i for i, s in enumerate(sentences) if asks(s, subjects)]
    if len(sentences) == 1 or not asking:
        return Reading(message, sentences, message, (), asking_at_all, said=said)
    chosen = set(asking)
    first = asking[0]
    while first > 0 and content_words(" ".join(sentences[i] for i in sorted(chosen))) < MIN_CONTENT:
        first -= 1
        chosen.add(first)
    focus = " ".join(sentences[i] for i in sorted(chosen))
    context = tuple(s for i, s in enumerate(sentences) if i not in chosen)
    bare = ""
    if first < asking[0]:  # sentences before the question were lent to it
        question = " ".join(sentences[i] for i in asking)
        lent = [w for i in range(first, asking[0]) for w in WORD.findall(sentences[i])]
        named = " ".join(dict.fromkeys(w for w in lent if content_words(w)))
        bare = f"{question} ({named})" if named else question
    return Reading(message, sentences, focus, context, asking_at_all, bare, said)


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
