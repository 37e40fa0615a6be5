"""Decide what kind of message this is before any search: an emergency, a self-harm crisis, a
request to decide for a person, or a topic the pages do not cover.

Emergencies are read by a classifier over the message's sentence embeddings (fitted at index
build on corpus/training/safety.jsonl; threshold chosen for recall on a held-out split), with
patterns only for the unambiguous cases. A calm question that merely mentions a symptom is left
to be answered, and gets a one-line reminder when it comes close.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from indexer.heads import NEVER, Head
from qa.texts import Texts, compile_any

MEDICAL = "medical"
SELF_HARM = "self_harm"
DECISION = "decision"
# A calm question this close to an emergency gets one line on when to call 911.
NEAR_MISS = 0.15
# One sentence of a longer message is also read alone, against three bars of its own (sure,
# corroborating, near; below). Since they are fitted with the head at index build, as the
# share of the urgent training messages each catches out of fold
# (indexer/train_heads.SENTENCE_RECALL), the probabilities here are what an older index
# without fitted bars uses, and what set those shares; why each tier exists is below.
#
# One sentence of a long message, read alone, this sure of an emergency flags the message: a
# crisis told in one sentence of a story about treatment is diluted in the whole message's
# embedding ("...he has been putting his pain tablets in a drawer so he has enough when he
# decides it is time..." scored 0.02 in its message, 0.98 alone). A sentence alone is read
# outside the context the head learnt (whole messages), hence bars this high, and only a
# sentence long enough to carry its own context: a short one alone reads like the short
# urgent messages of the training set ("i'm so tired of all this." 0.98 self-harm, "my stomach
# hurts." 0.99 medical), so a symptom stated before a calm question got 911. On 1,086 dev
# messages that are not emergencies, 11 more crisis notices at 0.95 and 2 more emergency
# notices at 0.98; with 8 words or more, hard dev medical emergencies 49 -> 50 of 50 for one
# more notice on 140 calm dev messages and none on the tuning sets' answerable ones.
SENTENCE_SURE = {SELF_HARM: 0.95, MEDICAL: 0.98}
# A message close to a crisis as a whole (between the self-harm head's two bars) with one
# sentence that alone reads as a crisis at this bar is sure of one: two readings agree. "...I
# have started writing letters to my children for after I am gone, I do not want to wait for
# the cancer. Is there another drug after regorafenib?" is 0.19 whole and 0.91 for that
# sentence; it must get the crisis notice, not the answer with a line. On the 1,086 dev
# messages that are no emergency, 6 more crisis notices (77 -> 83).
SENTENCE_CORROBORATES = 0.9
# One sentence alone this close to a crisis makes the message close to one, the tier below
# the crisis notice: the 988 line above the answer when the pages answer what it asks, the
# crisis notice when they do not or nothing is asked (qa/engine). The buried crisis above,
# read alone, scored 0.96, 0.94, 0.88 and 0.87 in four index builds that differed by six
# training rows or by how batches are dealt: under SENTENCE_SURE in three, and then given no
# 988 at all when its message asked about treatment. As the crisis bar instead (0.8), it cost
# 8 more crisis notices on the 1,086 dev messages that are no emergency, most on a fear said
# before a question ("im so scared, just got told i have gist. what is the usual first
# treatment": 0.87 for its first sentence alone); as this tier, 988 beside 2 more of the
# tuning sets' 560 answerable messages and 1 more crisis notice.
SENTENCE_NEAR = 0.8
SENTENCE_WORDS = 8
# The bars above, for an index whose safety head has no fitted ones (built before they were
# fitted at index build, indexer/train_heads.SENTENCE_RECALL, which now sets them).
FIXED_SENTENCE_BARS = {
    "near": {SELF_HARM: SENTENCE_NEAR},
    "corroborates": {SELF_HARM: SENTENCE_CORROBORATES, MEDICAL: NEVER},
    "sure": SENTENCE_SURE,
}


def read_alone(sentences) -> tuple[str, ...]:
    """The sentences of a message long enough to be read alone for an emergency."""
    return tuple(s for s in sentences if len(s.split()) >= SENTENCE_WORDS)


@dataclass(frozen=True)
class Verdict:
    emergency: str  # "", MEDICAL or SELF_HARM
    personal_advice: bool
    not_covered: str  # the reason key in notices.json, or "" when the topic may be answered
    near_emergency: bool = False
    # Close to a self-harm crisis, not sure of one: the answer, with a line offering 988 above
    # it, when the pages answer what it asks; the crisis notice otherwise (qa/engine).
    near_crisis: bool = False


class SafetyGate:
    """Patterns from corpus/scope.json, compiled once, and the fitted safety classifier."""

    def __init__(self, texts: Texts, head: Head | None):
        scope = texts.scope
        self.patterns = {
            kind: compile_any(scope["emergency"][kind]) for kind in (MEDICAL, SELF_HARM)
        }
        self.personal = compile_any(scope["personal_advice"])
        self.not_covered = {
            reason: re.compile(rule["pattern"], re.IGNORECASE)
            for reason, rule in scope["not_covered"].items()
        }
        # Each category's exceptions: the same words asking about something the pages answer.
        self.exceptions = {
            reason: re.compile(rule["unless"], re.IGNORECASE)
            for reason, rule in scope["not_covered"].items()
            if rule.get("unless")
        }
        self.head = head

    def probabilities(self, texts: list[str], vectors: np.ndarray) -> np.ndarray | None:
        """The safety classifier's class probabilities, one row per text (computed once)."""
        return None if self.head is None else self.head.probabilities(vectors, texts)

    def emergency(self, typed: str, texts: list[str], probs, sentence_probs=None):
        """(kind of emergency or "", whether it came close to a medical one, whether it came
        close to a self-harm crisis). The unambiguous patterns read
        what was typed (`typed`, before spelling or follow-up resolution rewrote it) and the
        texts; the classifier's probabilities cover the question part and the whole message,
        and `sentence_probs` (one row per sentence of a longer message) each sentence alone."""
        for kind in (SELF_HARM, MEDICAL):
            if any(self.patterns[kind].search(text) for text in (typed, *texts)):
                return kind, False, False
        if probs is None:
            return "", False, False
        strongest = self.head.strongest_of(probs)
        # Self-harm first, whole message or one sentence: a crisis told inside a story that
        # also names a symptom gets 988, not only 911.
        alone = {SELF_HARM: 0.0, MEDICAL: 0.0}
        if sentence_probs is not None and len(sentence_probs):
            alone = self.head.strongest_of(sentence_probs)
        sure = {
            kind: self.head.certain(kind, strongest[kind])
            or alone[kind] >= self._sentence_bar(kind, "sure")
            for kind in (SELF_HARM, MEDICAL)
        }
        whole_near = self.head.flagged(SELF_HARM, strongest[SELF_HARM])
        near_crisis = whole_near or alone[SELF_HARM] >= self._sentence_bar(SELF_HARM, "near")
        # Close to a crisis counts as one when a sentence alone agrees with the whole message
        # (SENTENCE_CORROBORATES, the whole message's own closeness only: a sentence does not
        # corroborate itself), or when the message is a medical emergency too: the crisis
        # notice gives 911 as well, the medical one no 988.
        if (
            sure[SELF_HARM]
            or (whole_near and alone[SELF_HARM] >= self._sentence_bar(SELF_HARM, "corroborates"))
            or (near_crisis and sure[MEDICAL])
        ):
            return SELF_HARM, False, False
        # The same two readings for a medical emergency: a message that comes close as a whole
        # (NEAR_MISS) with one sentence alone past the corroborating bar: a high fever with
        # chills told in one sentence, then a calm question whether fever is a side effect of
        # the procedure (the pages say it can be), reads calm as a whole message.
        if sure[MEDICAL] or (
            strongest[MEDICAL] >= NEAR_MISS
            and alone[MEDICAL] >= self._sentence_bar(MEDICAL, "corroborates")
        ):
            return MEDICAL, False, False
        return "", strongest[MEDICAL] >= NEAR_MISS, near_crisis

    def _sentence_bar(self, kind: str, tier: str) -> float:
        """The bar for one sentence read alone: fitted with the head at index build
        (indexer/train_heads.SENTENCE_RECALL), or the fixed one of an older index."""
        fitted = self.head.sentence_bar(kind, tier)
        return FIXED_SENTENCE_BARS[tier][kind] if fitted is None else fitted

    def decision(self, focus: str, probs) -> bool:
        """Asks to decide for someone: a pattern, or the classifier on the question part."""
        if self.personal.search(focus):
            return True
        if probs is None or DECISION not in self.head.classes:
            return False
        return self.head.flagged(DECISION, float(probs[0, self.head.classes.index(DECISION)]))

    def out_of_scope(self, focus: str) -> str:
        """The first category whose pattern the question part matches and whose exceptions
        it does not."""
        for reason, pattern in self.not_covered.items():
            if pattern.search(focus) and not (
                reason in self.exceptions and self.exceptions[reason].search(focus)
            ):
                return reason
        return ""

    def check(
        self,
        typed: str,
        texts: list[str],
        vectors: np.ndarray,
        sentences: tuple[str, ...] = (),
        sentence_vectors: np.ndarray | None = None,
    ) -> Verdict:
        """`typed`: the cleaned, lower-cased message as typed; `texts`: the question part,
        then (for a message of several sentences) the whole message, as read; `vectors`:
        their embeddings; `sentences` and `sentence_vectors`: a longer message's sentences."""
        focus = texts[0]
        probs = self.probabilities(texts, vectors)
        sentence_probs = (
            self.probabilities(list(sentences), sentence_vectors) if len(sentences) else None
        )
        kind, near, near_crisis = self.emergency(typed, texts, probs, sentence_probs)
        # An emergency's notice comes first, but what the message asks is still read: an
        # out-of-scope question or a request to decide gets no answer after the notice.
        return Verdict(
            kind,
            self.decision(focus, probs),
            self.out_of_scope(focus),
            near and not kind,
            near_crisis,
        )
