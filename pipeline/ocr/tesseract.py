"""The only code that builds a tesseract command line or reads its version and languages."""

from __future__ import annotations

import functools
import logging
import os
import re
import subprocess
from pathlib import Path

from pipeline.errors import MissingDependencyError, OcrError
from pipeline.ocr.languages import debian_package

log = logging.getLogger(__name__)

# The program, found on PATH.
COMMAND = "tesseract"
# Seconds the version and language probes may take.
PROBE_TIMEOUT_S = 60.0
# ``tesseract 5.3.0`` or ``tesseract 4.1.1-rc2-21-gf4ef``: the version, without a build suffix.
_VERSION = re.compile(r"^\D*(\d[^\s-]*)")
# A model name as ``--list-langs`` lists it (its heading and ``script/...`` models excluded).
_LANGUAGE = re.compile(r"^[a-z_]+$")
# The heading of ``--list-langs``: ``List of available languages in "/usr/share/.../tessdata/"``.
_TESSDATA = re.compile(r'languages in "([^"]+)"')
# The file tesseract writes for each output format.
_SUFFIXES = {"hocr": ".hocr", "txt": ".txt", "alto": ".xml"}

# The cluster resource a task holds while one tesseract process runs (Dask ``--resources``).
RESOURCE = "tesseract"

# BCP 47 tag of each model's language and the Unicode script its text is written in (the
# prefix of unicodedata.name()), to tag annotations line by line on mixed-language pages.
LANGUAGE_TAGS: dict[str, tuple[str, str]] = {
    "kor": ("ko", "HANGUL"),
    "kor_vert": ("ko", "HANGUL"),
    "Hangul": ("ko", "HANGUL"),
    "Hangul_vert": ("ko", "HANGUL"),
    "rus": ("ru", "CYRILLIC"),
    "ukr": ("uk", "CYRILLIC"),
    "eng": ("en", "LATIN"),
    "deu": ("de", "LATIN"),
    "fra": ("fr", "LATIN"),
    "chi_tra": ("zh-Hant", "CJK"),
    "chi_tra_vert": ("zh-Hant", "CJK"),
    "chi_sim": ("zh-Hans", "CJK"),
    "chi_sim_vert": ("zh-Hans", "CJK"),
    "jpn": ("ja", "CJK"),
    "jpn_vert": ("ja", "CJK"),
}


def language_tags(spec: str) -> list[str]:
    """BCP 47 tags of a ``+``-joined tesseract language spec, in order, without repeats.

    ``kor+rus`` gives ``["ko", "ru"]``; models we do not know give ``und`` (undetermined).
    """
    tags = [LANGUAGE_TAGS.get(lang, ("und", ""))[0] for lang in spec.split("+")]
    return list(dict.fromkeys(tags))


def script_of(tag: str) -> str:
    """The Unicode script name prefix of a BCP 47 tag from :data:`LANGUAGE_TAGS` (or ``""``)."""
    return next((script for t, script in LANGUAGE_TAGS.values() if t == tag), "")


def limit_threads() -> None:
    """Make tesseract single-threaded in this process and its children.

    Measured: with one page per worker, OpenMP threading inside tesseract makes each page slower
    on a small machine; parallelism comes from running pages side by side instead.
    """
    os.environ["OMP_THREAD_LIMIT"] = "1"


def _probe(*args: str) -> str:
    """Run ``tesseract`` with ``args`` and return what it printed (stdout and stderr).

    Raises:
        MissingDependencyError: tesseract is not installed, or installed but does not run.
    """
    try:
        done = subprocess.run(
            [COMMAND, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise MissingDependencyError(
            "tesseract not found: install it (Debian: apt-get install tesseract-ocr)"
        ) from None
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise _broken(str(exc)) from None
    output = done.stdout.decode("utf-8", errors="replace")
    # --list-langs exits 1 on some versions while listing fine.
    if done.returncode not in (0, 1):
        raise _broken(f"exit {done.returncode}: {_clean(output)}")
    return output


def _broken(reason: str) -> MissingDependencyError:
    """Installed but broken (a missing shared library, say): not our bug, not usable either."""
    return MissingDependencyError(
        f"tesseract does not run ({reason}); reinstall it (Debian: apt-get install "
        "--reinstall tesseract-ocr)"
    )


@functools.cache
def version() -> str:
    """The tesseract version, e.g. ``5.3.0`` (from ``tesseract 5.3.0-...``).

    Raises:
        MissingDependencyError: tesseract is not installed, or prints no version.
    """
    output = _probe("--version")
    found = _VERSION.search(output)
    if found is None:
        raise _broken(f"no version in {_clean(output)!r}")
    return found.group(1)


@functools.cache
def languages() -> frozenset[str]:
    """Installed language models (``--list-langs``; script models in ``script/`` not included).

    Raises:
        MissingDependencyError: tesseract is not installed or does not run.
    """
    version()
    lines = (line.strip() for line in _probe("--list-langs").splitlines())
    return frozenset(line for line in lines if _LANGUAGE.match(line))


@functools.cache
def glyphless_font() -> Path:
    """The GlyphLessFont of tesseract (``pdf.ttf`` in its tessdata folder), for invisible PDF text.

    Raises:
        MissingDependencyError: tesseract is missing, or its tessdata folder has no ``pdf.ttf``.
    """
    version()
    found = _TESSDATA.search(_probe("--list-langs"))
    folder = Path(found.group(1)) if found else None
    path = folder / "pdf.ttf" if folder else None
    if path is None or not path.is_file():
        raise MissingDependencyError(
            f"tesseract's pdf.ttf (the font of searchable PDFs) is not in {folder or 'tessdata'}: "
            "reinstall tesseract (Debian: apt-get install --reinstall libtesseract5), "
            "or set pdf.enabled = false"
        )
    return path


def check_languages(requested: list[str] | tuple[str, ...]) -> None:
    """Fail unless every ``+``-joined language in ``requested`` is installed.

    Raises:
        MissingDependencyError: Naming the missing language and the package that provides it.
    """
    have = languages()
    for spec in requested:
        for lang in spec.split("+"):
            if lang not in have:
                pkg = debian_package(lang)
                raise MissingDependencyError(
                    f"tesseract language {lang!r} is not installed "
                    f"(Debian: apt-get install {pkg}; installed: {', '.join(sorted(have))})"
                )


def recognize(
    *,
    image: Path,
    out_base: Path,
    lang: str,
    psm: int,
    timeout_s: float,
    formats: tuple[str, ...] = ("hocr", "txt"),
    variables: dict[str, str] | None = None,
    dpi: int | None = None,
) -> dict[str, Path]:
    """Run tesseract once on ``image``, writing every requested format in the same pass.

    Args:
        image: A file tesseract can read (PNG or TIFF).
        out_base: Output path without suffix; tesseract adds ``.hocr``, ``.txt``, ``.xml``.
        lang: Languages joined with ``+``.
        psm: Page segmentation mode.
        timeout_s: Kill tesseract after this many seconds.
        formats: Any of ``hocr``, ``txt``, ``alto`` (tesseract's config files of those names).
        variables: Extra ``-c name=value`` settings.
        dpi: Resolution to declare to tesseract.

    Returns:
        The written file per format.

    Raises:
        OcrError: Tesseract failed or timed out; the message carries its stderr.
        MissingDependencyError: tesseract is not installed.
    """
    argv = [COMMAND, str(image), str(out_base), "-l", lang, "--psm", str(psm)]
    if dpi:
        argv += ["--dpi", str(dpi)]
    for name, value in sorted((variables or {}).items()):
        argv += ["-c", f"{name}={value}"]
    argv += formats
    _run(argv, timeout_s, " (raise ocr.timeout_s, or check the scan)")
    return {f: out_base.with_name(out_base.name + _SUFFIXES[f]) for f in formats}


def _run(argv: list[str], timeout_s: float, hint: str = "") -> subprocess.CompletedProcess[bytes]:
    """Run tesseract, mapping a timeout or failure to :class:`OcrError` with its stderr.

    Raises:
        OcrError: Tesseract failed or timed out (the timeout message ends with ``hint``).
        MissingDependencyError: tesseract is not installed.
    """
    log.debug("%s", " ".join(argv))
    try:
        return subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=True
        )
    except subprocess.TimeoutExpired:
        raise OcrError(f"tesseract timed out after {timeout_s:g} s{hint}") from None
    except subprocess.CalledProcessError as exc:
        stderr = exc.stderr.decode("utf-8", errors="replace")
        raise OcrError(f"tesseract failed (exit {exc.returncode}): {_clean(stderr)}") from None
    except FileNotFoundError:
        raise MissingDependencyError(
            "tesseract not found: install it (Debian: apt-get install tesseract-ocr)"
        ) from None


def _clean(message: str) -> str:
    """One line of tesseract's stderr, without its noisy banner lines."""
    lines = [ln.strip() for ln in str(message).splitlines() if ln.strip()]
    lines = [
        ln for ln in lines if not re.match(r"^(Tesseract Open Source|Estimating resolution)", ln)
    ]
    return "; ".join(lines)[:500] or "no message"


def orientation(*, image: Path, timeout_s: float) -> tuple[int, float]:
    """Detect which way up a page is with tesseract's orientation and script detection.

    Args:
        image: A page image (the OCR image at 150 dpi is enough: at 450 px wide it is unsure).
        timeout_s: Kill tesseract after this many seconds.

    Returns:
        The page's rotation in degrees (0, 90, 180, 270: 180 is upside down) and
        tesseract's confidence in it (above about 2 it is rarely wrong).

    Raises:
        OcrError: Tesseract failed, timed out, or found too little text to tell.
        MissingDependencyError: tesseract is not installed.
    """
    done = _run([COMMAND, str(image), "-", "--psm", "0"], timeout_s)
    text = done.stdout.decode("utf-8", errors="replace")
    degrees = re.search(r"Orientation in degrees: (\d+)", text)
    confidence = re.search(r"Orientation confidence: ([\d.]+)", text)
    if degrees is None or confidence is None:
        reason = _clean(done.stderr.decode("utf-8", errors="replace"))
        raise OcrError(f"orientation not detected: {reason}")
    return int(degrees.group(1)), float(confidence.group(1))
