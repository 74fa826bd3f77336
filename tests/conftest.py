"""Shared test settings: where ../shared lives (RINGRIFT_SHARED overrides)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("RINGRIFT_SHARED", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared folder {SHARED_DIR} not found (set RINGRIFT_SHARED to run this test)")
    return SHARED_DIR
