"""The answer record (Contract 3) and its citations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# What kind of reply a record is; the app styles each differently.
ANSWER = "answer"
PERSONAL_ADVICE = "personal_advice"
EMERGENCY = "emergency"
NOT_COVERED = "not_covered"
INPUT_ERROR = "input_error"


@dataclass(frozen=True)
class Citation:
    """A passage an answer quotes (`quoted`), or a closely related one offered for reading."""

    n: int
    page: str
    section: str
    url: str
    link: str
    text: str
    score: float
    review_date: str
    quoted: bool = True


@dataclass(frozen=True)
class Answer:
    """One reply: source sentences with [n] markers, or an abstention with a notice."""

    answer: str
    notice: str
    abstained: bool
    citations: tuple[Citation, ...]
    latency_ms: float
    query: str
    category: str
    reason: str = ""
    sentences: tuple[str, ...] = field(default=())
    evidence: object = None  # qa.abstain.Evidence: what the abstain decision was made from

    def to_dict(self) -> dict:
        record = asdict(self)
        record["citations"] = [asdict(c) for c in self.citations]
        record["sentences"] = list(self.sentences)
        if self.evidence is None:
            record.pop("evidence")
        return record
