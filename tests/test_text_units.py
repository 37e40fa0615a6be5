"""Table-driven unit tests on hand-written inputs for the shared text pieces: quote folding,
the list-item format, sentence splitting, markup cleaning and the index errors' fixes."""

from __future__ import annotations

import ast
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from eval.dataset import fold
from eval.metrics import answer_sentences, readable_text
from indexer.chunk import chunk_sentences, section_body
from indexer.errors import GistIndexError, IndexCorrupt, IndexMissing, IndexStale, rebuild_command
from indexer.records import Chunk, Paragraph, Section
from indexer.sources import load_sources
from indexer.store import FORMAT_VERSION, check_manifest, load_index
from indexer.text import (
    BULLET,
    FOLD_QUOTES,
    bullet_item,
    clean_markup,
    split_sentences,
    without_bullet,
)
from qa.understand import QUOTES, clean

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Gleevec’s ‘side’ effects", "gleevec's 'side' effects"),
        ("“Keyhole” surgery", '"keyhole" surgery'),
        ("a ‛b` c´", "a 'b' c'"),
        ("2–3 weeks — or more", "2-3 weeks - or more"),
        ("  Many\n\tspaces   here ", "many spaces here"),
        ("IMATINIB", "imatinib"),
        ("plain text", "plain text"),
    ],
)
def test_eval_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("question", "cleaned"),
    [
        ("What’s “GIST”?", 'What\'s "GIST"?'),
        ("‘imatinib’ or `sunitinib`", "'imatinib' or 'sunitinib'"),
        ("2–3 cm", "2–3 cm"),  # questions keep their dashes; only the eval folds them
        ("ｗｈａｔ ｉｓ ｃｈｅｍｏ", "what is chemo"),
        ("a 2cm tumor", "a 2 cm tumor"),
        ("side\u200b effects\x00 of\n\nsurgery", "side effects of surgery"),
    ],
)
def test_question_cleaning_folds_quotes(question, cleaned):
    assert clean(question) == cleaned


def test_one_quote_table():
    assert QUOTES is FOLD_QUOTES
    for mark in "‘’‛“”´`":
        assert fold(mark) in ("'", '"')


@pytest.mark.parametrize(
    ("line", "item"),
    [
        ("- Surgery", "Surgery"),
        ("-   Surgery", "Surgery"),
        ("* Surgery", "Surgery"),
        ("  - Surgery [1]", "Surgery [1]"),
        ("- ", ""),
        ("-Surgery", None),
        ("Surgery - or not", None),
        ("--- ", None),
        ("", None),
    ],
)
def test_bullet_item(line, item):
    assert bullet_item(line) == item
    assert without_bullet(line) == (line if item is None else item)


def test_bullets_are_written_as_they_are_read():
    paragraphs = (Paragraph("Options are:", 0, 12), Paragraph("surgery", 13, 20, True))
    body, _ = section_body(Section("s", ("Page", "Part"), paragraphs, 0, 20))
    assert body == f"Options are:\n{BULLET}surgery"
    assert bullet_item(body.splitlines()[1]) == "surgery"


def test_chunk_sentences_ties_bullets_to_their_lead_in():
    text = "Intro. Options are:\n- surgery\n- imatinib (Gleevec)\nAfter the list. It ends."
    chunk = Chunk(0, "p", "Page", "Page › Part", "u", "l", "d", 0, len(text), text)
    got = [(s.text, s.position, s.list_id, s.introduces_list) for s in chunk_sentences([chunk])]
    assert got == [
        ("Intro.", 0, None, None),
        ("Options are:", 1, None, 2),
        ("surgery", 2, 2, None),
        ("imatinib (Gleevec)", 3, 2, None),
        ("After the list.", 4, None, None),
        ("It ends.", 5, None, None),
    ]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Imatinib is a pill. It is taken once a day.",
            ["Imatinib is a pill.", "It is taken once a day."],
        ),
        (
            "Your doctor (Dr. Smith) may suggest surgery. Ask about it!",
            ["Your doctor (Dr. Smith) may suggest surgery.", "Ask about it!"],
        ),
        (
            "The tumor is about 2 cm (0.8 in.) across. Most are larger.",
            ["The tumor is about 2 cm (0.8 in.) across.", "Most are larger."],
        ),
        ("What is GIST? It is a rare tumor.", ["What is GIST?", "It is a rare tumor."]),
        ("One sentence without an end", ["One sentence without an end"]),
        ("   ", []),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_one_sentence_shortcut_agrees_with_pysbd():
    """A message with no sentence end before its last word is read as one sentence without
    pysbd; on every eval question that takes the shortcut, pysbd gives that same sentence."""
    from qa.read import one_sentence

    questions = [
        json.loads(line)["question"]
        for path in sorted((ROOT / "eval").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    shortcut = [q for q in questions if one_sentence(q)]
    assert len(shortcut) > 500
    for question in shortcut:
        assert split_sentences(question) == [question.strip()], question
    # and it is not taken where pysbd would split
    assert not one_sentence("Is it a pill? How often?")
    assert not one_sentence("There are two options.\nSurgery first")


@pytest.mark.parametrize(
    ("raw", "clean_text"),
    [
        ("**Bold** and *italic* words", "Bold and italic words"),
        ("[Learn more](https://example.org) here<sup>3</sup>", "Learn more here"),
        ("snake\\_case  and   spaces ", "snake_case and spaces"),
        ("a * b * c", "a * b * c"),
    ],
)
def test_clean_markup(raw, clean_text):
    assert clean_markup(raw) == clean_text


def test_answer_sentences_read_bullets_markers_and_ellipses():
    answer = "Treatments are:\n- Surgery [1]\n- Imatinib …\n- Sunitinib [2]\n\nIt helps. [3]"
    assert answer_sentences(answer) == [
        ("Treatments are:", 1),
        ("Surgery", 1),
        ("Imatinib", 2),
        ("Sunitinib", 2),
        ("It helps.", 3),
    ]
    assert readable_text(answer) == "Treatments are: Surgery. Imatinib … Sunitinib. It helps."


FIX = "python -m indexer --index idx --model some/model"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (IndexMissing("No index in idx/.", FIX), f"No index in idx/. Build it with: {FIX}"),
        (IndexStale("The corpus changed.", FIX), f"The corpus changed. Rebuild with: {FIX}"),
        (IndexCorrupt("idx/bm25 is damaged.", FIX), f"idx/bm25 is damaged. Rebuild with: {FIX}"),
    ],
)
def test_errors_carry_their_fix(error, message):
    assert isinstance(error, GistIndexError)
    assert error.fix == FIX
    assert str(error) == message
    assert str(error) == f"{error.reason} {error.fix_label}: {error.fix}"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.reason, copy.fix, str(copy)) == (
        type(error),
        error.reason,
        error.fix,
        str(error),
    )


@pytest.mark.parametrize(
    ("index_dir", "model", "command"),
    [
        ("index", None, "python -m indexer --index index"),
        (Path("a/b"), "m/n", "python -m indexer --index a/b --model m/n"),
    ],
)
def test_rebuild_command(index_dir, model, command):
    assert rebuild_command(index_dir, model) == command


def test_a_missing_index_names_the_build_command(tmp_path):
    with pytest.raises(IndexMissing) as raised:
        load_index(tmp_path / "nowhere", "some/model")
    assert raised.value.fix == rebuild_command(tmp_path / "nowhere", "some/model")
    assert raised.value.reason == f"No index in {tmp_path / 'nowhere'}/."


@pytest.mark.parametrize(
    ("changes", "model", "reason"),
    [
        ({"format": 0}, None, "idx/ was built by another version of GIST Answers."),
        ({"corpus_hash": "0" * 64}, None, "The corpus changed since idx/ was built."),
        ({}, "other/model", "idx/ was built with model 'm/built', not 'other/model'."),
    ],
)
def test_stale_manifests_name_the_rebuild(changes, model, reason):
    from indexer.sources import corpus_hash

    sources = load_sources()
    manifest = {"format": FORMAT_VERSION, "corpus_hash": corpus_hash(sources), "model": "m/built"}
    check_manifest(manifest, Path("idx"), None, sources)  # a matching manifest passes
    with pytest.raises(IndexStale) as raised:
        check_manifest({**manifest, **changes}, Path("idx"), model, sources)
    assert raised.value.reason == reason
    assert raised.value.fix == rebuild_command(Path("idx"), model or "m/built")


BUILD_MODULES = {"indexer.build", "indexer.chunk", "indexer.parse", "indexer.train_heads"}


@pytest.mark.parametrize("path", sorted((ROOT / "qa").glob("*.py")), ids=lambda p: p.name)
def test_answering_imports_no_build_code(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    assert not imported & BUILD_MODULES


def test_importing_the_answering_side_loads_no_build_code():
    probe = (
        "import sys, qa.engine, qa.__main__, indexer.store; "
        f"print(sorted(m for m in sys.modules if m in {sorted(BUILD_MODULES)!r}))"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


@pytest.mark.parametrize("analyzer", ["word", "char_wb"])
def test_the_numpy_counts_match_scikit_learns(analyzer):
    """The classifiers are fitted with scikit-learn and applied with numpy (indexer/heads.py):
    the same texts must give the same TF-IDF rows, typos, other languages and odd spacing too."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from indexer.heads import Lexical

    train = [
        "I want to end it all tonight",
        "is gleevec  making me tired?",
        "Je veux en finir, toutes mes pilules",
        "can'tt breathe,lips blue!!",
        "what are the side effects of sutent",
        "i",
        "ok",
        "🙂 bye",
    ]
    ngram_range = (1, 2) if analyzer == "word" else (2, 4)
    fitted = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True)
    expected = fitted.fit_transform(train).toarray()
    mine = Lexical(
        {t: int(c) for t, c in fitted.vocabulary_.items()}, fitted.idf_.astype(np.float32), analyzer
    )
    assert np.allclose(mine.transform(train), expected, atol=1e-6)
