"""Which page each transcription file belongs to: by its name, or by the image it declares.

A file ``f017r.xml`` (or ``f017r.txt``, ``f017r.hocr``) belongs to page ``f017r`` or to the page
whose master is ``f017r.tif``; a file with another name belongs to the page whose master has the
stem of the image file named inside it (PAGE ``Page/@imageFilename``, ALTO
``sourceImageInformation/fileName``), so an export folder from eScriptorium or Transkribus can be
used as it is. Names are compared by stem, case-insensitively, after NFC normalisation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

_SEPARATOR = re.compile(r"[\\/]")


@dataclass(frozen=True)
class Matching:
    """Transcription files matched to pages, and the files that could not be.

    ``pages`` maps a file's name to its page id, in the order of the file names; ``problems``
    has one line per file that was left out (no page, a conflict, or a second file for a page);
    ``conflicts`` maps each page with two or more files to their names.
    """

    pages: dict[str, str]
    problems: tuple[str, ...]
    conflicts: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _keys(name: str) -> tuple[str, ...]:
    """The comparable stems of a file name or path: the full stem, then up to the first dot.

    ``Scans/F017R.tif`` gives ``f017r``; ``PPN1-00000780.ocr.xml`` gives
    ``ppn1-00000780.ocr`` and ``ppn1-00000780``.
    """
    base = unicodedata.normalize("NFC", _SEPARATOR.split(name.strip())[-1]).casefold()
    stem = base.rsplit(".", 1)[0] if "." in base[1:] else base
    first = base.split(".", 1)[0] if "." in base[1:] else base
    return tuple(dict.fromkeys(key for key in (stem, first) if key))


def _index(pages: Sequence[tuple[str, str]]) -> dict[str, str | None]:
    """Stem -> page id for page ids and master file stems; None where two pages share a stem."""
    index: dict[str, str | None] = {}
    for page_id, master in pages:
        for key in {_keys(name)[0] for name in (page_id, master) if _keys(name)}:
            index[key] = page_id if index.get(key, page_id) == page_id else None
    return index


class _Ambiguous(Exception):
    """A stem that two pages share (their ids differ only in case or normalisation)."""


def _lookup(name: str, index: Mapping[str, str | None]) -> str | None:
    for key in _keys(name):
        if key in index:
            page_id = index[key]
            if page_id is None:
                raise _Ambiguous(key)
            return page_id
    return None


def _page_for(
    file: str, declared: str | None, index: Mapping[str, str | None]
) -> tuple[str | None, str]:
    """The page id of one file, or None and a problem line naming the file."""
    try:
        by_name = _lookup(file, index)
        by_image = _lookup(declared, index) if declared else None
    except _Ambiguous as exc:
        return None, f"{file}: more than one page has the name {exc} (page ids differ only in case)"
    if by_name and by_image and by_name != by_image:
        return None, (
            f"{file}: named for page {by_name} but declares image {declared} of page "
            f"{by_image} (rename the file or correct the image name inside it)"
        )
    if by_name or by_image:
        return by_name or by_image, ""
    inside = f" or its declared image {declared}" if declared else ""
    return None, f"{file}: no page of this volume matches its name{inside}"


def match_files(files: Mapping[str, str | None], pages: Sequence[tuple[str, str]]) -> Matching:
    """Match a volume's transcription files to its pages.

    A file matches by its own name (page id or master stem); failing that, by the image file
    name declared inside it. A file whose name and declared image point at different pages, a
    file that matches no page, and every file of a page that has two or more are left out with
    one problem line each; those pages keep their OCR.

    Args:
        files: Each file's name (relative to the volume's transcription folder) and the image
            file name it declares, or None.
        pages: Each page's id and master file name, in volume order.

    Returns:
        The matches, ordered by file name, and the problems.
    """
    index = _index(pages)
    found: dict[str, str] = {}
    problems: list[str] = []
    for file in sorted(files):
        page_id, problem = _page_for(file, files[file], index)
        if page_id is None:
            problems.append(problem)
        else:
            found[file] = page_id
    by_page: dict[str, list[str]] = {}
    for file, page_id in found.items():
        by_page.setdefault(page_id, []).append(file)
    conflicts = {page_id: tuple(names) for page_id, names in by_page.items() if len(names) > 1}
    for page_id, names in conflicts.items():
        problems.append(
            f"page {page_id}: {len(names)} transcription files ({', '.join(names)}); "
            "keep one, the page keeps its OCR meanwhile"
        )
        for name in names:
            del found[name]
    return Matching(pages=found, problems=tuple(problems), conflicts=conflicts)
