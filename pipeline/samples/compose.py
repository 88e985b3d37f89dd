"""The text of a sample volume: biographies wrapped into lines and laid out page by page."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.samples.fonts import RUSSIAN_STYLES
from pipeline.samples.text import (
    FILLERS,
    HEADER_PHRASE,
    PEOPLE_SETS,
    RUSSIAN_LINES,
    RUSSIAN_PASSAGES,
    Person,
)

__all__ = ["Biography", "VolumeText", "compose_volume"]

_MIN_LINE_CHARS = 14
_MAX_LINE_CHARS = 19
_RUSSIAN_MIN_CHARS = 22
_RUSSIAN_MAX_CHARS = 28
_RUSSIAN_PER_PAGE = 3


@dataclass(frozen=True)
class Biography:
    """One biography of a volume and the pages it spans.

    Attributes:
        person: Whose biography it is.
        first: Page id of its first page.
        last: Page id of its last page.

    """

    person: Person
    first: str
    last: str


@dataclass(frozen=True)
class VolumeText:
    """What a sample volume says.

    Attributes:
        year: The year the manuscript was written.
        pages: The lines of each page, header first.
        biographies: The biographies in page order.

    """

    year: int
    pages: list[list[str]]
    biographies: list[Biography]


def compose_volume(
    *,
    seed: int,
    volume_no: int,
    page_ids: Sequence[str],
    styles: Sequence[str],
    capacity: int,
    russian_set: str,
    people_set: str = "all",
) -> VolumeText:
    """Write the text of a volume: 1-3 fictional biographies, each on whole pages.

    There is one biography for one page, two for 2-4 pages and three otherwise. Every page
    starts with the header line ``인물전기 제N권``; pages in a Russian style carry a Russian
    heading line and Russian passages between their Korean lines.

    Args:
        seed: Seed of the text; the same seed gives the same text.
        volume_no: The N of the header line.
        page_ids: The pages' ids, in order.
        styles: The font style of each page.
        capacity: Lines per page, header included.
        russian_set: Key of :data:`~pipeline.samples.text.RUSSIAN_PASSAGES` that mixed
            pages quote.
        people_set: Key of :data:`~pipeline.samples.text.PEOPLE_SETS` the biographies
            are drawn from (a set smaller than the volume's biographies repeats them).

    Returns:
        The volume's year, page lines and biographies.

    """
    header = f"{HEADER_PHRASE} 제{volume_no}권"
    rng = random.Random(f"pipeline.samples:text:{seed}")
    year = rng.randint(1991, 1998)
    spans = _split_pages(len(page_ids))
    pool = PEOPLE_SETS[people_set]
    drawn = rng.sample(pool, min(len(pool), len(spans)))
    people = [drawn[i % len(drawn)] for i in range(len(spans))]
    pages: list[list[str]] = []
    biographies: list[Biography] = []
    start = 0
    for b, (person, span) in enumerate(zip(people, spans, strict=True)):
        russian = [styles[i] in RUSSIAN_STYLES for i in range(start, start + span)]
        pages += _biography_pages(
            person,
            rng,
            russian,
            header=header,
            capacity=capacity,
            russian_set=russian_set,
            wrap_seed=f"pipeline.samples:wrap:{seed}:{b}",
        )
        last = page_ids[start + span - 1]
        biographies.append(Biography(person=person, first=page_ids[start], last=last))
        start += span
    return VolumeText(year=year, pages=pages, biographies=biographies)


def _split_pages(pages: int) -> list[int]:
    """Return how many pages each biography spans (1, 2 or 3 biographies)."""
    count = 1 if pages == 1 else 2 if pages <= 4 else 3
    base, extra = divmod(pages, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def _biography_pages(
    person: Person,
    rng: random.Random,
    russian: Sequence[bool],
    *,
    header: str,
    capacity: int,
    russian_set: str,
    wrap_seed: str,
) -> list[list[str]]:
    """Return the lines of the pages of one biography (one flag per page: Russian or not)."""
    prefixes = [[header, rng.choice(RUSSIAN_LINES)] if r else [header] for r in russian]
    inserts = [_russian_inserts(rng, russian_set) if r else [] for r in russian]
    caps = [capacity - len(p) - sum(map(len, x)) for p, x in zip(prefixes, inserts, strict=True)]
    minimum = sum(caps[:-1]) + 1
    target = max(minimum, sum(caps) - rng.randint(0, caps[-1] // 3))
    body = _biography_lines(person, target=target, rng=rng, wrap_seed=wrap_seed)
    pages: list[list[str]] = []
    pos = 0
    for prefix, cap, insert in zip(prefixes, caps, inserts, strict=True):
        own = body[pos : pos + cap]
        pages.append(prefix + (_interleave(own, insert, rng) if insert else own))
        pos += cap
    return pages


def _wrap(sentences: Sequence[str], seed: str) -> list[str]:
    """Wrap sentences into manuscript lines (paragraphs of 2-4 sentences)."""
    rng = random.Random(seed)
    lines: list[str] = []
    i = 0
    while i < len(sentences):
        count = rng.randint(2, 4)
        words = " ".join(sentences[i : i + count]).split()
        i += count
        limit = rng.randint(_MIN_LINE_CHARS, _MAX_LINE_CHARS)
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and len(candidate) > limit:
                lines.append(current)
                current = word
                limit = rng.randint(_MIN_LINE_CHARS, _MAX_LINE_CHARS)
            else:
                current = candidate
        if current:
            lines.append(current)
    return lines


def _russian_inserts(rng: random.Random, russian_set: str) -> list[list[str]]:
    """Russian passages for one mixed page, each wrapped into lines of Korean-like width."""
    chosen = rng.sample(RUSSIAN_PASSAGES[russian_set], _RUSSIAN_PER_PAGE)
    out = []
    for sentence in chosen:
        lines: list[str] = []
        limit = rng.randint(_RUSSIAN_MIN_CHARS, _RUSSIAN_MAX_CHARS)
        for word in sentence.split():
            if lines and len(f"{lines[-1]} {word}") <= limit:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        out.append(lines)
    return out


def _interleave(body: list[str], inserts: list[list[str]], rng: random.Random) -> list[str]:
    """Put each passage of ``inserts`` between lines of ``body``, none next to another."""
    slots = sorted(rng.sample(range(1, max(len(body), len(inserts) + 1) + 1), len(inserts)))
    out: list[str] = []
    previous = 0
    for slot, passage in zip(slots, inserts, strict=True):
        out.extend(body[previous:slot])
        out.extend(passage)
        previous = slot
    return out + body[previous:]


def _fillers(rng: random.Random, person: Person, count: int) -> list[str]:
    """Return ``count`` filler sentences (pool reshuffled each round, years ascending)."""
    chosen: list[str] = []
    while len(chosen) < count:
        pool = list(FILLERS)
        rng.shuffle(pool)
        chosen.extend(pool)
    chosen = chosen[:count]
    slots = sum(1 for s in chosen if "{year}" in s)
    years = iter(sorted(rng.randint(person.born + 20, person.last - 3) for _ in range(slots)))
    return [s.replace("{year}", str(next(years))) if "{year}" in s else s for s in chosen]


def _biography_lines(
    person: Person, *, target: int, rng: random.Random, wrap_seed: str
) -> list[str]:
    """Return the title line plus wrapped prose of one biography, at most ``target`` lines."""
    title = f"{person.role_ko} {person.name_ko}"
    budget = target - 1
    if budget <= 0:
        return [title][: max(target, 0)]
    early, late = list(person.sentences[:-2]), list(person.sentences[-2:])

    def wrapped(body: Sequence[str]) -> list[str]:
        return _wrap(body, wrap_seed)

    lines = wrapped(early + late)
    if len(lines) > budget:
        while len(early) > 1 and len(wrapped(early + late)) > budget:
            early.pop()
        body = early + late
        if len(wrapped(body)) > budget:
            body = early
        return [title, *wrapped(body)[:budget]]
    extra = _fillers(rng, person, budget)
    lo, hi = 0, len(extra)
    while lo < hi:  # largest filler count that still fits
        mid = (lo + hi + 1) // 2
        if len(wrapped(early + extra[:mid] + late)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return [title, *wrapped(early + extra[:lo] + late)]
