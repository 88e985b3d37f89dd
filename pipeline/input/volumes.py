"""Find volume folders under the scans folder and the pages of each, in order."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.errors import ConfigError, JobInputError
from pipeline.input.catalogue import CatalogueEntry, describe
from pipeline.input.descriptor import (
    DESCRIPTOR,
    Descriptor,
    PageEntry,
    listed_name,
    reference_problems,
)
from pipeline.input.transcripts.folder import Found, find_transcripts
from pipeline.layout import SAFE_ID, check_volume_id, volume_id_problem
from pipeline.layout.order import sort_key
from pipeline.records import PageItem, TranscriptFile

IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".j2k", ".jpx"})
# Files that look like page images we do not take. They still become pages, which fail at
# ingest with the reason, so that a page in an unexpected format never vanishes silently.
OTHER_IMAGE_SUFFIXES = frozenset(
    {
        ".gif", ".bmp", ".webp", ".heic", ".heif", ".avif", ".jxl", ".jpf", ".jfif", ".jpe",
        ".pdf", ".psd", ".svg", ".tga", ".pcx", ".ppm", ".pgm", ".pbm", ".pnm",
        ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".raf", ".rw2", ".raw",
    }
)  # fmt: skip
PAGE_SUFFIXES = IMAGE_SUFFIXES | OTHER_IMAGE_SUFFIXES


@dataclass(frozen=True)
class Volume:
    """A volume ready to run: its id, folder, descriptor and ordered pages."""

    id: str
    folder: Path
    descriptor: Descriptor
    pages: tuple[PageItem, ...]
    unlisted: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    # Where each descriptor key came from, when a catalogue describes the volume: its row or
    # record, or volume.toml where that won over the catalogue.
    sources: tuple[tuple[str, str], ...] = ()

    #: Transcription files left out (no page, or a second file for a page), one line each.
    transcript_problems: tuple[str, ...] = ()
    #: Pages with two or more transcription files (none used): page id -> file names.
    transcript_conflicts: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _stem(file_name: str) -> str:
    """A plain file name without its suffix (as ``Path.stem``, without building a path)."""
    return os.path.splitext(file_name)[0]  # noqa: PTH122 (10,000 pages: no Path each)


def page_id_for(file_name: str) -> str:
    """Derive a URL-safe, stable page id from a file name (its stem when already safe).

    Unsafe stems (spaces, Hangul, punctuation) keep their safe characters and gain a short hash
    of the original stem, so two different names never collide.
    """
    stem = _nfc(_stem(file_name))
    if SAFE_ID.match(stem):
        return stem
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:100]
    digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else f"p-{digest}"


def _scan_folder(folder: Path) -> tuple[list[str], list[str]]:
    """Page-image candidates (natural order) and every other entry of a volume folder.

    Hidden entries (``.DS_Store``, ``._p001.tif`` from macOS) are never pages. A broken
    symbolic link with an image suffix is a candidate, so that it fails visibly at ingest.
    """
    images: list[str] = []
    ignored: list[str] = []
    with os.scandir(folder) as entries:  # the entry types come with the listing: no stat each
        for entry in entries:
            name = entry.name
            if name == DESCRIPTOR:
                continue
            is_file = entry.is_file() or (entry.is_symlink() and not Path(entry.path).exists())
            suffix = os.path.splitext(name)[1].lower()  # noqa: PTH122 (as in _stem)
            if is_file and not name.startswith(".") and suffix in PAGE_SUFFIXES:
                images.append(name)
            else:
                ignored.append(name + "/" if entry.is_dir() else name)
    return sorted(images, key=sort_key), sorted(ignored, key=sort_key)


def _listed_entries(
    folder: Path, listed: list[PageEntry], found: list[str]
) -> tuple[list[PageEntry], list[str]]:
    """The pages a descriptor lists, each naming its file as found, and the missing files.

    macOS writes file names decomposed (NFD), descriptors are usually typed composed (NFC):
    a listed name matches the file whose name is the same in NFC. A listed file that does not
    exist stays a page (it fails at ingest, naming the file) and is reported as missing.
    """
    by_nfc = {_nfc(name): name for name in found}
    entries: list[PageEntry] = []
    missing: list[str] = []
    for entry in listed:
        name = listed_name(folder, entry.file)
        actual = by_nfc.get(_nfc(name))
        if actual is None:
            actual = name
            if not ((folder / name).is_file() or (folder / name).is_symlink()):
                missing.append(name)
        entries.append(entry.model_copy(update={"file": actual}))
    return entries, missing


def _page_entries(
    folder: Path, desc: Descriptor, found: list[str]
) -> tuple[list[PageEntry], tuple[str, ...], tuple[str, ...]]:
    """The volume's pages in order, the images it leaves unlisted and the listed files missing.

    Raises:
        ConfigError: The descriptor lists a name that is not a plain file name.
        JobInputError: The volume has no pages.
    """
    if desc.pages is None:
        entries = [PageEntry(file=name) for name in found]
        unlisted: tuple[str, ...] = ()
        missing: list[str] = []
    else:
        entries, missing = _listed_entries(folder, desc.pages, found)
        listed = {_nfc(e.file) for e in entries}
        unlisted = tuple(n for n in found if _nfc(n) not in listed)
    if not entries:
        what = "its volume.toml lists no pages" if desc.pages is not None else "no page images"
        raise JobInputError(f"{folder}: {what} (TIFF, JPEG or PNG files)")
    return entries, unlisted, tuple(missing)


def _page_ids(folder: Path, entries: list[PageEntry]) -> list[str]:
    """The page id of each entry, refusing two entries that give one id (or ids equal but case).

    Raises:
        JobInputError: A file is listed twice, two files give the same page id, or two give
            page ids that differ only in case.
    """
    seen: dict[str, str] = {}
    folded: dict[str, str] = {}
    for entry in entries:
        pid = page_id_for(entry.file)
        if pid in seen:
            if seen[pid] == entry.file:
                raise JobInputError(f"{folder / DESCRIPTOR}: pages: {entry.file!r} is listed twice")
            raise JobInputError(
                f"{folder}: {seen[pid]!r} and {entry.file!r} both give page id {pid!r}; "
                "rename one of them"
            )
        other = folded.get(pid.casefold())
        if other is not None:
            raise JobInputError(
                f"{folder}: {seen[other]!r} and {entry.file!r} give page ids that differ only "
                f"in case ({other!r}, {pid!r}) and would overwrite each other on "
                "case-insensitive disks; rename one of them"
            )
        seen[pid] = entry.file
        folded[pid.casefold()] = pid
    return list(seen)


def _with_transcripts(
    pages: tuple[PageItem, ...], folder: Path, desc: Descriptor
) -> tuple[tuple[PageItem, ...], Found]:
    """The pages, each with its transcription file (if any), and what was found."""
    found = find_transcripts(folder, [(p.page, Path(p.source).name) for p in pages])
    if not found.files:
        return pages, found
    said = desc.transcription
    overrides = {
        "kind": (said.kind or "") if said else "",
        "creator": (said.creator or "") if said else "",
        "date": (said.date or "") if said else "",
    }
    where = str(folder.absolute())
    with_files = tuple(
        replace(
            page,
            transcript=TranscriptFile(
                path=os.path.join(where, found.files[page.page]),  # noqa: PTH118 (as in _stem)
                name=found.files[page.page],
                **overrides,
            ),
        )
        if page.page in found.files
        else page
        for page in pages
    )
    return with_files, found


def load_volume(
    folder: Path,
    default_languages: list[str],
    entry: CatalogueEntry | None = None,
    *,
    transcriptions: Path | None = None,
) -> Volume:
    """Read one volume folder: descriptor, page files, their order and ids.

    A page listed in ``volume.toml`` whose file is missing stays in the volume (and fails at
    ingest, naming the file); images in the folder that the descriptor does not list are
    reported as ``unlisted``; other files are reported as ``ignored``.

    Args:
        folder: ``scans/<volume-id>/``.
        default_languages: OCR languages when neither the page nor the descriptor names any.
        entry: The volume's catalogue entry, under its ``volume.toml`` (which wins key by key).
        transcriptions: The transcriptions folder (``site.transcriptions``): files in its
            sub-folder of the volume's name are matched to the pages.

    Returns:
        The volume.

    Raises:
        ConfigError: The descriptor or catalogue entry is invalid, names files outside the
            folder or has ranges or page references that do not match the pages (every such
            problem, one a line), or two catalogue entries describe the volume.
        JobInputError: Two files map to the same page id, the volume has no pages, or the
            folder name is not a valid volume id.
    """
    problem = volume_id_problem(folder.name)
    if problem is not None:
        raise JobInputError(f"{folder}: {problem}: rename the folder")
    described = describe(folder, entry)
    desc = described.descriptor
    found, ignored = _scan_folder(folder)
    entries, unlisted, missing = _page_entries(folder, desc, found)
    ids = _page_ids(folder, entries)
    base_langs = desc.ocr_languages or default_languages
    where = str(folder.absolute())
    pages = tuple(
        PageItem(
            volume=folder.name,
            page=pid,
            source=os.path.join(where, entry.file),  # noqa: PTH118 (as in _stem)
            index=index,
            label=entry.label or {"none": [str(index + 1)]},
            ocr_languages=tuple(entry.ocr_languages or base_langs),
        )
        for index, (pid, entry) in enumerate(zip(ids, entries, strict=True))
    )
    files = {_nfc(entry.file): pid for pid, entry in zip(ids, entries, strict=True)}
    files.update({_nfc(_stem(name)): pid for name, pid in files.copy().items()})
    problems = reference_problems(folder / DESCRIPTOR, desc, ids, files)
    if problems:
        raise ConfigError("\n".join(problems))
    matched = Found(files={}, problems=())
    if transcriptions is not None:
        pages, matched = _with_transcripts(pages, transcriptions / folder.name, desc)
    return Volume(
        id=folder.name,
        folder=folder,
        descriptor=desc,
        pages=pages,
        unlisted=unlisted,
        missing=missing,
        ignored=tuple(ignored),
        sources=tuple(sorted(described.sources.items())),
        transcript_problems=matched.problems,
        transcript_conflicts=matched.conflicts,
    )


def find_volumes(scans: Path, selected: tuple[str, ...] = ()) -> list[Path]:
    """List the volume folders under ``scans`` (all, or the selected ids), in natural order.

    Raises:
        JobInputError: The scans folder is missing or empty, or a selected volume is missing.
        ConfigError: A selected volume id is not a valid volume id.
    """
    if not scans.is_dir():
        raise JobInputError(f"{scans}: scans folder not found (set site.scans or --scans)")
    for vid in selected:
        check_volume_id(vid)
        if not (scans / vid).is_dir():
            raise JobInputError(f"{scans / vid}: volume folder not found")
    if selected:
        return [scans / vid for vid in selected]
    folders = sorted(
        (p for p in scans.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: sort_key(p.name),
    )
    if not folders:
        raise JobInputError(f"{scans}: no volume folders found (run 'pipeline samples {scans}')")
    return folders
