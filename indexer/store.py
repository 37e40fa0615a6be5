"""The index folder (Contract 1) as answering uses it: the Index record, its file names, and
loading it only when it matches the corpus, the format and the model. Building it is
indexer/build.py, which nothing on the answering side imports."""

from __future__ import annotations

import fcntl
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.bank import BANK_SENTENCES, BANK_VECTORS, Bank
from indexer.embed import default_model, load_query_model
from indexer.errors import IndexCorrupt, IndexMissing, IndexStale, rebuild_command
from indexer.heads import load_heads
from indexer.lexical import LexicalIndex
from indexer.records import Chunk, Sentence
from indexer.sources import CORPUS_DIR, Sources, corpus_hash, load_sources

DEFAULT_INDEX_DIR = Path("index")
FORMAT_VERSION = 8  # bump when parsing, chunking, tokenising or embedding text changes
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
SENTENCES = "sentences.jsonl"
CHUNK_VECTORS = "vectors.faiss"
SENTENCE_VECTORS = "sentence_vectors.npy"
WINDOW_VECTORS = "sentence_window_vectors.npy"
BM25_DIR = "bm25"
ENCODER_DIR = "encoder"  # the model adapted to the question bank (indexer/adapt.py)
QUERY_ENCODER_DIR = "query_encoder"  # the model as ONNX, for questions (indexer/onnx_encoder.py)


@dataclass(frozen=True)
class Index:
    """Everything answering needs, in memory: no corpus-side work is left for question time."""

    directory: Path
    manifest: dict
    chunks: tuple[Chunk, ...]
    sentences: tuple[Sentence, ...]
    chunk_index: object  # faiss.IndexFlatIP over chunk vectors
    sentence_vectors: np.ndarray
    window_vectors: np.ndarray  # the same sentences with what they lean on (sentence_window)
    lexical: LexicalIndex
    query_encoder: object | None = None  # OnnxEncoder when the build exported the model
    heads: dict | None = None  # name -> indexer.heads.Head, fitted on corpus/training/
    bank: Bank | None = None  # questions the sentences answer (indexer/bank.py)

    @property
    def model_name(self) -> str:
        return self.manifest["model"]

    def question_model(self):
        """What embeds questions: the ONNX copy when the build made one, else the model."""
        if self.query_encoder is not None:
            return self.query_encoder
        encoder = self.manifest.get("encoder")
        return load_query_model(str(self.directory / encoder) if encoder else self.model_name)


def file_digest(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files in name order (the manifest's checksums)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        digest.update(file.read_bytes())
    return digest.hexdigest()


@contextmanager
def index_lock(index_dir: Path, exclusive: bool):
    """Readers share the lock, the swap of a rebuilt folder takes it alone: a reader never
    sees the moment between moving the old folder away and moving the new one in."""
    try:
        handle = open(index_dir.parent / f".{index_dir.name}.lock", "a")  # noqa: SIM115
    except OSError:  # a read-only location: nothing can be rebuilding it
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


def _read_manifest(index_dir: Path, model_name: str | None) -> dict:
    path = index_dir / MANIFEST
    fix = rebuild_command(index_dir, model_name)
    if not path.exists():
        raise IndexMissing(f"No index in {index_dir}/.", fix)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"{path} is unreadable ({error}).", fix) from error


def check_manifest(
    manifest: dict, index_dir: Path, model_name: str | None, sources: Sources
) -> None:
    """Refuse an index made by another format, corpus or model, naming the rebuild command."""
    fix = rebuild_command(index_dir, model_name or manifest.get("model"))
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStale(f"{index_dir}/ was built by another version of GIST Answers.", fix)
    if manifest.get("corpus_hash") != corpus_hash(sources):
        raise IndexStale(f"The corpus changed since {index_dir}/ was built.", fix)
    if model_name and manifest.get("model") != model_name:
        raise IndexStale(
            f"{index_dir}/ was built with model {manifest.get('model')!r}, not {model_name!r}.",
            fix,
        )


def _load_files(index_dir: Path, manifest: dict, fix: str) -> Index:
    import faiss

    for name, digest in manifest.get("files", {}).items():
        path = index_dir / name
        if not path.exists() or file_digest(path) != digest:
            raise IndexCorrupt(f"{path} is missing or damaged.", fix)
    try:
        chunks = tuple(
            Chunk(**json.loads(line))
            for line in (index_dir / CHUNKS).read_text(encoding="utf-8").splitlines()
        )
        sentences = tuple(
            Sentence(**json.loads(line))
            for line in (index_dir / SENTENCES).read_text(encoding="utf-8").splitlines()
        )
        chunk_index = faiss.read_index(str(index_dir / CHUNK_VECTORS))
        sentence_vectors = np.load(index_dir / SENTENCE_VECTORS)
        window_vectors = np.load(index_dir / WINDOW_VECTORS)
        lexical = LexicalIndex.load(index_dir / BM25_DIR)
        heads = load_heads(index_dir)
        bank = Bank(np.load(index_dir / BANK_VECTORS), np.load(index_dir / BANK_SENTENCES))
        query_encoder = None
        if QUERY_ENCODER_DIR in manifest.get("files", {}):
            from indexer.onnx_encoder import OnnxEncoder

            query_encoder = OnnxEncoder(index_dir / QUERY_ENCODER_DIR)
    except Exception as error:  # any parse failure means the same thing to the user
        raise IndexCorrupt(f"{index_dir}/ cannot be read ({error}).", fix) from error
    if chunk_index.ntotal != len(chunks) or not (
        len(sentences) == len(sentence_vectors) == len(window_vectors)
        and len(bank.vectors) == len(bank.sentences)
        and (not len(bank.sentences) or int(bank.sentences.max()) < len(sentences))
    ):
        raise IndexCorrupt(f"{index_dir}/ has mismatched parts.", fix)
    return Index(
        index_dir,
        manifest,
        chunks,
        sentences,
        chunk_index,
        sentence_vectors,
        window_vectors,
        lexical,
        query_encoder,
        heads,
        bank,
    )


def load_index(
    index_dir: Path = DEFAULT_INDEX_DIR,
    model_name: str | None = None,
    corpus_dir: Path = CORPUS_DIR,
) -> Index:
    """Load and verify an index; raises IndexMissing, IndexStale or IndexCorrupt with the fix."""
    index_dir = Path(index_dir)
    sources = load_sources(corpus_dir)
    with index_lock(index_dir, exclusive=False):
        manifest = _read_manifest(index_dir, model_name)
        check_manifest(manifest, index_dir, model_name, sources)
        return _load_files(index_dir, manifest, rebuild_command(index_dir, model_name))


def ensure_index(index_dir: Path = DEFAULT_INDEX_DIR, model_name: str | None = None) -> Index:
    """Load the index, first building it (with a progress bar) if it is missing, stale or
    damaged; for the app and the test run, which should heal rather than refuse."""
    try:
        return load_index(index_dir, model_name or default_model())
    except IndexMissing:
        print(f"Building the search index in {index_dir}/ (first start only)...", flush=True)
    except (IndexStale, IndexCorrupt) as error:
        print(f"{error.reason} Rebuilding the index...", flush=True)
    from indexer.build import build_index  # only when it must build: answering never does

    build_index(index_dir, model_name, progress=True)
    return load_index(index_dir, model_name or default_model())
