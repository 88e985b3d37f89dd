"""What a publish reports: its outcome, rendered by the CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class PublishReport:
    """Outcome of one publish, rendered by the CLI.

    ``restored`` counts uploads of files unchanged since they were last published that the
    target had lost (or held in another version): the target, not the state store, decides.
    """

    target: str
    dry_run: bool = False
    published: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    uploaded: int = 0
    uploaded_bytes: int = 0
    restored: int = 0
    unchanged: int = 0
    checked: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    plan: list[tuple[str, str, int]] = field(default_factory=list)
    interrupted: bool = False
    duration_s: float = 0.0

    def fail(self, subject: str, message: str) -> None:
        """Note a volume (or the collection) that was not published."""
        self.failures.append((subject, message))
        log.info("not published: %s: %s", subject, message)
