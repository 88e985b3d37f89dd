"""JPEG 2000 test files, generated: Pillow (untiled) or the vips program (tiled) encodes them.

Neither encoder writes an ICC profile or a capture resolution, so those boxes are put into the
JP2 header here (ISO/IEC 15444-1 annex I: a ``colr`` box with method 2, a ``res `` box holding
``resc``), the way archival encoders write them.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pyvips
from PIL import Image


def _pillow_image(image: pyvips.Image) -> Image.Image:
    modes = {(1, "uchar"): "L", (3, "uchar"): "RGB", (1, "ushort"): "I;16"}
    mode = modes[(image.bands, str(image.format))]
    return Image.frombytes(mode, (image.width, image.height), image.write_to_memory())


def write_jp2(
    image: pyvips.Image,
    path: Path,
    *,
    lossless: bool = True,
    tiled: bool = False,
    icc: bytes | None = None,
    dpi: float | None = None,
) -> Path:
    """Encode ``image`` as JP2: Pillow writes one tile, the vips program 512 x 512 tiles.

    Args:
        image: 8-bit grey or RGB, or 16-bit grey (Pillow); anything libvips saves (vips).
        path: The file to write.
        lossless: Reversible wavelet (exact pixels), else irreversible at about 1:20.
        tiled: Encode with the vips program (tiled) instead of Pillow (untiled).
        icc: An ICC profile to embed.
        dpi: A capture resolution to declare.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if tiled:
        vips = shutil.which("vips")
        assert vips is not None, "the vips program (libvips-tools) writes tiled JP2"
        source = path.with_suffix(".source.v")
        image.write_to_file(str(source))
        options = "[lossless]" if lossless else "[Q=30]"
        subprocess.run([vips, "copy", str(source), f"{path}{options}"], check=True)
        source.unlink()
    else:
        extra = {} if lossless else {"irreversible": True, "quality_layers": [20]}
        _pillow_image(image).save(path, format="JPEG2000", **extra)
    if icc is not None or dpi is not None:
        path.write_bytes(_with_header_boxes(path.read_bytes(), icc, dpi))
    return path


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """Top-level (type, payload) pairs; the last box may run to the end (length 0)."""
    boxes, at = [], 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = len(data) if length == 0 else at + length
        boxes.append((kind, data[at + 8 : end]))
        at = end
    return boxes


def _with_header_boxes(data: bytes, icc: bytes | None, dpi: float | None) -> bytes:
    """The JP2 with its ``colr`` box replaced by an ICC one and/or a ``res `` box added."""
    out = b""
    for kind, payload in _boxes(data):
        if kind == b"jp2h":
            children = []
            for child, body in _boxes(payload):
                if child == b"colr" and icc is not None:
                    body = b"\x02\x00\x00" + icc  # method 2: restricted ICC profile
                children.append(_box(child, body))
            if dpi is not None:
                per_metre = round(dpi / 0.0254)
                resc = struct.pack(">HHHHbb", per_metre, 1, per_metre, 1, 0, 0)
                children.append(_box(b"res ", _box(b"resc", resc)))
            payload = b"".join(children)
        out += _box(kind, payload)
    return out


def truncate(path: Path, keep: float = 0.6) -> Path:
    """Cut the file's end off, as an interrupted copy does."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def declare_size(path: Path, width: int, height: int) -> Path:
    """Make the JP2 header declare another size (a damaged or malicious header)."""
    out = b""
    for kind, payload in _boxes(path.read_bytes()):
        if kind == b"jp2h":
            children = []
            for child, body in _boxes(payload):
                if child == b"ihdr":
                    body = struct.pack(">II", height, width) + body[8:]
                children.append(_box(child, body))
            payload = b"".join(children)
        out += _box(kind, payload)
    path.write_bytes(out)
    return path
