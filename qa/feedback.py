"""Opt-in ratings of answers (`python app.py --feedback-db PATH`), kept in one SQLite file.

Nothing here runs unless the app is started with --feedback-db: without it there is no
feedback control and no file. A row holds the time (UTC), the question, the answer record as
JSON, the rating ("up" or "down") and an optional comment. `python -m eval.feedback --db PATH`
summarises the file."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

UP = "up"
DOWN = "down"
MAX_COMMENT_CHARS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    question TEXT NOT NULL,
    category TEXT NOT NULL,
    record TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT ''
)
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Ratings in SQLite; safe to share between the app's worker threads (one lock, short
    transactions, a connection per call so no connection crosses threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with closing(self._connect()) as db, db:  # commit, then close
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def _write(self, sql: str, values: tuple) -> int:
        with self._lock:
            db = self._connect()
            try:
                with db:
                    cursor = db.execute(sql, values)
                return int(cursor.lastrowid or 0)
            finally:
                db.close()

    def rate(self, question: str, record: dict, rating: str) -> int:
        """Store a rating of one answer; returns the row's id."""
        if rating not in (UP, DOWN):
            raise ValueError(f"rating must be {UP!r} or {DOWN!r}, not {rating!r}")
        return self._write(
            "INSERT INTO feedback (time, question, category, record, rating) VALUES (?,?,?,?,?)",
            (
                _now(),
                question,
                str(record.get("category", "")),
                json.dumps(record, ensure_ascii=False, default=str),
                rating,
            ),
        )

    def change(self, row: int, rating: str) -> None:
        """The same answer rated again (thumbs up, then down)."""
        if rating not in (UP, DOWN):
            raise ValueError(f"rating must be {UP!r} or {DOWN!r}, not {rating!r}")
        self._write("UPDATE feedback SET rating = ?, time = ? WHERE id = ?", (rating, _now(), row))

    def withdraw(self, row: int) -> None:
        """The rating was taken back (its thumb clicked again): the row goes."""
        self._write("DELETE FROM feedback WHERE id = ?", (row,))

    def comment(self, row: int, text: str) -> None:
        self._write("UPDATE feedback SET comment = ? WHERE id = ?", (text[:MAX_COMMENT_CHARS], row))

    def rows(self) -> list[dict]:
        return read_rows(self.path)


def read_rows(path: Path) -> list[dict]:
    """Every stored rating, oldest first; the file is opened read-only (never created)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no feedback database at {path}")
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
    finally:
        db.close()
    return [dict(row) for row in rows]
