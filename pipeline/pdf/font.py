"""The glyphless font of the invisible text layer, as tesseract and OCRmyPDF build it.

Text in render mode 3 is never drawn, so the font needs no real glyphs: tesseract ships
``pdf.ttf`` (the GlyphLessFont, one blank glyph) in its tessdata folder. Character codes are
the text's UTF-16BE code units (``Identity-H``); a ``CIDToGIDMap`` sends every code to the
one glyph, and a ``ToUnicode`` CMap maps every code back to itself, so that selecting, copying
and searching return the text in any script (Hangul, Cyrillic) without embedding a CJK font.
"""

from __future__ import annotations

import zlib

import pikepdf
from pikepdf import Array, Dictionary, Name

#: Advance width of a character code, in thousandths of the font size (tesseract's for all).
CHAR_WIDTH = 500
#: Full-width scripts get a square advance, as in their real fonts: a line of Hangul is then
#: stretched about as much as a line of Cyrillic, and the gaps a reader sees between words
#: stay in proportion (uniform half-width codes stretched to the box make them look like
#: columns).
WIDE_WIDTH = 1000
WIDE_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x303F),  # CJK radicals, symbols and punctuation
    (0x3040, 0x31FF),  # kana, bopomofo, Hangul compatibility Jamo, kanbun
    (0x3200, 0x4DBF),  # enclosed CJK, compatibility, CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF01, 0xFF60),  # full-width forms
)

#: Maps each of the 65,536 two-byte codes to itself (the text's UTF-16 code units).
TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def advance(text: str) -> int:
    """The advance width of ``text`` in this font, in thousandths of the font size."""
    total = 0
    units = text.encode("utf-16-be")
    for n in range(0, len(units), 2):
        code = int.from_bytes(units[n : n + 2], "big")
        wide = any(first <= code <= last for first, last in WIDE_RANGES)
        total += WIDE_WIDTH if wide else CHAR_WIDTH
    return total


def _compressed(pdf: pikepdf.Pdf, data: bytes) -> pikepdf.Stream:
    return pikepdf.Stream(pdf, zlib.compress(data, 9), Filter=Name.FlateDecode)


def glyphless_font(pdf: pikepdf.Pdf, ttf: bytes) -> pikepdf.Object:
    """Add the glyphless Type 0 font to ``pdf`` and return it (an indirect object).

    Args:
        pdf: The document.
        ttf: The TrueType program of the GlyphLessFont (tesseract's ``pdf.ttf``).

    Returns:
        The font, for the pages' ``/Resources /Font``.
    """
    # Every code (two bytes each) shows glyph 1, the font's one blank glyph.
    to_glyph = _compressed(pdf, b"\x00\x01" * 65536)
    program = _compressed(pdf, ttf)
    program.Length1 = len(ttf)
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name.GlyphLessFont,
        Flags=5,  # fixed pitch, symbolic
        FontBBox=Array([0, 0, CHAR_WIDTH, 1000]),
        ItalicAngle=0,
        Ascent=1000,
        Descent=-1,
        CapHeight=1000,
        StemV=80,
        FontFile2=program,
    )
    cid_font = Dictionary(
        Type=Name.Font,
        Subtype=Name.CIDFontType2,
        BaseFont=Name.GlyphLessFont,
        CIDSystemInfo=Dictionary(
            Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0
        ),
        FontDescriptor=pdf.make_indirect(descriptor),
        CIDToGIDMap=to_glyph,
        DW=CHAR_WIDTH,
        W=Array([v for first, last in WIDE_RANGES for v in (first, last, WIDE_WIDTH)]),
    )
    font = Dictionary(
        Type=Name.Font,
        Subtype=Name.Type0,
        BaseFont=Name.GlyphLessFont,
        Encoding=Name("/Identity-H"),
        DescendantFonts=Array([pdf.make_indirect(cid_font)]),
        ToUnicode=_compressed(pdf, TO_UNICODE),
    )
    return pdf.make_indirect(font)
