"""Eval metrics on hand-made records with known answers; the loader; the CLI's report files."""

import json

import pytest

from eval.__main__ import main as eval_main
from eval.dataset import DEFAULT_QUESTIONS, Question, QuestionFileError, load_questions, source_text
from eval.metrics import (
    answer_sentences,
    citation_precision,
    facts_found,
    grounding,
    hit_rank,
    reciprocal_rank,
    summarise,
)

SOURCE_SENTENCE = (
    "Ablation is the destruction of tumors using extreme heat or cold, or using chemicals."
)


def cite(n, text):
    return {"n": n, "text": text}


def test_hit_at_rank_two_gives_reciprocal_rank_one_half():
    citations = [cite(1, "Nothing relevant."), cite(2, SOURCE_SENTENCE), cite(3, SOURCE_SENTENCE)]
    rank = hit_rank(citations, ["EXTREME heat  or cold"])  # case and spaces are folded
    assert rank == 2 and reciprocal_rank(rank) == 0.5
    assert hit_rank(citations, ["not there"]) is None and reciprocal_rank(None) == 0.0


def test_an_invented_sentence_lowers_grounding():
    source = source_text()
    honest = f"{SOURCE_SENTENCE} [1]"
    assert grounding(honest, source) == (1, [])
    invented = f"{SOURCE_SENTENCE} Ablation is always painless. [1]"
    assert grounding(invented, source) == (2, ["Ablation is always painless."])


def test_markers_bullets_and_ellipsis_are_handled():
    answer = (
        "There are several types of ablation: [1]\n"
        "- Radiofrequency ablation (RFA) …\n- Microwave thermotherapy [1]"
    )
    pairs = answer_sentences(answer)
    assert pairs == [
        ("There are several types of ablation:", 1),
        ("Radiofrequency ablation (RFA)", 1),
        ("Microwave thermotherapy", 1),
    ]


def test_citation_precision_checks_the_cited_passage():
    answer = f"{SOURCE_SENTENCE} [2]"
    assert citation_precision(answer, [cite(1, "x"), cite(2, SOURCE_SENTENCE)]) == (1, 1)
    assert citation_precision(answer, [cite(1, SOURCE_SENTENCE), cite(2, "x")]) == (0, 1)


def test_fact_recall_needs_every_group():
    assert facts_found("Surgery and targeted therapy [1]", [["surgery"], ["targeted", "drug"]])
    assert not facts_found("Surgery only [1]", [["surgery"], ["targeted", "drug"]])


def test_summary_counts_refusals_and_false_refusals():
    questions = [
        Question("a", "q1", True, ("surgery",), (SOURCE_SENTENCE,), (("heat",),)),
        Question("b", "q2", True, ("surgery",), (SOURCE_SENTENCE,), (("heat",),)),
        Question("c", "q3", False),
        Question("d", "q4", False, emergency=True),
    ]
    records = [
        {"answer": f"{SOURCE_SENTENCE} [1]", "abstained": False,
         "citations": [cite(1, SOURCE_SENTENCE)], "latency_ms": 10},
        {"answer": "", "abstained": True, "citations": [], "latency_ms": 5, "reason": "x"},
        {"answer": "", "abstained": True, "citations": [], "latency_ms": 1},
        {"answer": "", "abstained": True, "notice": "call 911", "citations": [], "latency_ms": 1},
    ]  # fmt: skip
    metrics, rows = summarise(questions, records, source_text())
    assert metrics["hit@1"] == 0.5 and metrics["mrr"] == 0.5
    assert metrics["false_refusal_rate"] == 0.5 and metrics["refusal_rate"] == 1.0
    assert metrics["emergencies_handled"] == 1.0 and metrics["grounding"] == 1.0
    assert rows[1]["problems"][0].startswith("refused")


def test_loader_rejects_evidence_not_in_the_source(tmp_path):
    good = {
        "id": "g",
        "question": "q",
        "answerable": True,
        "pages": ["surgery"],
        "evidence": ["The goal of the surgery is to remove all of the cancer"],
    }
    bad = dict(good, id="b", evidence=["Surgery always cures GIST"])
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n{broken\n")  # fmt: skip
    with pytest.raises(QuestionFileError) as error:
        load_questions(path)
    message = str(error.value)
    assert "line 2: evidence not found" in message and "line 3:" in message
    assert "line 1:" not in message


def test_the_shipped_question_set_is_valid_and_broad():
    questions = load_questions()
    assert len(questions) >= 120
    assert sum(1 for q in questions if q.history) >= 10
    assert sum(1 for q in questions if not q.answerable and not q.emergency) >= 25
    assert sum(1 for q in questions if q.emergency) >= 3
    slugs = {p for q in questions for p in q.pages}
    assert len(slugs) == 7


def test_cli_writes_every_report_file(built_index, tmp_path, capsys):
    lines = DEFAULT_QUESTIONS.read_text().splitlines()
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(lines[:6] + lines[-12:]) + "\n")
    report = tmp_path / "report"
    code = eval_main(["--questions", str(small), "--report", str(report),
                      "--index", str(built_index), "--min-grounding", "1.0"])  # fmt: skip
    assert code == 0
    for name in ("report.json", "report.md", "per_page_hit3.png", "latency_hist.png"):
        assert (report / name).stat().st_size > 0
    data = json.loads((report / "report.json").read_text())
    keys = ["hit@1", "hit@3", "hit@5", "mrr", "fact_recall", "grounding", "citation_precision"]
    keys += ["refusal_rate", "false_refusal_rate", "latency_p50_ms", "latency_p95_ms"]
    for key in keys:
        assert key in data
    assert "dense-only.hit@3" in data and "bm25-only.mrr" in data
    assert "| hit@1 |" in capsys.readouterr().out


def test_gate_fails_below_threshold(built_index, tmp_path):
    lines = DEFAULT_QUESTIONS.read_text().splitlines()
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(lines[:4]) + "\n")
    args = ["--questions", str(small), "--report", str(tmp_path / "r")]
    args += ["--index", str(built_index), "--no-baselines", "--min-mrr", "1.01"]
    code = eval_main(args)
    assert code == 1


def test_cli_skips_a_bad_line_of_another_file_unless_strict(built_index, tmp_path, capsys):
    lines = DEFAULT_QUESTIONS.read_text().splitlines()[:3]
    lines.append(
        json.dumps(
            {
                "id": "bad",
                "question": "q",
                "answerable": True,
                "pages": ["surgery"],
                "evidence": ["a phrase the source never says"],
            }  # fmt: skip
        )
    )
    questions = tmp_path / "mixed.jsonl"
    questions.write_text("\n".join(lines) + "\n")
    args = ["--questions", str(questions), "--index", str(built_index), "--no-baselines"]
    assert eval_main([*args, "--report", str(tmp_path / "r")]) == 0
    assert "line 4: evidence not found" in capsys.readouterr().err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["questions"] == 3
    assert eval_main([*args, "--report", str(tmp_path / "s"), "--strict"]) == 2


def test_cli_builds_a_missing_index_unless_told_not_to(tmp_path, capsys):
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(DEFAULT_QUESTIONS.read_text().splitlines()[:2]) + "\n")
    args = ["--questions", str(small), "--report", str(tmp_path / "r"), "--no-baselines"]
    missing = tmp_path / "fresh-clone-index"
    assert eval_main([*args, "--index", str(missing), "--no-build-index"]) == 2
    assert "python -m indexer --index" in capsys.readouterr().err
    assert eval_main([*args, "--index", str(missing)]) == 0
    assert (missing / "manifest.json").exists()
