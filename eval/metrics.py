"""Metric functions over answer records: retrieval, facts, grounding, abstention, latency."""

from __future__ import annotations

import re
import statistics

from eval.dataset import Question, fold
from indexer.text import split_sentences

MARKER = re.compile(r"\s*\[(\d+)\]")
BULLET = re.compile(r"^\s*[-*]\s+")


def hit_rank(citations: list[dict], evidence) -> int | None:
    """1-based rank of the first citation whose text holds an evidence phrase."""
    phrases = [fold(e) for e in evidence]
    for rank, citation in enumerate(citations, start=1):
        text = fold(citation.get("text", ""))
        if any(p in text for p in phrases):
            return rank
    return None


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def facts_found(answer: str, must_include) -> bool:
    """Every must_include group has at least one of its terms in the answer."""
    text = fold(answer)
    return all(any(fold(term) in text for term in group) for group in must_include)


def answer_sentences(answer: str) -> list[tuple[str, int | None]]:
    """Each quoted sentence of an answer with the citation number that follows it.

    Markers and bullets are removed; an ellipsis joins two quoted parts, checked separately.
    A sentence takes the first marker at or after it in its paragraph.
    """
    pairs: list[tuple[str, int | None]] = []
    for block in re.split(r"\n\s*\n", answer.strip()):
        pending: list[str] = []
        for line in block.splitlines():
            line = BULLET.sub("", line).strip()
            pieces = MARKER.split(line)  # text, n, text, n, ..., text
            for i in range(0, len(pieces), 2):
                for sentence in split_sentences(pieces[i]) if pieces[i].strip() else []:
                    pending.extend(p.strip() for p in sentence.split("…") if p.strip())
                if i + 1 < len(pieces):
                    pairs.extend((s, int(pieces[i + 1])) for s in pending)
                    pending = []
        pairs.extend((s, None) for s in pending)
    return pairs


def grounding(answer: str, source: str) -> tuple[int, list[str]]:
    """How many answer sentences are verbatim in the (folded) source, and the ones that are not."""
    sentences = [s for s, _ in answer_sentences(answer)]
    ungrounded = [s for s in sentences if fold(s) not in source]
    return len(sentences), ungrounded


def citation_precision(answer: str, citations: list[dict]) -> tuple[int, int]:
    """(sentences whose cited passage contains them, sentences checked)."""
    by_n = {c["n"]: fold(c.get("text", "")) for c in citations}
    pairs = answer_sentences(answer)
    good = sum(1 for s, n in pairs if n in by_n and fold(s) in by_n[n])
    return good, len(pairs)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summarise(questions: list[Question], records: list[dict], source: str) -> tuple[dict, list]:
    """Flat metrics over all questions, and one row per question with what went wrong."""
    rows, ranks, facts, lengths = [], [], [], []
    total_sentences, ungrounded_all, cited_good, cited_total = 0, [], 0, 0
    refused_oos, oos, false_refusals, answerable_count = 0, 0, 0, 0
    emergencies_ok, emergencies = 0, 0
    for question, record in zip(questions, records, strict=True):
        answer = record.get("answer", "")
        row = {"id": question.id, "question": question.question, "problems": []}
        count, ungrounded = grounding(answer, source)
        total_sentences += count
        ungrounded_all += ungrounded
        good, checked = citation_precision(answer, record.get("citations", []))
        cited_good, cited_total = cited_good + good, cited_total + checked
        if ungrounded:
            row["problems"].append(f"ungrounded: {ungrounded}")
        if question.emergency:
            emergencies += 1
            handled = "911" in record.get("notice", "")
            emergencies_ok += handled
            if not handled:
                row["problems"].append("emergency without a 911 notice")
        elif not question.answerable:
            oos += 1
            refused_oos += bool(record.get("abstained"))
            if not record.get("abstained"):
                row["problems"].append("answered an out-of-scope question")
        else:
            answerable_count += 1
            rank = hit_rank(record.get("citations", []), question.evidence)
            ranks.append(rank)
            found = facts_found(answer, question.must_include)
            facts.append(found)
            if record.get("abstained"):
                false_refusals += 1
                row["problems"].append(f"refused ({record.get('reason', '')})")
            else:
                lengths.append(len(MARKER.sub("", answer).split()))
                if not found:
                    row["problems"].append("missing facts")
            if rank != 1:
                row["problems"].append(f"evidence at rank {rank}")
            row["rank"] = rank
        row["latency_ms"] = record.get("latency_ms", 0.0)
        rows.append(row)
    latencies = [r["latency_ms"] for r in rows]
    n = max(len(ranks), 1)
    metrics = {
        "questions": len(questions),
        "answerable": answerable_count,
        "out_of_scope": oos,
        "emergencies": emergencies,
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@3": sum(1 for r in ranks if r and r <= 3) / n,
        "hit@5": sum(1 for r in ranks if r and r <= 5) / n,
        "mrr": sum(reciprocal_rank(r) for r in ranks) / n,
        "fact_recall": sum(facts) / max(len(facts), 1),
        "median_answer_words": statistics.median(lengths) if lengths else 0,
        "grounding": 1 - len(ungrounded_all) / total_sentences if total_sentences else 1.0,
        "citation_precision": cited_good / cited_total if cited_total else 1.0,
        "refusal_rate": refused_oos / oos if oos else 1.0,
        "false_refusal_rate": false_refusals / max(answerable_count, 1),
        "emergencies_handled": emergencies_ok / emergencies if emergencies else 1.0,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "ungrounded_sentences": ungrounded_all,
    }
    return metrics, rows


def per_page_hit3(questions: list[Question], rows: list[dict]) -> dict[str, float]:
    """hit@3 for the answerable questions of each page (a question counts for each of its pages)."""
    totals: dict[str, list[bool]] = {}
    for question, row in zip(questions, rows, strict=True):
        if question.answerable and not question.emergency:
            for page in question.pages:
                totals.setdefault(page, []).append(bool(row.get("rank")) and row["rank"] <= 3)
    return {page: sum(v) / len(v) for page, v in sorted(totals.items())}
