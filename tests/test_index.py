"""The index folder: save/load round trip, named errors with the fix, atomic rebuilds."""

import json
import shutil

import numpy as np
import pytest

from indexer import build
from indexer.build import build_index
from indexer.embed import embed, load_model
from indexer.errors import IndexCorrupt, IndexMissing, IndexStale
from indexer.records import NEEDS_ANTECEDENT
from indexer.sources import CORPUS_DIR
from indexer.store import load_index


def _search(index, question: str) -> list[int]:
    vector = embed(load_model(index.model_name), [question])
    _, ids = index.chunk_index.search(vector, 5)
    return ids[0].tolist()


def test_manifest_records_the_build(built_index):
    manifest = json.loads((built_index / "manifest.json").read_text())
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["counts"]["pages"] == 7
    lines = (built_index / "chunks.jsonl").read_text().splitlines()
    assert manifest["counts"]["chunks"] == len(lines)
    assert manifest["chunking"]["chunk_size"] > 0
    assert manifest["libraries"]["faiss-cpu"]
    assert len(manifest["corpus_hash"]) == 64


def test_save_load_gives_the_same_search_results(built_index, index_copy):
    first, second = load_index(built_index), load_index(index_copy)
    for question in ["side effects of sunitinib", "keyhole surgery", "embolization"]:
        assert _search(first, question) == _search(second, question)
    assert first.chunks == second.chunks
    assert np.array_equal(first.sentence_vectors, second.sentence_vectors)
    assert np.array_equal(first.window_vectors, second.window_vectors)


def test_sentences_that_lean_on_another_are_also_embedded_with_it(built_index):
    index = load_index(built_index)
    same = np.isclose((index.sentence_vectors * index.window_vectors).sum(axis=1), 1.0, atol=1e-5)
    for sentence, unchanged in zip(index.sentences, same, strict=True):
        leans = sentence.list_id is not None or (
            sentence.position > 0 and NEEDS_ANTECEDENT.search(sentence.text)
        )
        if not leans:
            assert unchanged, sentence.text  # a sentence that stands alone has one view
    it_targets = next(s for s in index.sentences if s.text.startswith("It targets both the KIT"))
    assert not same[it_targets.id]


def test_missing_index_names_the_build_command(tmp_path):
    with pytest.raises(IndexMissing, match=r"python -m indexer --index"):
        load_index(tmp_path / "nowhere")


def test_stale_corpus_is_refused(index_copy, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    source = corpus / "acs_gist_treatment.md"
    source.write_text(source.read_text() + "\nAn edit after the build.\n")
    with pytest.raises(IndexStale, match=r"corpus changed.*python -m indexer --index"):
        load_index(index_copy, corpus_dir=corpus)


def test_index_from_another_model_is_refused(index_copy):
    with pytest.raises(IndexStale, match=r"built with model .*--model some/other-model"):
        load_index(index_copy, model_name="some/other-model")


def test_truncated_vectors_are_refused(index_copy):
    vectors = index_copy / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[: vectors.stat().st_size // 2])
    with pytest.raises(IndexCorrupt, match=r"vectors.faiss.*Rebuild with: python -m indexer"):
        load_index(index_copy)


def test_a_damaged_copy_of_the_model_is_refused(index_copy):
    model = index_copy / "query_encoder" / "model.onnx"
    model.write_bytes(model.read_bytes()[:1000])
    with pytest.raises(IndexCorrupt, match=r"query_encoder.*Rebuild with: python -m indexer"):
        load_index(index_copy)


def test_deleted_file_and_garbled_manifest_are_refused(index_copy):
    (index_copy / "sentences.jsonl").unlink()
    with pytest.raises(IndexCorrupt):
        load_index(index_copy)
    (index_copy / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="unreadable"):
        load_index(index_copy)


def test_interrupted_build_leaves_the_previous_index_usable(index_copy, monkeypatch):
    before = (index_copy / "manifest.json").read_text()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut while writing the BM25 index")

    monkeypatch.setattr(build.LexicalIndex, "save", crash)
    monkeypatch.setattr(build, "adapt", lambda model, pairs, progress=True: model)  # 90 s saved
    with pytest.raises(KeyboardInterrupt):
        build_index(index_copy, progress=False)
    assert (index_copy / "manifest.json").read_text() == before
    assert len(load_index(index_copy).chunks) > 0
    leftovers = [p.name for p in index_copy.parent.iterdir() if ".building-" in p.name]
    assert leftovers == []
