"""Ranges of a manifest: descriptor ranges -> nested ``structures`` over the canvases present."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from iiif_prezi3 import CanvasRef, Range

from pipeline.iiif import parts as parts
from pipeline.iiif.models import Make
from pipeline.iiif.text import LangMap
from pipeline.layout import Layout


@dataclass(frozen=True)
class RangeParts:
    """A range: its id, label and items (canvas ids and nested ranges) in page order."""

    id: str
    label: LangMap
    items: tuple[str | RangeParts, ...]


def range_parts(
    entries: Sequence[dict[str, Any]],
    order: Sequence[str],
    present: dict[str, int],
    volume: str,
    layout: Layout,
    prefix: str = "",
) -> list[RangeParts]:
    """Turn descriptor ranges into ranges over the canvases present, in page order.

    Canvases covered by a nested range sit inside it; the rest of a range's span is listed
    directly, each item at its page position. Ranges left empty (all their pages failed, in a
    partial manifest) are dropped.

    Args:
        entries: The descriptor's ``ranges`` (first/last page ids, label, nested ``ranges``).
        order: Every page id of the volume, in order (descriptor ranges are checked against it).
        present: Page id -> canvas position, for the pages that have a canvas.
        volume: The volume id.
        layout: The output layout.
        prefix: Dotted position of the parent range.

    Returns:
        The ranges.

    """
    return [r for r, _, _ in _ranges(entries, order, present, volume, layout, prefix)]


def _ranges(
    entries: Sequence[dict[str, Any]],
    order: Sequence[str],
    present: dict[str, int],
    volume: str,
    layout: Layout,
    prefix: str,
) -> list[tuple[RangeParts, int, set[str]]]:
    """Build ranges with the canvas position they start at and the pages they cover."""
    out: list[tuple[RangeParts, int, set[str]]] = []
    for n, entry in enumerate(entries, start=1):
        number = f"{prefix}{n}"
        positioned: list[tuple[int, str | RangeParts]] = []
        covered: set[str] = set()
        nested = _ranges(entry.get("ranges", []), order, present, volume, layout, f"{number}.")
        for child, start, pages in nested:
            positioned.append((start, child))
            covered |= pages
        if entry.get("first") is not None:
            span = order[order.index(entry["first"]) : order.index(entry["last"]) + 1]
            for page in span:
                if page in present and page not in covered:
                    positioned.append((present[page], layout.canvas_id(volume, page)))
                    covered.add(page)
        if not positioned:
            continue
        positioned.sort(key=lambda p: p[0])
        label = parts.text_map(entry["label"], f"ranges[{number}].label") or {"none": [number]}
        items = tuple(i for _, i in positioned)
        out.append(
            (RangeParts(layout.range_id(volume, number), label, items), positioned[0][0], covered)
        )
    return out


def build_range(make: Make, r: RangeParts) -> Any:
    """Build a range of the manifest's ``structures``, its nested ranges included.

    Args:
        make: The factory (:func:`pipeline.iiif.models.plain` or ``validated``).
        r: The range's parts.

    Returns:
        The range.

    Raises:
        pydantic.ValidationError: With :func:`pipeline.iiif.models.validated` as ``make``,
            iiif-prezi3 refuses a value.

    """
    items = [
        build_range(make, i) if isinstance(i, RangeParts) else make(CanvasRef, id=i, type="Canvas")
        for i in r.items
    ]
    return make(Range, id=r.id, label=r.label, items=items)
