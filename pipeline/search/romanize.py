"""Korean in Latin letters, and the loose form a romanized query is matched in.

The systems are McCune-Reischauer (as library catalogues write it) and Revised Romanization.

Both systems are written from their published rules (Library of Congress "Korean Romanization
and Word Division"; the 2000 Revised Romanization of Korean) as far as search needs them:
letters per syllable, voicing of ㄱ ㄷ ㅂ ㅈ between voiced sounds (MR), and the sound changes
across syllables inside a word (nasalisation, ㄹ after ㄴ ㅁ ㅇ and the stops, ㄴ ㄹ -> ll).
Word division, capitals and name hyphens are left out: a query is compared in its
:func:`loose` form, which drops them along with diacritics, apostrophes and spaces, and makes
ŏ/eo, ŭ/eu, k/g, t/d, p/b, ch/j, r/l and si/shi alike, so that MR and RR give the same string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pipeline.search.fold import is_syllable, nfc_chars

System = Literal["mr", "rr"]

_SBASE = 0xAC00

# Initials in Unicode order: ㄱ ㄲ ㄴ ㄷ ㄸ ㄹ ㅁ ㅂ ㅃ ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ ㅋ ㅌ ㅍ ㅎ.
_LEADS = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch'",
          "k'", "t'", "p'", "h")  # fmt: skip
# Vowels: ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ ㅜ ㅝ ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ.
_VOWELS_MR = ("a", "ae", "ya", "yae", "ŏ", "e", "yŏ", "ye", "o", "wa", "wae", "oe", "yo", "u",
              "wŏ", "we", "wi", "yu", "ŭ", "ŭi", "i")  # fmt: skip
_VOWELS_RR = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u",
              "wo", "we", "wi", "yu", "eu", "ui", "i")  # fmt: skip
# Finals (index 1-27) as the sound they end a word with: k n t l m p ng.
_TAILS = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m",
          "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t")  # fmt: skip
# Before a vowel a final is read as the initial it would be (연음): 한국어 -> han'gugŏ.
_TAILS_LINKED = ("", "g", "kk", "ks", "n", "nj", "n", "d", "r", "lg", "lm", "lb", "ls",
                 "lt'", "lp'", "r", "m", "b", "ps", "s", "ss", "ng", "j", "ch'", "k'", "t'",
                 "p'", "")  # fmt: skip
_LENIS = {"g": "k", "d": "t", "b": "p", "j": "ch"}
_RR_LEADS = {"ch'": "ch", "k'": "k", "t'": "t", "p'": "p"}
_RR_LINKED = {"ch'": "ch", "k'": "k", "t'": "t", "p'": "p", "lt'": "lt", "lp'": "lp"}
_NASAL = {"k": "ng", "t": "n", "p": "m"}


@dataclass(frozen=True, slots=True)
class Piece:
    """A syllable's letters and the original offsets of the syllable."""

    text: str
    start: int
    end: int


def _jamo(ch: str) -> tuple[int, int, int]:
    code = ord(ch) - _SBASE
    return code // 588, (code % 588) // 28, code % 28


def _join(coda: str, lead: str) -> tuple[str, str]:
    """The sound change where a final meets the next initial: the new final and initial."""
    if lead == "r":
        if coda in ("n", "l"):
            return "l", "l"
        if coda in _NASAL:
            return _NASAL[coda], "n"
        return coda, "n" if coda in ("m", "ng") else "r"
    if lead in ("n", "m") and coda in _NASAL:
        return _NASAL[coda], lead
    if lead == "n" and coda == "l":
        return "l", "l"
    return coda, lead


def _syllables(word: Sequence[str], system: System) -> list[str]:
    """Romanize one word (a run of Hangul syllables), syllable by syllable."""
    parts = [_jamo(ch) for ch in word]
    vowels = _VOWELS_MR if system == "mr" else _VOWELS_RR
    out: list[str] = []
    for i, (lead_i, vowel_i, tail_i) in enumerate(parts):
        lead = _LEADS[lead_i]
        if i:
            prev_tail = parts[i - 1][2]
            lead = _lead_after(lead, prev_tail, system)
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        tail = _tail_before(tail_i, nxt, system)
        if i == 0 and lead in _LENIS and system == "mr":
            lead = _LENIS[lead]
        if system == "rr":
            lead = _RR_LEADS.get(lead, lead)
        if lead == "s" and vowels[vowel_i] == "wi" and system == "mr":
            lead = "sh"
        out.append(lead + vowels[vowel_i] + tail)
    return out


def _lead_after(lead: str, prev_tail: int, system: System) -> str:
    """An initial after the syllable before it (sound changes; MR voicing)."""
    if not lead or not prev_tail:
        return lead  # ㅇ, or after a vowel (MR: ㄱ ㄷ ㅂ ㅈ voiced, as in the table)
    coda = _TAILS[prev_tail]
    _, lead = _join(coda, lead)
    if system == "mr" and lead in _LENIS and coda in _NASAL:
        return _LENIS[lead]  # after a stop: unvoiced
    return lead


def _tail_before(tail: int, nxt: tuple[int, int, int] | None, system: System) -> str:
    """A final before the next syllable (linked before a vowel, changed before ㄴ ㅁ ㄹ)."""
    if not tail:
        return ""
    if nxt is None:
        return _TAILS[tail]
    if nxt[0] == 11:  # ㅇ: the final is read as the next syllable's initial
        linked = _TAILS_LINKED[tail]
        if system == "rr":
            return _RR_LINKED.get(linked, linked)
        return linked
    coda, _ = _join(_TAILS[tail], _LEADS[nxt[0]])
    if system == "mr" and coda == "n" and nxt[0] == 0:
        return "n'"  # n'g, not ng (LC)
    return coda


def romanize_pieces(
    text: str, system: System = "mr", *, fold: Callable[[str], str] | None = None
) -> list[list[Piece]]:
    """Romanize the Hangul runs of a text (spacing inside a run ignored), per syllable.

    Args:
        text: Text as written.
        system: ``mr`` (McCune-Reischauer, LC) or ``rr`` (Revised Romanization).
        fold: Applied to each syllable before it is romanized.

    Returns:
        For each run of Hangul syllables, one :class:`Piece` per syllable.
    """
    runs: list[list[tuple[str, int, int]]] = []
    current: list[tuple[str, int, int]] = []
    for ch, start, end in nfc_chars(text):
        if 0xAC00 <= ord(ch) < 0xAC00 + 11172:
            current.append((ch, start, end))
        elif not ch.isspace() or not current:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    out = []
    for run in runs:
        letters = _syllables([fold(c) if fold else c for c, _, _ in run], system)
        out.append([Piece(t, s, e) for t, (_, s, e) in zip(letters, run, strict=True)])
    return out


def romanize(text: str, system: System = "mr") -> str:
    """Romanize the Hangul of a text, one word per run of syllables.

    Args:
        text: Text as written (other characters are left out).
        system: ``mr`` or ``rr``.

    Returns:
        The runs' romanizations, space-separated, in lower case.
    """
    return " ".join("".join(p.text for p in run) for run in romanize_pieces(text, system))


# Applied in order to a lower-case string of a-z: the differences between MR, RR and how
# people type them disappear (each rule keeps its output's first letter mapped to its input's).
_LOOSE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        ("eo", "o"),
        ("eu", "u"),
        ("sh", "s"),
        ("yi", "i"),
        ("ch", "c"),
        ("j", "c"),
        ("tc", "cc"),
        ("(?<!n)g", "k"),
        ("d", "t"),
        ("b", "p"),
        ("r", "l"),
    )
)


def _plain(text: str) -> list[tuple[str, int]]:
    """Lower-case a-z letters of ``text`` with their offsets (diacritics and the rest dropped)."""
    out: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch.lower()):
            if "a" <= c <= "z":
                out.append((c, i))
    return out


def loose_mapped(text: str) -> tuple[str, list[int]]:
    """The loose form of Latin text and, for each of its letters, the offset it came from.

    Args:
        text: Romanized text (a query, or :func:`romanize` output).

    Returns:
        The loose string and one offset into ``text`` per character.
    """
    chars = _plain(text)
    s = "".join(c for c, _ in chars)
    where = [i for _, i in chars]
    for pattern, repl in _LOOSE_RULES:
        pieces: list[str] = []
        new_where: list[int] = []
        pos = 0
        for m in pattern.finditer(s):
            pieces.append(s[pos : m.start()])
            new_where.extend(where[pos : m.start()])
            pieces.append(repl)
            new_where.extend(
                where[m.start() + min(k, m.end() - m.start() - 1)] for k in range(len(repl))
            )
            pos = m.end()
        pieces.append(s[pos:])
        new_where.extend(where[pos:])
        s, where = "".join(pieces), new_where
    return s, where


def loose(text: str) -> str:
    """The loose form of Latin text: ``Kim Ch'il-sŏng`` and ``Kim Chilseong`` -> ``kimcilsong``."""
    return loose_mapped(text)[0]


def fold_initials(query: str) -> str:
    """Apply the initial-sound rule to each word of a romanized query (Rodong -> Nodong).

    Words start at spaces and hyphens: ``Ri Il-ryong`` -> ``I Il-yong``.

    Args:
        query: A query in Latin letters.

    Returns:
        The query with word-initial r/l read as n, and n before i/y dropped.
    """

    def one(word: str) -> str:
        low = word.lower()
        if low[:1] in ("r", "l"):
            low = "n" + low[1:]
        if low[:2] in ("ni", "ny"):
            low = low[1:]
        return low

    return re.sub(r"[^\s\-]+", lambda m: one(m.group(0)), query)


def has_latin(text: str) -> bool:
    """Whether a query is in Latin letters (some a-z, no Hangul or Han)."""
    return any(c.isascii() and c.isalpha() for c in text) and not any(is_syllable(c) for c in text)
