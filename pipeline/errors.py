"""Exception hierarchy and the process exit codes they map to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; public interface, documented in the README."""

    OK = 0
    PAGES_FAILED = 1
    USAGE = 2
    MISSING_DEPENDENCY = 3
    INPUT = 4
    PUBLISH = 5
    INTERNAL = 70
    INTERRUPTED = 130


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose; never raised directly."""

    exit_code: ExitCode = ExitCode.INTERNAL


class ConfigError(PipelineError):
    """A bad option, configuration file or volume descriptor; nothing was processed."""

    exit_code = ExitCode.USAGE


class MissingDependencyError(PipelineError):
    """A required program, language pack or library feature is missing."""

    exit_code = ExitCode.MISSING_DEPENDENCY


class JobInputError(PipelineError):
    """The batch as a whole is unusable (missing folder, no volumes, duplicate ids)."""

    exit_code = ExitCode.INPUT


class PublishError(PipelineError):
    """Publishing cannot start at all (credentials, bucket, access)."""

    exit_code = ExitCode.PUBLISH


class PageError(PipelineError):
    """Raised by a stage for one page or volume; recorded by the runner, never fatal."""

    exit_code = ExitCode.PAGES_FAILED


class ScanError(PageError):
    """The master image is unreadable, unsupported, too small or too large."""


class TilingError(PageError):
    """The image pyramid could not be written or failed its viewer replay check."""


class OcrError(PageError):
    """Tesseract failed or timed out; the message carries its stderr."""


class ManifestError(PageError):
    """A manifest or collection could not be built."""


class TranscriptError(PageError):
    """A transcription file is unreadable, malformed or does not describe a usable page."""


class PublishObjectError(PageError):
    """One volume could not be published (an object failed or the replay check found gaps)."""


class SearchQueryError(PipelineError):
    """A search query that cannot be run as given (over the length limit); HTTP answers 400."""

    exit_code = ExitCode.USAGE


class SearchIndexError(PipelineError):
    """A search index file is missing, unreadable or of another format than this version's."""

    exit_code = ExitCode.INPUT


def prefixed_lines(prefix: str, message: str) -> list[str]:
    """One output line per line of ``message``, each behind ``prefix``.

    Config and ``volume.toml`` errors list every problem of a file, one per line; each keeps
    its ``error:`` so that a script grepping for errors, and a reader, sees every one.
    """
    return [f"{prefix}{line}" for line in message.splitlines() or [""]]
