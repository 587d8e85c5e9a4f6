"""The repository carries its own copy of the API reference; this reports drift from upstream."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_core import OpenAPI

REPO = Path(__file__).resolve().parents[1]
VENDORED = REPO / "spec"
UPSTREAM = REPO.parent / "shared" / "api"
FILES = ("pracsuite-v1.openapi.yaml", "README.md")


def test_vendored_spec_is_present() -> None:
    """Tests, the generator and the benchmarks read spec/, so a clone builds and tests alone."""
    for name in FILES:
        assert (VENDORED / name).stat().st_size > 0


def test_vendored_spec_is_a_valid_openapi_document() -> None:
    """The spec passes openapi-core's validation (the validating tests build it unvalidated, once per worker)."""
    OpenAPI.from_file_path(str(VENDORED / FILES[0]))  # raises on an invalid document


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="no ../shared/api beside this clone: nothing to compare")
@pytest.mark.parametrize("name", FILES)
def test_vendored_copy_matches_upstream(name: str) -> None:
    """spec/ equals ../shared/api; on drift, copy the new files into spec/ and run tools/codegen/generate.py."""
    upstream = (UPSTREAM / name).read_bytes()
    vendored = (VENDORED / name).read_bytes()
    assert vendored == upstream, f"spec/{name} differs from ../shared/api/{name}: re-vendor and regenerate"
