"""Search keys of a text: Korean as folded syllables and bigrams, other scripts as folded words.

A text becomes a sequence of :class:`Unit`: one per Hangul (or Han) syllable, and one per
word of any other script. Every unit keeps the offsets of the original characters it stands
for, so a match found on keys is shown on the original text.

Korean is folded so that North and South Korean spelling give the same keys, on the text and
on the query alike:

* NFC (text typed on macOS may arrive decomposed);
* spacing is ignored inside a run of syllables (할수 = 할 수, and a compound written apart);
* the initial-sound rule (두음법칙) on every syllable, since a compound joins words and any
  syllable may start one: ㄹ before ㅑ ㅕ ㅖ ㅛ ㅠ ㅣ -> ㅇ, other ㄹ -> ㄴ, ㄴ before those vowels
  -> ㅇ (력사 = 역사, 로동 = 노동, 녀성 = 여성, 리 = 이);
* 여/였 -> 어/었 after a syllable whose vowel is ㅣ ㅐ ㅔ ㅚ ㅟ ㅢ (되였다 = 되었다);
* the 사이시옷: a final ㅅ before another syllable is dropped (나뭇가지 = 나무가지).

Russian is lower-cased with ё -> е; other letters are case-folded and lose their diacritics.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

_SBASE = 0xAC00
_SCOUNT = 11172
_NCOUNT = 588  # vowels x finals
_TCOUNT = 28
_NIEUN, _RIEUL, _IEUNG = 2, 5, 11
_YEO, _EO = 6, 4
_T_NONE, _T_SIOS, _T_SSANGSIOS = 0, 19, 20
#: Vowels ㅑ ㅕ ㅖ ㅛ ㅠ ㅣ, before which an initial ㄹ or ㄴ is dropped.
_Y_VOWELS = frozenset({2, 6, 7, 12, 17, 20})
#: Vowels ㅣ ㅐ ㅔ ㅚ ㅟ ㅢ, after which 여/였 is written 어/었 in the South.
_FRONT_VOWELS = frozenset({20, 1, 5, 11, 16, 19})


@dataclass(frozen=True, slots=True)
class Unit:
    """One search unit: a syllable or a word, its key and where it is in the original text.

    ``run`` numbers the runs of syllables (spacing inside a run is ignored); a word has its own.
    """

    key: str
    start: int
    end: int
    syllable: bool
    run: int


def is_syllable(ch: str) -> bool:
    """Whether ``ch`` is a Hangul syllable or a Han character (searched by bigrams)."""
    code = ord(ch)
    return (
        _SBASE <= code < _SBASE + _SCOUNT
        or 0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
    )


def _is_hangul(ch: str) -> bool:
    return _SBASE <= ord(ch) < _SBASE + _SCOUNT


def _parts(ch: str) -> tuple[int, int, int]:
    code = ord(ch) - _SBASE
    return code // _NCOUNT, (code % _NCOUNT) // _TCOUNT, code % _TCOUNT


def _compose(lead: int, vowel: int, tail: int) -> str:
    return chr(_SBASE + lead * _NCOUNT + vowel * _TCOUNT + tail)


def initial_fold(ch: str) -> str:
    """Apply the initial-sound rule (두음법칙) to one syllable: 력 -> 역, 로 -> 노, 녀 -> 여."""
    if not _is_hangul(ch):
        return ch
    lead, vowel, tail = _parts(ch)
    if lead == _RIEUL:
        lead = _IEUNG if vowel in _Y_VOWELS else _NIEUN
    elif lead == _NIEUN and vowel in _Y_VOWELS:
        lead = _IEUNG
    return _compose(lead, vowel, tail)


def _after_front_vowel(prev: str | None) -> bool:
    return prev is not None and _is_hangul(prev) and _parts(prev)[1] in _FRONT_VOWELS


def _fold_yeo(ch: str) -> str:
    """여/였 -> 어/었 (the caller knows the syllable before has a front vowel)."""
    lead, vowel, tail = _parts(ch)
    if lead == _IEUNG and vowel == _YEO and tail in (_T_NONE, _T_SSANGSIOS):
        return _compose(lead, _EO, tail)
    return ch


def _drop_sios(ch: str) -> str:
    lead, vowel, tail = _parts(ch)
    return _compose(lead, vowel, _T_NONE) if tail == _T_SIOS else ch


def fold_run(chars: Sequence[str]) -> list[str]:
    """Fold a run of syllables (spaces already removed), each in its context.

    Args:
        chars: The run's syllables, NFC.

    Returns:
        One folded syllable per syllable.
    """
    folded = [initial_fold(ch) for ch in chars]
    out: list[str] = []
    for i, ch in enumerate(folded):
        key = ch
        if _is_hangul(ch):
            if _after_front_vowel(folded[i - 1] if i else None):
                key = _fold_yeo(key)
            if i + 1 < len(folded):
                key = _drop_sios(key)
        out.append(key)
    return out


def _edge_readings(unit: Unit, *, first: bool, last: bool) -> list[str]:
    """The readings of a query's edge syllable, whose neighbour in a text is unknown.

    A 여/였 that starts a query may follow a front vowel in the text; a final ㅅ that ends one
    may precede another syllable. Every reading is searched.
    """
    keys = {unit.key}
    if unit.syllable and _is_hangul(unit.key):
        if first:
            keys.add(_fold_yeo(unit.key))
        if last:
            keys |= {_drop_sios(k) for k in keys}
    return sorted(keys)


def _word_key(chars: str) -> str:
    out: list[str] = []
    for ch in chars:
        low = ch.casefold()
        if low == "ё":
            out.append("е")
            continue
        if "\u0400" <= low <= "\u04ff":
            out.append(low)
            continue
        out.extend(c for c in unicodedata.normalize("NFKD", low) if _is_word_char(c))
    return "".join(out)


def _is_word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat == "Co"


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def _starts_chunk(ch: str) -> bool:
    code = ord(ch)
    return unicodedata.combining(ch) == 0 and not (
        0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF
    )


def nfc_chars(text: str) -> list[tuple[str, int, int]]:
    """The NFC characters of ``text``, each with the original offsets it came from.

    Args:
        text: Any text (NFC, NFD or mixed).

    Returns:
        ``(char, start, end)`` for every character of the NFC form.
    """
    out: list[tuple[str, int, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or _starts_chunk(text[i]):
            chunk = text[start:i]
            composed = chunk if chunk.isascii() else unicodedata.normalize("NFC", chunk)
            out.extend((ch, start, i) for ch in composed)
            start = i
    return out


def units(text: str) -> list[Unit]:
    """Split a text into search units: folded syllables and folded words, with offsets.

    Args:
        text: A line of text as written.

    Returns:
        The units in text order; syllables of one run share ``run``.
    """
    chars = nfc_chars(text)
    out: list[Unit] = []
    run = 0
    i = 0
    while i < len(chars):
        ch = chars[i][0]
        if is_syllable(ch):
            j, run_chars = i, []
            while j < len(chars) and (is_syllable(chars[j][0]) or chars[j][0].isspace()):
                if not chars[j][0].isspace():
                    run_chars.append(chars[j])
                j += 1
            keys = fold_run([c for c, _, _ in run_chars])
            out.extend(
                Unit(k, s, e, True, run) for k, (_, s, e) in zip(keys, run_chars, strict=True)
            )
            i, run = j, run + 1
        elif _is_word_char(ch):
            j = i + 1
            while (
                j < len(chars)
                and not is_syllable(chars[j][0])
                and (_is_word_char(chars[j][0]) or _is_mark(chars[j][0]))
            ):
                j += 1
            key = _word_key("".join(c for c, _, _ in chars[i:j]))
            if key:
                out.append(Unit(key, chars[i][1], chars[j - 1][2], False, run))
                run += 1
            i = j
        else:
            i += 1
    return out


def stream(found: Sequence[Unit]) -> list[Unit]:
    """The phrase stream of a text: the tokens indexed for phrase search.

    A bigram per adjacent pair of syllables of a run, a run of one syllable as itself, and
    each word.

    Args:
        found: The text's units (:func:`units`).

    Returns:
        Units whose keys are the tokens indexed for phrase search, in order.
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


def term_key(text: str) -> str:
    """The key a word is completed by (력사 and 역사 share ``역사``).

    Syllables take the initial-sound rule, other letters are folded as words are, spaces and
    punctuation are dropped.

    Args:
        text: A word, or the start of one as typed.

    Returns:
        The key (empty when ``text`` has no letters, digits or syllables).
    """
    return "".join(
        initial_fold(ch) if is_syllable(ch) else _word_key(ch) for ch, _, _ in nfc_chars(text)
    )


@dataclass(frozen=True)
class QueryForm:
    """One reading of a query: the tokens to find in order, in the stream or as one syllable."""

    tokens: tuple[str, ...]
    unigram: bool


def query_forms(query: str) -> list[QueryForm]:
    """The readings of a query to search for (none when it has no letters, digits or syllables).

    A query of one syllable is looked up among single syllables; anything longer as a phrase
    of the stream. The first and last syllable of a query are read both ways where their
    folding depends on a neighbour the query does not have.

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
        if len(variant) == 1 and variant[0].syllable:
            form = QueryForm((head,), unigram=True)
        else:
            form = QueryForm(tuple(u.key for u in stream(variant)), unigram=False)
        if form not in forms:
            forms.append(form)
    return forms


def _with_key(unit: Unit, key: str) -> Unit:
    return Unit(key, unit.start, unit.end, unit.syllable, unit.run)


def find_phrase(tokens: Sequence[Unit], phrase: Sequence[str]) -> list[tuple[int, int]]:
    """Where a phrase of keys occurs in a sequence of units, as original-text spans.

    Args:
        tokens: Units of a text (its stream, or its syllables).
        phrase: Keys to find in a row.

    Returns:
        ``(start, end)`` offsets into the original text of every occurrence, in order.
    """
    n = len(phrase)
    keys = [t.key for t in tokens]
    return [
        (tokens[i].start, tokens[i + n - 1].end)
        for i in range(len(keys) - n + 1)
        if keys[i : i + n] == list(phrase)
    ]
