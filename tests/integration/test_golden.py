"""Golden manifests and collection for a fixed sample at a fixed base URL.

Inputs: tests/golden/volume-full.toml plus the page records of tests/manifest_samples.py.
Regenerate with ``make golden`` (``pytest tests/integration/test_golden.py --update-golden``)
and review the diff like any other change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.manifest_samples import (
    GOLDEN,
    build_collection,
    build_manifest,
    check_presentation,
    full_volume,
    layout,
    make_config,
    manifest_record,
    minimal_volume,
)


def pretty_json(data: Any) -> str:
    """The golden files' form, for reading and diffing: sorted keys, indent 2, newline."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False) + "\n"


def _full() -> dict[str, Any]:
    return build_manifest(full_volume(layout()), make_config())


def _minimal() -> dict[str, Any]:
    return build_manifest(minimal_volume(layout()), make_config())


def _collection() -> dict[str, Any]:
    volumes = [("vol-1", manifest_record(_full())), ("vol-2", manifest_record(_minimal()))]
    return build_collection(volumes, make_config())


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "manifest-full": _full,
    "manifest-minimal": _minimal,
    "collection": _collection,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, request: pytest.FixtureRequest) -> None:
    actual = CASES[name]()
    check_presentation(actual)
    path = GOLDEN / f"{name}.json"
    if request.config.getoption("--update-golden"):
        path.write_text(pretty_json(actual), encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    check_presentation(expected)
    # Compared as parsed JSON, shown as text so that a failure reads as a diff.
    assert pretty_json(actual) == pretty_json(expected), "regenerate with `make golden` if intended"
