"""The index folder (Contract 1): build it atomically, load it only when it matches the corpus."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from indexer.embed import default_model, embed, load_model, load_query_model
from indexer.errors import IndexCorrupt, IndexMissing, IndexStale, reason, rebuild_command
from indexer.heads import HEADS_FILE, HEADS_REPORT, HEADS_VOCABULARY, load_heads
from indexer.lexical import LexicalIndex
from indexer.records import Chunk, Sentence, antecedent, lead_in
from indexer.sources import CORPUS_DIR, Sources, corpus_hash, load_sources

DEFAULT_INDEX_DIR = Path("index")
FORMAT_VERSION = 6  # bump when parsing, chunking, tokenising or embedding text changes
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
SENTENCES = "sentences.jsonl"
CHUNK_VECTORS = "vectors.faiss"
SENTENCE_VECTORS = "sentence_vectors.npy"
WINDOW_VECTORS = "sentence_window_vectors.npy"
BM25_DIR = "bm25"
QUERY_ENCODER_DIR = "query_encoder"  # the model as ONNX, for questions (indexer/onnx_encoder.py)
LIBRARIES = (
    "sentence-transformers",
    "faiss-cpu",
    "bm25s",
    "langchain-text-splitters",
    "torch",
    "onnx",
    "onnxruntime",
)


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

    @property
    def model_name(self) -> str:
        return self.manifest["model"]

    def question_model(self):
        """What embeds questions: the ONNX copy when the build made one, else the model."""
        return self.query_encoder or load_query_model(self.model_name)


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


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")


@contextmanager
def _index_lock(index_dir: Path, exclusive: bool):
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


def build_index(
    index_dir: Path = DEFAULT_INDEX_DIR,
    model_name: str | None = None,
    corpus_dir: Path = CORPUS_DIR,
    progress: bool = True,
) -> dict:
    """Parse, chunk, embed and write the index into a temporary folder, then swap it in."""
    import faiss

    # Imported here: chunking needs langchain and pysbd, which answering never uses.
    from indexer.chunk import chunk_pages, chunk_sentences, chunk_settings
    from indexer.onnx_encoder import export
    from indexer.parse import parse_corpus
    from indexer.train_heads import build_heads

    started = time.perf_counter()
    model_name = model_name or default_model()
    sources = load_sources(corpus_dir)
    pages = parse_corpus(sources.read_text(), sources)
    chunks = chunk_pages(pages)
    sentences = chunk_sentences(chunks)
    model = load_model(model_name)
    by_id = {c.id: c for c in chunks}
    of_chunk: dict[int, list[Sentence]] = {}
    for sentence in sentences:
        of_chunk.setdefault(sentence.chunk_id, []).append(sentence)
    texts = [chunk_context(c) for c in chunks]
    texts += [sentence_context(by_id[s.chunk_id], s) for s in sentences]
    texts += [sentence_window(by_id[s.chunk_id], s, of_chunk[s.chunk_id]) for s in sentences]
    vectors = embed(model, texts, progress=progress)
    chunk_vectors = vectors[: len(chunks)]
    sentence_vectors, window_vectors = np.split(vectors[len(chunks) :], 2)
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
        LexicalIndex.build([c.text for c in chunks]).save(tmp / BM25_DIR)
        heads_report = build_heads(model, corpus_dir, tmp)
        files = [CHUNKS, SENTENCES, CHUNK_VECTORS, SENTENCE_VECTORS, WINDOW_VECTORS, BM25_DIR]
        files += [HEADS_FILE, HEADS_VOCABULARY, HEADS_REPORT]
        if export(model_name, tmp / QUERY_ENCODER_DIR):
            files.append(QUERY_ENCODER_DIR)
        manifest = {
            "format": FORMAT_VERSION,
            "model": model_name,
            "dimension": int(chunk_vectors.shape[1]),
            "chunking": chunk_settings(),
            "corpus_hash": corpus_hash(sources),
            "counts": {
                "pages": len(pages),
                "sections": sum(len(p.sections) for p in pages),
                "chunks": len(chunks),
                "sentences": len(sentences),
            },
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 2),
            "libraries": _versions(),
            "heads": heads_report,
            "files": {name: _file_digest(tmp / name) for name in files},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        with _index_lock(index_dir, exclusive=True):
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


def _read_manifest(index_dir: Path, model_name: str | None) -> dict:
    path = index_dir / MANIFEST
    if not path.exists():
        raise IndexMissing(
            f"No index in {index_dir}/. Build it with: {rebuild_command(index_dir, model_name)}"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorrupt(
            f"{path} is unreadable ({error}). Rebuild with: "
            f"{rebuild_command(index_dir, model_name)}"
        ) from error


def check_manifest(
    manifest: dict, index_dir: Path, model_name: str | None, sources: Sources
) -> None:
    """Refuse an index made by another format, corpus or model, naming the rebuild command."""
    fix = rebuild_command(index_dir, model_name or manifest.get("model"))
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStale(
            f"{index_dir}/ was built by another version of GIST Answers. Rebuild with: {fix}"
        )
    if manifest.get("corpus_hash") != corpus_hash(sources):
        raise IndexStale(f"The corpus changed since {index_dir}/ was built. Rebuild with: {fix}")
    if model_name and manifest.get("model") != model_name:
        raise IndexStale(
            f"{index_dir}/ was built with model {manifest.get('model')!r}, not {model_name!r}. "
            f"Rebuild with: {fix}"
        )


def _load_files(index_dir: Path, manifest: dict, fix: str) -> Index:
    import faiss

    for name, digest in manifest.get("files", {}).items():
        path = index_dir / name
        if not path.exists() or _file_digest(path) != digest:
            raise IndexCorrupt(f"{path} is missing or damaged. Rebuild with: {fix}")
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
        query_encoder = None
        if QUERY_ENCODER_DIR in manifest.get("files", {}):
            from indexer.onnx_encoder import OnnxEncoder

            query_encoder = OnnxEncoder(index_dir / QUERY_ENCODER_DIR)
    except Exception as error:  # any parse failure means the same thing to the user
        raise IndexCorrupt(f"{index_dir}/ cannot be read ({error}). Rebuild with: {fix}") from error
    if chunk_index.ntotal != len(chunks) or not (
        len(sentences) == len(sentence_vectors) == len(window_vectors)
    ):
        raise IndexCorrupt(f"{index_dir}/ has mismatched parts. Rebuild with: {fix}")
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
    )


def ensure_index(index_dir: Path = DEFAULT_INDEX_DIR, model_name: str | None = None) -> Index:
    """Load the index, first building it (with a progress bar) if it is missing, stale or
    damaged; for the app and the test run, which should heal rather than refuse."""
    try:
        return load_index(index_dir, model_name or default_model())
    except IndexMissing:
        print(f"Building the search index in {index_dir}/ (first start only)...", flush=True)
    except (IndexStale, IndexCorrupt) as error:
        print(f"{reason(error)} Rebuilding the index...", flush=True)
    build_index(index_dir, model_name, progress=True)
    return load_index(index_dir, model_name or default_model())


def load_index(
    index_dir: Path = DEFAULT_INDEX_DIR,
    model_name: str | None = None,
    corpus_dir: Path = CORPUS_DIR,
) -> Index:
    """Load and verify an index; raises IndexMissing, IndexStale or IndexCorrupt with the fix."""
    index_dir = Path(index_dir)
    sources = load_sources(corpus_dir)
    with _index_lock(index_dir, exclusive=False):
        manifest = _read_manifest(index_dir, model_name)
        check_manifest(manifest, index_dir, model_name, sources)
        return _load_files(index_dir, manifest, rebuild_command(index_dir, model_name))
