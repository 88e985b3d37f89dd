"""A volume's transcription folder: its files, the image each declares, the page each belongs to.

Every visible file directly in ``transcriptions/VOLUME/`` is a candidate (sub-folders and hidden
files such as ``.DS_Store`` are not). The image a PAGE or ALTO file declares is read from the
start of the file only; a file that cannot be read that far is matched by its name, and the
stage that reads it whole says what is wrong with it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from lxml import etree

from pipeline.input.transcripts.match import match_files

# Elements that hold the declared image (PAGE ``Page/@imageFilename``, ALTO ``fileName``) and
# elements after which none can come.
_PAGE, _FILE_NAME = "Page", "fileName"
_PAST = frozenset({"Layout", "TextRegion", "PrintSpace"})


@dataclass(frozen=True)
class Found:
    """A volume's transcription files by page id (file names), and one line per file left out.

    ``conflicts`` maps each page with two or more files (none of them used) to their names.
    """

    files: dict[str, str]
    problems: tuple[str, ...]
    conflicts: dict[str, tuple[str, ...]] = field(default_factory=dict)


def declared_image(path: Path) -> str | None:
    """The image file name a PAGE or ALTO file declares (without folders), else ``None``.

    Only the start of the file is parsed; a file that is not XML, or breaks off before the
    declaration, declares nothing here.
    """
    try:
        with path.open("rb") as fh:
            events = etree.iterparse(
                fh, events=("start", "end"), resolve_entities=False, no_network=True
            )
            for event, element in events:
                name = etree.QName(element).localname
                if event == "start" and name == _PAGE and element.get("imageFilename"):
                    return PureWindowsPath(str(element.get("imageFilename")).strip()).name
                if event == "end" and name == _FILE_NAME and element.text:
                    return PureWindowsPath(element.text.strip()).name
                if name in _PAST:
                    return None
    except (etree.XMLSyntaxError, OSError):
        return None
    return None


def _candidates(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.is_file() and not e.name.startswith("."))


def find_transcripts(folder: Path, pages: Sequence[tuple[str, str]]) -> Found:
    """Match the files of a volume's transcription folder to its pages.

    Args:
        folder: ``transcriptions/VOLUME/`` (it need not exist: no files).
        pages: Each page's id and master file name, in volume order.

    Returns:
        The file of each page that has exactly one, and one line per file left out (it
        matches no page, or its page has two files), naming the folder and the file.
    """
    if not folder.is_dir():
        return Found(files={}, problems=())
    names = _candidates(folder)
    matching = match_files({name: declared_image(folder / name) for name in names}, pages)
    files = {page: name for name, page in matching.pages.items()}
    # A line names the file ("f017r.xml: ...") or, for two files of one page, the page.
    problems = tuple(
        f"{folder}: {p}" if p.startswith("page ") else f"{folder}/{p}" for p in matching.problems
    )
    return Found(files=files, problems=problems, conflicts=matching.conflicts)
