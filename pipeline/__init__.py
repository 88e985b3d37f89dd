"""Turn scans of manuscript volumes into IIIF collections."""

from __future__ import annotations

__version__ = "0.1.0"
