"""The only code that builds a tesseract command line or reads its version and languages."""

from __future__ import annotations

import functools
import logging
import os
import re
import subprocess
from pathlib import Path

import pytesseract

from pipeline.errors import MissingDependencyError, OcrError

log = logging.getLogger(__name__)

# The cluster resource a task holds while one tesseract process runs (Dask ``--resources``).
RESOURCE = "tesseract"

# Debian package that ships each traineddata, for error messages.
LANGUAGE_PACKAGES = {
    "kor": "tesseract-ocr-kor",
    "kor_vert": "tesseract-ocr-kor-vert",
    "rus": "tesseract-ocr-rus",
    "eng": "tesseract-ocr-eng",
    "chi_tra": "tesseract-ocr-chi-tra",
    "chi_sim": "tesseract-ocr-chi-sim",
    "Hangul": "tesseract-ocr-script-hang",
    "Hangul_vert": "tesseract-ocr-script-hang-vert",
}

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


@functools.cache
def version() -> str:
    """The tesseract version, e.g. ``5.3.0``.

    Raises:
        MissingDependencyError: tesseract is not installed.
    """
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError:
        raise MissingDependencyError(
            "tesseract not found: install it (Debian: apt-get install tesseract-ocr)"
        ) from None
    except (subprocess.CalledProcessError, OSError) as exc:
        # Installed but broken (a missing shared library, say): not our bug, not usable either.
        raise MissingDependencyError(
            f"tesseract does not run ({exc}); reinstall it (Debian: apt-get install "
            "--reinstall tesseract-ocr)"
        ) from None


@functools.cache
def languages() -> frozenset[str]:
    """Installed language and script models."""
    version()
    return frozenset(pytesseract.get_languages())


def check_languages(requested: list[str] | tuple[str, ...]) -> None:
    """Fail unless every ``+``-joined language in ``requested`` is installed.

    Raises:
        MissingDependencyError: Naming the missing language and the package that provides it.
    """
    have = languages()
    for spec in requested:
        for lang in spec.split("+"):
            if lang not in have:
                pkg = LANGUAGE_PACKAGES.get(lang, f"tesseract-ocr-{lang.lower().replace('_', '-')}")
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
        formats: Any of ``hocr``, ``txt``, ``alto`` (pytesseract drops ``tsv`` and ``xml``
            from the command line, so they cannot be asked for this way).
        variables: Extra ``-c name=value`` settings.
        dpi: Resolution to declare to tesseract.

    Returns:
        The written file per format.

    Raises:
        OcrError: Tesseract failed or timed out; the message carries its stderr.
    """
    config = [f"--psm {psm}"]
    if dpi:
        config.append(f"--dpi {dpi}")
    for name, value in sorted((variables or {}).items()):
        config.append(f"-c {name}={value}")
    suffix = {"hocr": ".hocr", "txt": ".txt", "alto": ".xml"}
    log.debug("tesseract %s -l %s %s %s", image, lang, " ".join(config), " ".join(formats))
    try:
        pytesseract.pytesseract.run_tesseract(
            str(image),
            str(out_base),
            extension=" ".join(formats),
            lang=lang,
            config=" ".join(config),
            timeout=timeout_s,
        )
    except pytesseract.TesseractError as exc:
        raise OcrError(f"tesseract failed (exit {exc.status}): {_clean(exc.message)}") from None
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrError(
                f"tesseract timed out after {timeout_s:g} s "
                "(raise ocr.timeout_s, or check the scan)"
            ) from None
        raise
    return {f: out_base.with_name(out_base.name + suffix[f]) for f in formats}


def _clean(message: str) -> str:
    """One line of tesseract's stderr, without its noisy banner lines."""
    lines = [ln.strip() for ln in str(message).splitlines() if ln.strip()]
    lines = [
        ln for ln in lines if not re.match(r"^(Tesseract Open Source|Estimating resolution)", ln)
    ]
    return "; ".join(lines)[:500] or "no message"
