"""Character error rate: how far a recognised text is from a reference (a human transcription).

CER = Levenshtein distance (insertions, deletions, substitutions) / length of the reference,
both NFC with all white space removed: Korean spacing is unsettled (North Korean spelling puts
spaces where the South's does not), so spacing is not counted as an error.
"""

from __future__ import annotations

import unicodedata


def squeeze(text: str) -> str:
    """NFC without any white space: what CER compares."""
    return "".join(unicodedata.normalize("NFC", text).split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), in O(len(a) * len(b))."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """The edits from reference to hypothesis and the reference's length, both squeezed."""
    ref = squeeze(reference)
    return edit_distance(ref, squeeze(hypothesis)), len(ref)


def rate(edits: int, length: int) -> float:
    """A CER in percent (an empty reference: 0 edits is 0 %, any edit counts against 1)."""
    return round(100.0 * edits / max(1, length), 2)
