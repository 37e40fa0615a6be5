"""Build the index folder (Contract 1): parse, chunk, embed, write into a temporary folder, then
swap it in under the exclusive lock. Only the indexer command, the eval and the tests build;
answering only loads (indexer/store.py) and never imports this module."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from indexer.adapt import adapt
from indexer.bank import BANK_FILE, BANK_SENTENCES, BANK_VECTORS, load_bank_questions, locate
from indexer.embed import default_model, embed, load_model
from indexer.heads import HEADS_FILE, HEADS_REPORT, HEADS_VOCABULARY
from indexer.lexical import LexicalIndex
from indexer.records import Chunk, Sentence, antecedent, lead_in
from indexer.sources import CORPUS_DIR, corpus_hash, load_sources
from indexer.store import (
    BM25_DIR,
    CHUNK_VECTORS,
    CHUNKS,
    DEFAULT_INDEX_DIR,
    ENCODER_DIR,
    FORMAT_VERSION,
    MANIFEST,
    QUERY_ENCODER_DIR,
    SENTENCE_VECTORS,
    SENTENCES,
    WINDOW_VECTORS,
    file_digest,
    index_lock,
)

LIBRARIES = (
    "sentence-transformers",
    "faiss-cpu",
    "bm25s",
    "langchain-text-splitters",
    "torch",
    "onnx",
    "onnxruntime",
)


def chunk_context(chunk: Chunk) -> str:
    """What is embedded for a chunk: its heading path gives the passage its topic."""
    return f"{chunk.section}\n{chunk.text}"


def sentence_context(chunk: Chunk, sentence: Sentence) -> str:
    """A sentence is embedded under its section's headings, so "This drug..." knows which drug."""
    return f"{chunk.context}: {sentence.text}"


def sentence_window(chunk: Chunk, sentence: Sentence, neighbours: list[Sentence]) -> str:
    """The sentence with what it leans on: a bullet under its list's lead-in, a "This/It..."
    sentence after the one before it. Alone, "It is continued as long as the tumor doesn't
    grow" does not say it is about imatinib; the pair does."""
    if sentence.list_id is not None:
        before = lead_in(sentence, neighbours)
    else:
        before = antecedent(sentence, neighbours)
    if before is None:
        return sentence_context(chunk, sentence)
    return f"{chunk.context}: {before.text} {sentence.text}"


def _versions() -> dict:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")


def build_index(
    index_dir: Path = DEFAULT_INDEX_DIR,
    model_name: str | None = None,
    corpus_dir: Path = CORPUS_DIR,
    progress: bool = True,
) -> dict:
    """Parse, chunk, embed and write the index into a temporary folder, then swap it in."""
    import faiss

    # Imported here: chunking needs langchain and pysbd, exporting needs onnx.
    from indexer.chunk import chunk_pages, chunk_sentences, chunk_settings
    from indexer.onnx_encoder import export
    from indexer.parse import parse_corpus
    from indexer.train_heads import build_heads

    started = time.perf_counter()
    if not progress:
        # --quiet means no bar at all: also transformers' own (loading and saving weights).
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    model_name = model_name or default_model()
    sources = load_sources(corpus_dir)
    pages = parse_corpus(sources.read_text(), sources)
    chunks = chunk_pages(pages)
    sentences = chunk_sentences(chunks)
    base = load_model(model_name)
    by_id = {c.id: c for c in chunks}
    of_chunk: dict[int, list[Sentence]] = {}
    for sentence in sentences:
        of_chunk.setdefault(sentence.chunk_id, []).append(sentence)
    # The question bank: each question that a sentence of this corpus answers is kept with
    # that sentence's id; a phrase no sentence holds any more is dropped and counted.
    bank = load_bank_questions(corpus_dir / "training" / BANK_FILE)
    located = locate(bank, sentences, [by_id[s.chunk_id].page_slug for s in sentences])
    bank_questions = [q.question for q, at in zip(bank, located, strict=True) if at is not None]
    bank_sentences = np.array([at for at in located if at is not None], dtype=np.int32)
    # The model, adapted to the bank (indexer/adapt.py): each question paired with its sentence
    # as that sentence is embedded (with what it leans on).
    window_of = {
        s.id: sentence_window(by_id[s.chunk_id], s, of_chunk[s.chunk_id]) for s in sentences
    }
    model = adapt(
        base,
        [(q, window_of[int(i)]) for q, i in zip(bank_questions, bank_sentences, strict=True)],
        progress=progress,
    )
    texts = [chunk_context(c) for c in chunks]
    texts += [sentence_context(by_id[s.chunk_id], s) for s in sentences]
    texts += [window_of[s.id] for s in sentences]
    texts += bank_questions
    vectors = embed(model, texts, progress=progress)
    chunk_vectors = vectors[: len(chunks)]
    passage_vectors = vectors[len(chunks) : len(vectors) - len(bank_questions)]
    sentence_vectors, window_vectors = np.split(passage_vectors, 2)
    bank_vectors = vectors[len(vectors) - len(bank_questions) :]
    # Exact inner-product search over L2-normalised vectors is cosine similarity; with a few
    # dozen chunks a flat index is exact and still far faster than embedding the question.
    chunk_index = faiss.IndexFlatIP(chunk_vectors.shape[1])
    chunk_index.add(chunk_vectors)

    index_dir = Path(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.building-", dir=index_dir.parent))
    try:
        _write_jsonl(tmp / CHUNKS, chunks)
        _write_jsonl(tmp / SENTENCES, sentences)
        faiss.write_index(chunk_index, str(tmp / CHUNK_VECTORS))
        np.save(tmp / SENTENCE_VECTORS, sentence_vectors)
        np.save(tmp / WINDOW_VECTORS, window_vectors)
        np.save(tmp / BANK_VECTORS, bank_vectors)
        np.save(tmp / BANK_SENTENCES, bank_sentences)
        LexicalIndex.build([c.text for c in chunks]).save(tmp / BM25_DIR)
        heads_report = build_heads(model, corpus_dir, tmp)
        files = [CHUNKS, SENTENCES, CHUNK_VECTORS, SENTENCE_VECTORS, WINDOW_VECTORS, BM25_DIR]
        files += [HEADS_FILE, HEADS_VOCABULARY, HEADS_REPORT, BANK_VECTORS, BANK_SENTENCES]
        adapted = model is not base
        if adapted:
            model.save(str(tmp / ENCODER_DIR))
            files.append(ENCODER_DIR)
        if export(str(tmp / ENCODER_DIR) if adapted else model_name, tmp / QUERY_ENCODER_DIR):
            files.append(QUERY_ENCODER_DIR)
        manifest = {
            "format": FORMAT_VERSION,
            "model": model_name,
            # The model adapted to the question bank, in this folder; None when there is no bank.
            "encoder": ENCODER_DIR if adapted else None,
            "dimension": int(chunk_vectors.shape[1]),
            "chunking": chunk_settings(),
            "corpus_hash": corpus_hash(sources),
            "counts": {
                "pages": len(pages),
                "sections": sum(len(p.sections) for p in pages),
                "chunks": len(chunks),
                "sentences": len(sentences),
                "bank_questions": len(bank_questions),
                "bank_unmatched": len(bank) - len(bank_questions),
            },
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 2),
            "libraries": _versions(),
            "heads": heads_report,
            "files": {name: file_digest(tmp / name) for name in files},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        with index_lock(index_dir, exclusive=True):
            _swap_in(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _swap_in(tmp: Path, index_dir: Path) -> None:
    """Replace the live folder by the finished one; the old one is removed only afterwards."""
    old = None
    if index_dir.exists():
        old = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}-{time.time_ns()}")
        os.rename(index_dir, old)
    os.rename(tmp, index_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
