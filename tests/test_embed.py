"""The light query encoder gives the same vectors as sentence-transformers on the real model."""

import numpy as np

from indexer.embed import TransformerEncoder, embed, load_model, load_query_model


def test_query_encoder_matches_sentence_transformers():
    reference, light = load_model("bundled"), load_query_model("bundled")
    assert isinstance(light, TransformerEncoder)
    texts = [
        "What are the side effects of Gleevec?",
        "  padded question  ",
        "ｆｕｌｌ ｗｉｄｔｈ",
        "long " * 400,  # past max_seq_length: both truncate the same way
        "Radiofrequency ablation (RFA), which uses high-energy radio waves to heat the tumor",
    ]
    a, b = embed(reference, texts), embed(light, texts)
    assert a.shape == b.shape == (5, 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)


def test_a_folder_that_is_not_a_standard_model_is_not_opened(tmp_path):
    assert TransformerEncoder.open(tmp_path) is None
    (tmp_path / "modules.json").write_text('[{"type": "something.Else", "path": ""}]')
    assert TransformerEncoder.open(tmp_path) is None


def test_the_index_embeds_questions_with_its_onnx_copy_of_the_model(built_index):
    """The build adapts the model to the question bank, saves it (sentence-transformers 6
    layout) and exports it; questions get the vectors sentence-transformers gives for it."""
    from indexer.onnx_encoder import CHECK_TEXTS, OnnxEncoder
    from indexer.store import load_index

    index = load_index(built_index)
    assert index.manifest["encoder"] == "encoder"
    assert isinstance(index.question_model(), OnnxEncoder)
    texts = [*CHECK_TEXTS, "GIST", "", "<script>alert(1)</script> what is imatinib?"]
    reference = embed(load_model(str(built_index / "encoder")), texts)
    assert np.abs(embed(index.question_model(), texts) - reference).max() < 1e-5
    batched = embed(index.question_model(), texts[:3])  # padded together, same vectors
    assert np.abs(batched - reference[:3]).max() < 1e-5


def test_a_model_that_cannot_be_exported_is_left_to_pytorch(tmp_path):
    from indexer.onnx_encoder import export

    assert export(str(tmp_path / "not-a-model"), tmp_path / "out") is False
    assert not (tmp_path / "out").exists()


def test_a_failed_export_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    from indexer import onnx_encoder

    def half_written(encoder, folder):
        (folder / onnx_encoder.MODEL_FILE).write_bytes(b"partial")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(onnx_encoder, "_write", half_written)
    assert onnx_encoder.export("bundled", tmp_path / "out") is False
    assert not (tmp_path / "out").exists()
    assert "embedded with PyTorch" in capsys.readouterr().err


def test_the_adapted_model_brings_bank_questions_closer_to_their_sentences(built_index):
    """Each bank question against the sentence it points at, before and after adaptation: the
    training moved them together, and left the cached base model as it was."""
    from indexer.store import load_index

    index = load_index(built_index)
    base = load_model("bundled")
    before_copy = embed(base, ["what is imatinib?"])
    adapted = load_model(str(built_index / "encoder"))
    assert len(index.bank.vectors) > 500
    from indexer.bank import load_bank_questions, locate
    from indexer.sources import CORPUS_DIR

    rows = load_bank_questions(CORPUS_DIR / "training" / "bank.jsonl")
    located = zip(rows, locate(rows, list(index.sentences)), strict=True)
    pairs = [(q.question, index.sentences[at].text) for q, at in located if at is not None]
    pairs = pairs[:200]
    assert len(pairs) == 200

    texts = [s.text for s in index.sentences]
    answer = np.array([texts.index(s) for _, s in pairs])

    def found_first(model):  # share of questions whose own sentence is the closest of all
        questions = embed(model, [q for q, _ in pairs])
        return float(np.mean((questions @ embed(model, texts).T).argmax(axis=1) == answer))

    assert found_first(adapted) > found_first(base) + 0.1
    assert np.array_equal(embed(base, ["what is imatinib?"]), before_copy)


def test_a_bank_phrase_the_pages_repeat_is_found_on_the_page_its_writer_named(built_index):
    """The chemotherapy and the radiation pages both list "Nausea and vomiting": a radiation
    question's row names radiation-therapy and must point there, not at chemo's."""
    from indexer.bank import BankQuestion, locate
    from indexer.store import load_index

    index = load_index(built_index)
    sentences = list(index.sentences)
    pages = [index.chunks[s.chunk_id].page_slug for s in sentences]
    rows = [
        BankQuestion("does the radiation make you sick", "Nausea and vomiting", page)
        for page in ("radiation-therapy", "chemotherapy")
    ]
    found = locate(rows, sentences, pages)
    assert [pages[at] for at in found] == ["radiation-therapy", "chemotherapy"]
    assert all(sentences[at].text == "Nausea and vomiting" for at in found)
