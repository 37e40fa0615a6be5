"""The data files that shape answering: lexicon, scope patterns and notice texts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from indexer.sources import CORPUS_DIR, load_sources


def _read(name: str, corpus_dir: Path) -> dict:
    return json.loads((corpus_dir / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Texts:
    lexicon: dict
    scope: dict
    notices: dict
    helpline: str
    review_date_text: str

    def notice(self, key: str, **values) -> str:
        template = self.notices.get(key) or self.notices["not_covered_reason"][key]
        return template.format(helpline=self.helpline, review_date=self.review_date_text, **values)


@cache
def load_texts(corpus_dir: Path = CORPUS_DIR) -> Texts:
    sources = load_sources(corpus_dir)
    return Texts(
        lexicon=_read("lexicon.json", corpus_dir),
        scope=_read("scope.json", corpus_dir),
        notices=_read("notices.json", corpus_dir),
        helpline=sources.helpline,
        review_date_text=sources.review_date_text,
    )


def compile_any(patterns: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
