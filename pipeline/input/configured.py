"""A volume as the configuration describes it: its folder, catalogue entry and transcriptions."""

from __future__ import annotations

from pipeline.config import Config
from pipeline.input.catalogue import Catalogue, configured_catalogue, entry_of
from pipeline.input.volumes import Volume, find_volumes, load_volume


def read_volume(cfg: Config, volume_id: str, *, catalogue: Catalogue | None = None) -> Volume:
    """Read one volume of the scans folder as a run reads it.

    Its catalogue entry (``site.catalogue``) describes it under its ``volume.toml``, and its
    pages are matched to the files of ``transcriptions/VOLUME/``, as in ``pipeline run``.

    Args:
        cfg: The configuration (``site``, ``ocr.languages``).
        volume_id: The volume.
        catalogue: The catalogue, when the caller reads several volumes; ``None`` reads the
            configured one (none configured reads nothing).

    Returns:
        The volume.

    Raises:
        ConfigError: The volume id is not valid, or the descriptor, catalogue or its entry
            is invalid.
        JobInputError: The scans or volume folder is missing, or its pages cannot be told
            apart.
    """
    (folder,) = find_volumes(cfg.site.scans, (volume_id,))
    read = catalogue if catalogue is not None else configured_catalogue(cfg)
    entry = entry_of(read, volume_id)
    return load_volume(folder, cfg.ocr.languages, entry, transcriptions=cfg.site.transcriptions_dir)
