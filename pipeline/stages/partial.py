"""What a volume's outputs do while some of its pages have failed: wait, as its manifest does.

Without ``--allow-partial`` the manifest stage refuses a volume with failed pages (and says
why, once); the outputs published beside the manifest (the PDF, the search index) wait with
it, so that the site never offers a PDF or search hits for a volume it has no manifest of.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.stages.spec import VolumeInput

log = logging.getLogger(__name__)


def held_back(inp: VolumeInput, path: Path, *, allow_partial: bool, what: str) -> list[str] | None:
    """Remove a volume's output while pages of the volume have failed (unless allowed).

    Args:
        inp: The volume; ``inp.missing`` lists its failed pages.
        path: The output file; an earlier one is removed when the output waits.
        allow_partial: ``--allow-partial``: the output is built from the pages that are there.
        what: The output's name, for the log (``PDF``).

    Returns:
        The failed pages when the output waits for them (its result names no file and lists
        them), else ``None``: build it.
    """
    if not inp.missing or allow_partial:
        return None
    path.unlink(missing_ok=True)
    log.info("%s: no %s while %d page(s) failed", inp.volume, what, len(inp.missing))
    return list(inp.missing)
