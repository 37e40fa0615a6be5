"""Decide, before any search, whether a question is an emergency, personal advice or off-limits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.texts import Texts, compile_any


@dataclass(frozen=True)
class Verdict:
    emergency: bool
    personal_advice: bool
    not_covered: str  # the reason key in notices.json, or "" when the topic may be answered


class SafetyGate:
    """Patterns from corpus/scope.json, compiled once."""

    def __init__(self, texts: Texts):
        scope = texts.scope
        self.emergency = compile_any(scope["emergency"])
        self.personal = compile_any(scope["personal_advice"])
        self.not_covered = {
            reason: re.compile(pattern, re.IGNORECASE)
            for reason, pattern in scope["not_covered"].items()
        }
        # "alcohol ablation" is in the text; "drinking alcohol" is not.
        self.allowed = {"diet_lifestyle": re.compile(scope["diet_lifestyle_allowed"], re.I)}

    def check(self, text: str) -> Verdict:
        """`text` is the cleaned, lower-cased question (before follow-up context is added)."""
        reason = next(
            (
                key
                for key, pattern in self.not_covered.items()
                if pattern.search(text)
                and not (key in self.allowed and self.allowed[key].search(text))
            ),
            "",
        )
        return Verdict(
            emergency=bool(self.emergency.search(text)),
            personal_advice=bool(self.personal.search(text)),
            not_covered=reason,
        )
