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
