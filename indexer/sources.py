"""Where the corpus lives and what each page is: the project's own copy, never ../shared."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"


@dataclass(frozen=True)
class Sources:
    """The page table from corpus/sources.json plus the source text's location."""

    corpus_dir: Path
    source_file: Path
    pages: tuple[dict, ...]
    review_date: str
    review_date_text: str
    helpline: str
    metadata_headings: tuple[str, ...]

    def read_text(self) -> str:
        return self.source_file.read_text(encoding="utf-8")


def load_sources(corpus_dir: Path = CORPUS_DIR) -> Sources:
    """Read the page table; the corpus folder is a setting so tests can use a copy."""
    data = json.loads((corpus_dir / "sources.json").read_text(encoding="utf-8"))
    return Sources(
        corpus_dir=corpus_dir,
        source_file=corpus_dir / data["source_file"],
        pages=tuple(data["pages"]),
        review_date=data["review_date"],
        review_date_text=data["review_date_text"],
        helpline=data["helpline"],
        metadata_headings=tuple(data["metadata_headings"]),
    )


def corpus_hash(sources: Sources) -> str:
    """A hash of every corpus file that shapes the index, so an edit makes the index stale."""
    digest = hashlib.sha256()
    training = sorted((sources.corpus_dir / "training").glob("*.jsonl"))
    for path in (sources.source_file, sources.corpus_dir / "sources.json", *training):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
