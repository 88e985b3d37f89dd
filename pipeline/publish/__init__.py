"""Publishing the output folder to S3 or a plain folder, incrementally and manifests last."""

from __future__ import annotations
