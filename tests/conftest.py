"""Shared test fixtures.

Reference data lives in ``../shared/data`` beside the repository (never copied
in). A test that needs it skips with a reason when it is absent, except under
``CI=true`` where a missing data set is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("IOUKIT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _require(path: Path) -> Path:
    if path.exists():
        return path
    msg = f"reference data not found at {path}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + " (CI=true: the shared data must be present)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of ``../shared/data``."""
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def coco100(shared_data: Path) -> Path:
    """The COCO val2014 100-image subset with detections and pycocotools outputs."""
    return _require(shared_data / "coco-val2014-100")
