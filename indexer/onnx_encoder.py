"""Questions embedded with ONNX Runtime: the index carries an exported copy of the query model.

Answering a question needs one forward pass of a small model. With PyTorch that means importing
torch and transformers (about 4 s of a 2-core machine's cold start, ~300 MB of memory) and
~12 ms per question; the same model exported to ONNX loads in ~0.4 s with onnxruntime and
tokenizers alone and embeds a question in ~6 ms, giving the same vectors (within 2e-7; a test
checks). The export is written at index build, where torch is loaded anyway, and is checked
against the PyTorch model before it is kept. Models that are not of the standard layout, or
that do not export faithfully, are simply embedded with PyTorch as before.
"""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np

from indexer.embed import TransformerEncoder, _resolve, prepare_texts

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
SETTINGS_FILE = "settings.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Texts the export is checked on: short, padded, odd Unicode, and past the length limit.
CHECK_TEXTS = [
    "What are the side effects of imatinib?",
    "  Is surgery used?  ",
    "ｆｕｌｌ ｗｉｄｔｈ and émoji 🙂",
    "long " * 400,
]
MAX_EXPORT_ERROR = 1e-5
ONNX_OPSET = 17


class OnnxEncoder:
    """`encode(texts)` like a sentence-transformers model: unit vectors, one row per text.

    One thread per forward pass: the server runs Gradio on the other core, and concurrent
    questions are batched into one pass (qa/batching.py) rather than run side by side."""

    def __init__(self, folder: Path, threads: int = 1):
        import onnxruntime
        from tokenizers import Tokenizer

        settings = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        self.lower_case = bool(settings["lower_case"])
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: nothing about questions is logged anyway
        self.session = onnxruntime.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: list[str], batch_size: int = 32, **_) -> np.ndarray:
        texts = prepare_texts(texts, self.lower_case)
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
            feed = {
                "input_ids": [e.ids for e in encodings],
                "attention_mask": [e.attention_mask for e in encodings],
                "token_type_ids": [e.type_ids for e in encodings],
            }
            arrays = {name: np.array(feed[name], dtype=np.int64) for name in self.inputs}
            out.append(self.session.run(None, arrays)[0])
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


def export(model_name: str, folder: Path) -> bool:
    """Write `folder` (model.onnx, tokenizer.json, settings.json) for `model_name`; True when
    written and checked, False when this model is left to PyTorch (the reason is printed)."""
    path = Path(_resolve(model_name))
    encoder = TransformerEncoder.open(path) if path.is_dir() else None
    if encoder is None:
        return False  # not a local model of the standard layout: nothing to export from
    try:
        folder.mkdir(parents=True)
        _write(encoder, folder)
        exported = OnnxEncoder(folder).encode(CHECK_TEXTS)
        error = float(np.abs(exported - encoder.encode(CHECK_TEXTS)).max())
        if not error <= MAX_EXPORT_ERROR:
            raise ValueError(f"its vectors differ from PyTorch's by {error:.1e}")
    except Exception as error:  # noqa: BLE001 - any failure means: embed with PyTorch instead
        shutil.rmtree(folder, ignore_errors=True)  # no half-written model left in the index
        print(
            f"note: questions will be embedded with PyTorch (slower start): the ONNX export "
            f"of {model_name!r} failed ({error})",
            file=sys.stderr,
        )
        return False
    return True


def _write(encoder: TransformerEncoder, folder: Path) -> None:
    import torch

    sample = encoder.tokenize(["a question", "a somewhat longer question to pad against"])
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        torch.onnx.export(
            encoder.module,
            tuple(sample[name] for name in INPUTS),
            str(folder / MODEL_FILE),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    from tokenizers import Tokenizer

    # A copy set to truncate and pad as `encoder.tokenize` does on every call.
    tokenizer = Tokenizer.from_str(encoder.tokenizer.backend_tokenizer.to_str())
    tokenizer.enable_truncation(encoder.max_length)
    tokenizer.enable_padding(
        pad_id=encoder.tokenizer.pad_token_id, pad_token=encoder.tokenizer.pad_token
    )
    tokenizer.save(str(folder / TOKENIZER_FILE))
    settings = {"lower_case": bool(encoder.lower_case), "max_length": encoder.max_length}
    (folder / SETTINGS_FILE).write_text(json.dumps(settings), encoding="utf-8")
