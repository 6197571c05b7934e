"""GGUF → safetensors conversion, cached beside the GGUF file, for engines that cannot read GGUF (vLLM).

transformers dequantises the GGUF tensors and writes a Hugging Face model folder (config, tokenizer with
its chat template, bf16 safetensors). The folder is built under a temporary name and renamed into place
when complete, so an interrupted conversion never leaves a folder that looks like a model.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
from pathlib import Path

from modulo.generators.errors import GeneratorError


def converted_dir(gguf: Path) -> Path:
    """Where the converted folder of `gguf` lives: beside it, named `<stem>-bf16`."""
    return gguf.with_name(f"{gguf.stem}-bf16")


def ensure_safetensors(gguf: Path) -> Path:
    """The converted model folder of `gguf`, converting it first if it is not cached (minutes on 2 cores)."""
    target = converted_dir(gguf)
    if target.is_dir():
        return target
    try:
        import accelerate  # noqa: F401  (transformers needs it to load GGUF)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig
    except ImportError as exc:
        raise GeneratorError(
            f"converting {gguf.name} to safetensors needs torch, transformers, gguf and accelerate: "
            "pip install torch transformers gguf accelerate (on CPU-only machines pin the CPU build of "
            "torch, see docs/vllm.md)"
        ) from exc
    temp = Path(tempfile.mkdtemp(dir=gguf.parent, prefix=f".{target.name}.", suffix=".partial"))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent,
            gguf_file=gguf.name,
            dtype=torch.bfloat16,
            quantization_config=GgufConfig(dequantize=True),  # dense weights, which save_pretrained can write
        )
        model.save_pretrained(temp)
        tokenizer.save_pretrained(temp)
        del model
        gc.collect()
        temp.chmod(0o755)  # mkdtemp and save_pretrained create private files; the model is not a secret
        for file in temp.iterdir():
            file.chmod(0o644)
        try:
            temp.rename(target)
        except OSError:
            if not target.is_dir():  # another process did not win the race: a real failure
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def main() -> None:
    """`python -m modulo.generators.convert`: assemble and convert the embedded model (once), then print
    the converted folder's path, e.g. for `vllm serve`."""
    from modulo.generators.weights import QWEN_CODER_05B, ensure_model

    print(ensure_safetensors(ensure_model(QWEN_CODER_05B)))


if __name__ == "__main__":
    main()
