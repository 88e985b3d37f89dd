"""libvips helpers.

Reading masters (JPEG 2000 through a decoded copy), colour and orientation, OCR's working image.
"""
