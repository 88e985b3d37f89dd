"""OCR building blocks.

The tesseract wrapper, language names, preprocessing and geometry, per-line re-reading, hOCR,
ALTO and annotations.
"""
