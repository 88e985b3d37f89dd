"""Search keys of a text: Korean as folded syllables and bigrams, other scripts as folded words.

A text (NFC) is cut into segments: runs of syllables (Hangul or Han; spacing inside a run is
ignored, so 할수 = 할 수 and a compound written apart is found written together) folded by
:func:`~pipeline.search.hangul.fold_run`, and words of any other script. Russian is
lower-cased with ё -> е; other letters are case-folded and lose their diacritics.

The index keeps, per line, the *stream* (a bigram per adjacent pair of syllables of a run, a
run of one syllable as itself, and each word) and the single syllables. Query-time code works
on :class:`Unit`, which keeps the original offsets of every key, so a match found on keys is
shown on the original text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

from pipeline.search.hangul import (
    SYLLABLE_CLASS,
    drop_sios,
    fold_run,
    fold_yeo,
    initial_fold,
    is_hangul,
    is_syllable,
)

_SEGMENT = re.compile(
    rf"(?P<run>[{SYLLABLE_CLASS}](?:\s*[{SYLLABLE_CLASS}])*)|(?P<word>[^\W_{SYLLABLE_CLASS}]+)"
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of syllables (as written, spacing removed) or a word, and its folded key."""

    run: bool
    raw: str
    key: str


@dataclass(frozen=True, slots=True)
class Unit:
    """One syllable or word, its key and where it is in the original text.

    ``run`` numbers the segments: syllables of one run share it, a word has its own.
    """

    key: str
    start: int
    end: int
    syllable: bool
    run: int


@functools.cache
def _char_key(ch: str) -> str:
    if ch == "ё":
        return "е"
    if "\u0400" <= ch <= "\u04ff" or is_syllable(ch):
        return ch
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if c.isalnum())


def word_key(word: str) -> str:
    """The key of a word: case-folded, ё -> е, diacritics of other letters dropped."""
    low = word.casefold()
    return low if low.isascii() else "".join(map(_char_key, low))


def segments(text: str) -> list[Segment]:
    """The runs and words of a text, with their keys (words without a key left out).

    Args:
        text: A line as written.

    Returns:
        The segments in text order.
    """
    out: list[Segment] = []
    for m in _SEGMENT.finditer(unicodedata.normalize("NFC", text)):
        if m.group("run") is not None:
            raw = _SPACE.sub("", m.group())
            out.append(Segment(True, raw, fold_run(raw)))
        elif key := word_key(m.group()):
            out.append(Segment(False, m.group(), key))
    return out


def stream_keys(found: Sequence[Segment]) -> list[str]:
    """The phrase stream of a text's segments: what the index searches phrases in."""
    out: list[str] = []
    for seg in found:
        key = seg.key
        if seg.run and len(key) > 1:
            out += [key[i : i + 2] for i in range(len(key) - 1)]
        else:
            out.append(key)
    return out


@functools.lru_cache(maxsize=1 << 16)
def term_key(text: str) -> str:
    """The key a word is completed by (력사 and 역사 share ``역사``).

    Syllables take the initial-sound rule only (a prefix does not know what follows it),
    other letters are folded as words are, spaces and punctuation are dropped.

    Args:
        text: A word, or the start of one as typed.

    Returns:
        The key (empty when ``text`` has no letters, digits or syllables).
    """
    return "".join(
        initial_fold(_SPACE.sub("", m.group()))
        if m.group("run") is not None
        else word_key(m.group())
        for m in _SEGMENT.finditer(unicodedata.normalize("NFC", text))
    )


def _starts_chunk(ch: str) -> bool:
    code = ord(ch)
    return unicodedata.combining(ch) == 0 and not (
        0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF
    )


def nfc_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """The NFC form of ``text`` and, per character of it, the original offsets it came from.

    Args:
        text: Any text (NFC, NFD or mixed).

    Returns:
        The NFC text, and for each of its characters the start and end in ``text``.
    """
    if unicodedata.is_normalized("NFC", text):
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or _starts_chunk(text[i]):
            composed = unicodedata.normalize("NFC", text[start:i])
            chars.append(composed)
            starts += [start] * len(composed)
            ends += [i] * len(composed)
            start = i
    return "".join(chars), starts, ends


def units(text: str) -> list[Unit]:
    """The keys of a text with their original offsets (the same keys as :func:`segments`).

    Args:
        text: A line as written.

    Returns:
        One unit per syllable of a run and per word, in text order.
    """
    norm, starts, ends = nfc_offsets(text)
    out: list[Unit] = []
    for number, m in enumerate(_SEGMENT.finditer(norm)):
        if m.group("run") is not None:
            where = [m.start() + i for i, c in enumerate(m.group()) if not c.isspace()]
            key = fold_run("".join(norm[i] for i in where))
            out += [
                Unit(k, starts[i], ends[i], True, number) for k, i in zip(key, where, strict=True)
            ]
        elif key := word_key(m.group()):
            out.append(Unit(key, starts[m.start()], ends[m.end() - 1], False, number))
    return out


def stream(found: Sequence[Unit]) -> list[Unit]:
    """The phrase stream of a text's units (:func:`stream_keys`, with offsets).

    Args:
        found: The text's units (:func:`units`).

    Returns:
        Units whose keys are the stream's tokens, in order.
    """
    out: list[Unit] = []
    for i, unit in enumerate(found):
        if not unit.syllable:
            out.append(unit)
            continue
        nxt = found[i + 1] if i + 1 < len(found) else None
        prev = found[i - 1] if i else None
        if nxt is not None and nxt.syllable and nxt.run == unit.run:
            out.append(Unit(unit.key + nxt.key, unit.start, nxt.end, True, unit.run))
        elif prev is None or not prev.syllable or prev.run != unit.run:
            out.append(unit)
    return out


@dataclass(frozen=True)
class QueryForm:
    """One reading of a query: its units, and the tokens the index is asked for.

    ``unigram``: one syllable, looked up among single syllables. Otherwise ``tokens`` is a
    phrase of the stream, where a query's edge syllable that stands alone in its run (제 in
    제1권, 년 in 1934년) may be part of a bigram in the text: a last one is asked for as a
    prefix (``prefix``), a first one is left out of ``tokens`` and the lines found are
    checked against ``units`` (``checked``).
    """

    units: tuple[Unit, ...]
    tokens: tuple[str, ...]
    unigram: bool = False
    prefix: bool = False
    checked: bool = False


def _edge_readings(unit: Unit, *, first: bool, last: bool) -> list[str]:
    """The readings of a query's edge syllable, whose neighbour in a text is unknown.

    A 여/였 that starts a query may follow a front vowel in the text; a final ㅅ that ends one
    may precede another syllable. Every reading is searched.
    """
    keys = {unit.key}
    if unit.syllable and is_hangul(unit.key):
        if first:
            keys.add(fold_yeo(unit.key))
        if last:
            keys |= {drop_sios(k) for k in keys}
    return sorted(keys)


def _alone(found: Sequence[Unit], i: int) -> bool:
    """Whether unit ``i`` is a syllable alone in its run (in a query of several units)."""
    unit = found[i]
    return (
        len(found) > 1
        and unit.syllable
        and all(found[j].run != unit.run for j in (i - 1, i + 1) if 0 <= j < len(found))
    )


def _form(variant: Sequence[Unit]) -> QueryForm:
    if len(variant) == 1 and variant[0].syllable:
        return QueryForm(tuple(variant), (variant[0].key,), unigram=True)
    tokens = [u.key for u in stream(variant)]
    checked = _alone(variant, 0)
    return QueryForm(
        tuple(variant),
        tuple(tokens[1:] if checked else tokens),
        prefix=_alone(variant, len(variant) - 1),
        checked=checked,
    )


def query_forms(query: str) -> list[QueryForm]:
    """The readings of a query to search for (none when it has no letters, digits or syllables).

    The first and last syllable of a query are read both ways where their folding depends
    on a neighbour the query does not have.

    Args:
        query: The query as typed.

    Returns:
        The distinct readings, in a stable order.
    """
    found = units(query)
    if not found:
        return []
    heads = _edge_readings(found[0], first=True, last=len(found) == 1)
    tails = _edge_readings(found[-1], first=False, last=True) if len(found) > 1 else [""]
    forms: list[QueryForm] = []
    for head, tail in product(heads, tails):
        variant = [_with_key(found[0], head), *found[1:]]
        if len(found) > 1:
            variant[-1] = _with_key(found[-1], tail)
        form = _form(variant)
        if form not in forms:
            forms.append(form)
    return forms


def _with_key(unit: Unit, key: str) -> Unit:
    return Unit(key, unit.start, unit.end, unit.syllable, unit.run)


def find_units(found: Sequence[Unit], query: Sequence[Unit]) -> list[tuple[int, int]]:
    """Where a query's units occur in a text's units, as original-text spans.

    Keys must be equal, and two neighbouring units of the query must be in one run of the
    text exactly when they are in one run of the query (할수 finds 할 수, 1934년 finds
    1934년에, 년 alone does not find 다년).

    Args:
        found: The text's units (:func:`units`).
        query: The units of one reading of the query.

    Returns:
        ``(start, end)`` offsets into the original text of every occurrence, in order.
    """
    n = len(query)
    keys = [u.key for u in found]
    wanted = [u.key for u in query]
    joined = [query[k].run == query[k + 1].run for k in range(n - 1)]
    return [
        (found[i].start, found[i + n - 1].end)
        for i in range(len(found) - n + 1)
        if keys[i : i + n] == wanted
        and all((found[i + k].run == found[i + k + 1].run) == joined[k] for k in range(n - 1))
    ]
