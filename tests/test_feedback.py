"""Opt-in feedback: the SQLite store (qa/feedback.py), `python -m eval.feedback`, the take-home
copy and the chat's HTML (qa/present.py), without a browser."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from eval.feedback import main as feedback_main
from eval.feedback import summarise
from qa.feedback import DOWN, UP, FeedbackStore, read_rows
from qa.present import format_chat, format_question, link_numbers, save_link, transcript
from qa.records import EMERGENCY, Answer, Citation

ROOT = Path(__file__).resolve().parent.parent


def record(question: str, category: str = "answer") -> dict:
    return {"query": question.lower(), "category": category, "answer": "Quoted. [1]"}


def test_store_keeps_time_question_record_rating_and_comment(tmp_path):
    path = tmp_path / "sub" / "ratings.sqlite"
    store = FeedbackStore(path)
    row = store.rate("What is embolization?", record("What is embolization?"), DOWN)
    store.comment(row, "It does not say how long recovery takes.")
    other = store.rate("What is ablation?", record("What is ablation?"), UP)
    store.change(other, DOWN)
    rows = read_rows(path)
    assert [(r["question"], r["rating"]) for r in rows] == [
        ("What is embolization?", DOWN),
        ("What is ablation?", DOWN),
    ]
    assert rows[0]["comment"] == "It does not say how long recovery takes."
    assert json.loads(rows[0]["record"])["query"] == "what is embolization?"
    assert rows[0]["time"].endswith("+00:00") and rows[0]["category"] == "answer"
    store.withdraw(other)
    assert len(read_rows(path)) == 1
    with pytest.raises(ValueError):
        store.rate("q", {}, "meh")


def test_store_is_safe_from_many_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    store = FeedbackStore(tmp_path / "ratings.sqlite")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: store.rate(f"q{n}", {}, UP if n % 2 else DOWN), range(80)))
    assert len(store.rows()) == 80


def test_reading_never_creates_a_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_rows(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()
    assert feedback_main(["--db", str(tmp_path / "missing.sqlite")]) == 2
    assert not (tmp_path / "missing.sqlite").exists()


def test_summary_counts_and_worst_questions(tmp_path, capsys):
    store = FeedbackStore(tmp_path / "ratings.sqlite")
    for question, rating, comment in [
        ("What is embolization?", DOWN, "Too short"),
        ("what is embolization", DOWN, ""),
        ("What is embolization?", UP, ""),
        ("What is ablation?", UP, ""),
        ("Can keyhole surgery be used?", DOWN, ""),
    ]:
        row = store.rate(question, record(question), rating)
        if comment:
            store.comment(row, comment)
    summary = summarise(read_rows(tmp_path / "ratings.sqlite"))
    assert (summary["ratings"], summary["up"], summary["down"]) == (5, 2, 3)
    assert summary["questions"] == 3 and summary["with_comment"] == 1
    worst = summary["worst"][0]
    assert worst["question"] == "What is embolization?" and (worst[DOWN], worst[UP]) == (2, 1)
    assert worst["comments"] == ["Too short"]
    assert [w["question"] for w in summary["worst"]] == [
        "What is embolization?",
        "Can keyhole surgery be used?",
    ]
    assert feedback_main(["--db", str(tmp_path / "ratings.sqlite")]) == 0
    printed = capsys.readouterr().out
    assert "5 ratings of 3 distinct questions" in printed and "comment: Too short" in printed


def test_module_runs_from_the_command_line(tmp_path):
    store = FeedbackStore(tmp_path / "ratings.sqlite")
    store.rate("What is ablation?", record("What is ablation?"), DOWN)
    done = subprocess.run(
        [sys.executable, "-m", "eval.feedback", "--db", str(store.path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert json.loads(done.stdout)["down"] == 1


def test_an_empty_database_summarises(tmp_path, capsys):
    FeedbackStore(tmp_path / "ratings.sqlite")
    assert feedback_main(["--db", str(tmp_path / "ratings.sqlite")]) == 0
    assert "No ratings yet." in capsys.readouterr().out
    db = sqlite3.connect(tmp_path / "ratings.sqlite")
    columns = [c[1] for c in db.execute("PRAGMA table_info(feedback)")]
    assert columns == ["id", "time", "question", "category", "record", "rating", "comment"]


# What the chat shows and what the saved file holds --------------------------------------------


def citation(n: int, quoted: bool = True) -> Citation:
    return Citation(
        n=n,
        page="Targeted Therapy",
        section="Targeted Therapy for GIST › Imatinib (Gleevec)",
        url="https://www.cancer.org/x.html",
        link=f"https://www.cancer.org/x.html#:~:text=Part{n}",
        text="Imatinib <b>works</b>.\n\n- It can cause rashes.",
        score=0.5,
        review_date="May 17, 2017",
        quoted=quoted,
    )


def answer(category: str = "answer", notice: str = "", text: str = "Imatinib works. [1]"):
    return Answer(
        answer=text,
        notice=notice,
        abstained=False,
        citations=(citation(1), citation(2, quoted=False)) if text else (),
        latency_ms=5.0,
        query="imatinib <script>",
        category=category,
        sentences=("Imatinib <b>works</b>.",),
    )


def test_emergency_is_an_alert_first_with_numbers_to_tap():
    medical = format_chat(answer(EMERGENCY, "Call 911 now. ACS: 1-800-227-2345.", ""))
    assert medical.startswith('<div class="gist-alert" role="alert">')
    assert 'href="tel:911"' in medical and 'href="tel:+18002272345"' in medical
    crisis = format_chat(answer(EMERGENCY, "Please call or text 988 now.", "Quoted. [1]"))
    assert 'href="tel:988"' in crisis and 'href="sms:988"' in crisis
    assert crisis.index('role="alert"') < crisis.index("Quoted. [1]")
    assert "\n\n" not in crisis  # one HTML block: the chat's Markdown leaves it alone


def test_chat_message_escapes_everything_and_keeps_sources_with_the_answer():
    html = format_chat(answer())
    assert "<b>works</b>" not in html and "&lt;b&gt;works&lt;/b&gt;" in html
    assert "<script>" not in html
    assert html.count("<details") == 1 and "#:~:text=Part1" in html and "#:~:text=Part2" in html
    assert "reviewed May 17, 2017" in html  # provenance on every answer...
    assert "about your situation" not in html  # ...the long disclaimer only at the top
    assert format_question("<img src=x onerror=alert(1)>\nhi") == (
        "<p>&lt;img src=x onerror=alert(1)&gt;<br>hi</p>"
    )
    assert link_numbers("call 911 or 19110") == 'call <a href="tel:911">911</a> or 19110'


def test_transcript_holds_questions_answers_numbered_sources_and_disclaimer():
    turns = [
        {"question": "What is imatinib?", "record": answer().to_dict()},
        {"question": "He collapsed", "record": answer(EMERGENCY, "Call 911 now.", "").to_dict()},
    ]
    text = transcript(turns, "2026-11-28")
    assert "Question 1: What is imatinib?" in text and "Question 2: He collapsed" in text
    assert "Imatinib works. [1]" in text and "IMPORTANT:\nCall 911 now." in text
    assert "[1] Targeted Therapy for GIST › Imatinib (Gleevec)" in text
    assert "https://www.cancer.org/x.html#:~:text=Part1" in text
    assert "https://www.cancer.org/x.html#:~:text=Part2" in text
    assert "reviewed May 17, 2017" in text and "not medical advice" in text
    link = save_link(turns, "2026-11-28")
    assert 'download="gist-answers-conversation-2026-11-28.txt"' in link
    assert link.count('href="data:text/plain;charset=utf-8,') == 1
    assert save_link([], "2026-11-28") == ""
