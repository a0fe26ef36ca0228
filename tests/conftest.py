"""Shared fixtures: paths to the sample data and the shared corpus."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample-data"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture
def sample_contact() -> Path:
    """The seed contact file, tab-separated."""
    return SAMPLE / "contact.tsv"


@pytest.fixture
def corpus() -> Path:
    """The shared real-world corpus; skips when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return CORPUS


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write test input as bytes."""
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return p
