"""JPEG 2000 masters for a libvips without OpenJPEG: the header, and decoding to a scratch file.

The pyvips-binary wheel's libvips has no JPEG 2000 loader; Debian's ``vips`` program
(``libvips-tools``) has one (``jp2kload``, OpenJPEG). It decodes the master into an
uncompressed tiled BigTIFF in a scratch folder, which :func:`pipeline.imaging.vips.open_master`
reads like any TIFF master: no pixel passes through a pipe, and neither process holds the
image (random access to a tiled file reads only the tiles asked for). The
program reads a tiled JP2 tile by tile (memory: a few rows of tiles); an untiled JP2 is decoded
in one piece, which needs about 8 bytes per pixel of RGB (OpenJPEG's 32-bit samples plus the
image). A libvips image file (``.v``) would keep every header field but is read by mapping it
into memory, which counts the whole image in the reader's resident memory.

The header is read with Pillow's parser (no pixel decoded): the size, so the pixel limit applies
before decoding, and the capture resolution and ICC profile, which that loader leaves out.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Jpeg2KImagePlugin

from pipeline.errors import MissingDependencyError, ScanError

# The JP2 file signature box, and the start of a bare codestream (SOC + SIZ markers).
JP2_MAGIC = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
J2K_MAGIC = b"\xffO\xffQ"
# colr box methods that carry an ICC profile (restricted, and any: JPX).
ICC_METHODS = (2, 3)


def sniff(path: Path) -> bool:
    """Whether the file's content is JPEG 2000 (a JP2 file or a bare J2K codestream)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(JP2_MAGIC))
    except OSError:
        return False  # the caller's loader reports it
    return head.startswith((JP2_MAGIC, J2K_MAGIC))


@functools.cache
def vips_program() -> tuple[str, str] | None:
    """The ``vips`` program and its version, if it can load JPEG 2000."""
    vips = shutil.which("vips")
    if vips is None:
        return None
    try:
        listing = subprocess.run([vips, "-l"], capture_output=True, text=True, timeout=60)
        version = subprocess.run([vips, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if listing.returncode != 0 or "(jp2kload)" not in listing.stdout:
        return None
    return vips, version.stdout.strip().removeprefix("vips-")


def reader_versions(libvips: str) -> dict[str, str]:
    """The program that decodes JPEG 2000 here, as tool versions for the record.

    Args:
        libvips: This process's libvips version (for the message).

    Raises:
        MissingDependencyError: There is no ``vips`` program that reads JPEG 2000.
    """
    found = vips_program()
    if found is None:
        raise MissingDependencyError(
            f"libvips {libvips} cannot read JPEG 2000 and no 'vips' program with OpenJPEG "
            "was found (install libvips-tools, or remove 'jp2k' from ingest.formats)"
        )
    return {"vips-jp2kload": found[1]}


@dataclass(frozen=True)
class Header:
    """What the JPEG 2000 header declares."""

    width: int
    height: int
    dpi: tuple[float, float] | None
    icc: bytes | None


def read_header(path: Path) -> Header:
    """Size, capture resolution and ICC profile, without decoding a pixel.

    Raises:
        ScanError: The header is damaged.
    """
    try:
        # The class itself, not Image.open: its pixel limit would refuse a huge scan unread.
        with Jpeg2KImagePlugin.Jpeg2KImageFile(str(path)) as header:
            width, height = header.size
            dpi = header.info.get("dpi")
        icc = _icc_profile(path)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ScanError(f"cannot read image: bad JPEG 2000 header ({exc})") from None
    return Header(int(width), int(height), (float(dpi[0]), float(dpi[1])) if dpi else None, icc)


def _icc_profile(path: Path) -> bytes | None:
    """The ICC profile of a JP2 file's ``colr`` box (a bare codestream has none)."""
    with path.open("rb") as fh:
        if fh.read(len(JP2_MAGIC)) != JP2_MAGIC:
            return None
        fh.seek(0)
        boxes = Jpeg2KImagePlugin.BoxReader(fh)
        while boxes.next_box_type() != b"jp2h":
            pass
        header = boxes.read_boxes()
        while header.has_next_box():
            if header.next_box_type() == b"colr":
                method = header.read_fields(">BBB")[0]
                if method in ICC_METHODS and header.remaining_in_box > 0:
                    return bytes(header.read_fields(f">{header.remaining_in_box}s")[0])
                return None
    return None


def _message(stderr: str, path: Path) -> str:
    """The useful lines of the program's errors (no GLib prefixes with pids and times)."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip()
        if line and not line.startswith("(vips:"):
            lines.append(line.replace(str(path), "this file"))
    return "; ".join(dict.fromkeys(lines))[:300] or "unknown error of the vips program"


# A hung decoder must not hold a worker for ever; the 560-Mpx bench page decodes in under 100 s.
DECODE_TIMEOUT_S = 3600.0
# Tile side of the decoded copy: a row of tiles of a 20000-px-wide RGB page is 30 MB.
COPY_TILE = 512


def decode(
    path: Path, scratch: Path | None, libvips: str, *, timeout_s: float = DECODE_TIMEOUT_S
) -> Path:
    """Decode ``path`` into a new uncompressed tiled TIFF in ``scratch``; the caller removes it.

    Args:
        path: The JPEG 2000 master (only read).
        scratch: Folder for the copy (None: the system's temporary folder).
        libvips: This process's libvips version (for the message if nothing decodes JP2).
        timeout_s: How long the decoder may take.

    Raises:
        ScanError: The data is damaged or incomplete (a truncated file), as any decoder error,
            or the decoder took longer than ``timeout_s``.
        MissingDependencyError: There is no ``vips`` program that reads JPEG 2000.
    """
    found = vips_program()
    if found is None:
        reader_versions(libvips)  # raises, saying what to install
        raise AssertionError("unreachable")
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="jp2-", suffix=".tif", dir=scratch)
    os.close(fd)
    copy = Path(name)
    # The operation's file argument is taken as it is (no "[options]" parsed from the name).
    # Tiled, so that random access to the copy reads only the tiles asked for (a stripped copy
    # read with random access is held whole in memory).
    target = f"{copy}[bigtiff,tile,tile-width={COPY_TILE},tile-height={COPY_TILE}]"
    argv = [found[0], "jp2kload", str(path), target, "--fail-on", "error"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        copy.unlink(missing_ok=True)
        raise ScanError(
            f"decoding the JPEG 2000 took over {timeout_s:.0f} s: the decoder hung (a damaged "
            "file?)"
        ) from None
    except BaseException:
        copy.unlink(missing_ok=True)  # the copy is as large as the page: never leave it behind
        raise
    if done.returncode != 0:
        copy.unlink(missing_ok=True)
        raise ScanError(f"image data is damaged or incomplete: {_message(done.stderr, path)}")
    return copy
