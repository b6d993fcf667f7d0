"""Fixtures for the watermark/provenance tests: one local signing identity per session (key generation is slow-ish)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.provenance import ensure_signing_identity


@pytest.fixture(scope="session")
def signing_var_dir(tmp_path_factory) -> Path:
    var_dir = tmp_path_factory.mktemp("var")
    ensure_signing_identity(None, None, var_dir)
    return var_dir


@pytest.fixture(scope="session")
def signing_identity(signing_var_dir) -> tuple[Path, Path]:
    return ensure_signing_identity(None, None, signing_var_dir)
