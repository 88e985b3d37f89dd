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

import functools
import re
import unicodedata
from typing import Literal

from pipeline.search.fold import nfc_offsets
from pipeline.search.hangul import initial_fold, is_syllable, parts

System = Literal["mr", "rr"]

_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3](?:\s*[\uac00-\ud7a3])*")

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


def _piece(before: str, ch: str, after: str, system: System) -> str:
    """One syllable's letters, given the syllables around it in its word (``" "``: none)."""
    lead_i, vowel_i, tail_i = parts(ch)
    vowel = (_VOWELS_MR if system == "mr" else _VOWELS_RR)[vowel_i]
    lead = _LEADS[lead_i]
    if before != " ":
        lead = _lead_after(lead, parts(before)[2], system)
    elif system == "mr":
        lead = _LENIS.get(lead, lead)  # word-initial: unvoiced
    if system == "rr":
        lead = _RR_LEADS.get(lead, lead)
    elif lead == "s" and vowel == "wi":
        lead = "sh"
    return lead + vowel + _tail_before(tail_i, parts(after)[0] if after != " " else -1, system)


def romanize_run(run: str, system: System = "mr") -> list[str]:
    """Romanize a word of Hangul syllables, syllable by syllable.

    Args:
        run: Hangul syllables, NFC, nothing between them.
        system: ``mr`` (McCune-Reischauer, LC) or ``rr`` (Revised Romanization).

    Returns:
        Each syllable's letters, with the sound changes at its edges.
    """
    return [
        _piece(before, ch, after, system)
        for before, ch, after in zip(f" {run[:-1]}", run, f"{run[1:]} ", strict=True)
    ]


@functools.lru_cache(maxsize=1 << 16)
def _loose_word(word: str) -> str:
    """A word's loose MR letters (words recur, so each is romanized once)."""
    return _loosen("".join(romanize_run(word)).translate(_MR_LETTERS))


def _lead_after(lead: str, prev_tail: int, system: System) -> str:
    """An initial after the syllable before it (sound changes; MR voicing)."""
    if not lead or not prev_tail:
        return lead  # ㅇ, or after a vowel (MR: ㄱ ㄷ ㅂ ㅈ voiced, as in the table)
    coda = _TAILS[prev_tail]
    _, lead = _join(coda, lead)
    if system == "mr" and lead in _LENIS and coda in _NASAL:
        return _LENIS[lead]  # after a stop: unvoiced
    return lead


def _tail_before(tail: int, next_lead: int, system: System) -> str:
    """A final before the next syllable (linked before a vowel, changed before ㄴ ㅁ ㄹ)."""
    if not tail:
        return ""
    if next_lead < 0:
        return _TAILS[tail]
    if next_lead == 11:  # ㅇ: the final is read as the next syllable's initial
        linked = _TAILS_LINKED[tail]
        if system == "rr":
            return _RR_LINKED.get(linked, linked)
        return linked
    coda, _ = _join(_TAILS[tail], _LEADS[next_lead])
    if system == "mr" and coda == "n" and next_lead == 0:
        return "n'"  # n'g, not ng (LC)
    return coda


def hangul_words(text: str) -> list[list[str]]:
    """The runs of Hangul syllables of a text (NFC), each as its space-separated words."""
    norm = unicodedata.normalize("NFC", text)
    return [m.group().split() for m in _HANGUL_RUN.finditer(norm)]


# Applied in order to lower-case a-z (and spaces): the differences between MR, RR and how
# people type them disappear. First single letters (j/ch, d/t, b/p, r/l), then vowels and
# digraphs, each replaced wherever it occurs, left to right; then what those leave (MR tch =
# RR jj), and last g = k except in ng. Each replacement's letters map to the letters of what
# it replaced.
_LOOSE_LETTERS = str.maketrans("jdbr", "ctpl")
_LOOSE_STEPS = (("eo", "o"), ("eu", "u"), ("sh", "s"), ("yi", "i"), ("ch", "c"), ("tc", "cc"))
_LOOSE_PATTERNS = (
    *((re.compile(old), new) for old, new in _LOOSE_STEPS),
    (re.compile("(?<!n)g"), "k"),
)


_MR_LETTERS = str.maketrans({"ŏ": "o", "ŭ": "u", "'": None})
_NOT_LETTERS = re.compile("[^a-z]+")


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
        text: Romanized text (a query, or :func:`romanize_run` output).

    Returns:
        The loose string and one offset into ``text`` per character.
    """
    chars = _plain(text)
    s = "".join(c for c, _ in chars).translate(_LOOSE_LETTERS)
    where = [i for _, i in chars]
    for pattern, repl in _LOOSE_PATTERNS:
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


def _loosen(letters: str) -> str:
    """Apply the loose rules to a-z letters (spaces between words stay: no rule spans one)."""
    letters = letters.translate(_LOOSE_LETTERS)
    for old, new in _LOOSE_STEPS:
        letters = letters.replace(old, new)
    # g -> k, but not in ng (no g that follows an n is outside an "ng").
    return letters.replace("ng", "\0").replace("g", "k").replace("\0", "ng")


def loose(text: str) -> str:
    """The loose form of Latin text: ``Kim Ch'il-sŏng`` and ``Kim Chilseong`` -> ``kimcilsong``."""
    low = text.lower().translate(_MR_LETTERS)
    return _loosen(
        _NOT_LETTERS.sub("", low) if low.isascii() else "".join(c for c, _ in _plain(text))
    )


def roman_keys(text: str) -> tuple[str, str]:
    """The loose romanization of a text's Hangul, as written and folded (the index's keys).

    Args:
        text: A line as written.

    Each word is loosened apart and a run's words are joined, so the few loose rules that
    could span two words (e + o, e + u, t + ch) do not.

    Returns:
        The runs' loose romanizations (:func:`romanize_run`), space-separated: as written, and
        with the initial-sound rule applied to every syllable first (empty when there is no
        Hangul, and the second empty when folding changes nothing).
    """
    runs = hangul_words(text)
    written = " ".join("".join(map(_loose_word, run)) for run in runs)
    folded_runs = [[initial_fold(word) for word in run] for run in runs]
    if folded_runs == runs:
        return written, ""
    return written, " ".join("".join(map(_loose_word, run)) for run in folded_runs)


def roman_key_mapped(text: str, *, folded: bool) -> tuple[str, list[tuple[int, int]]]:
    """One of :func:`roman_keys`, and for each of its characters the syllable it came from.

    Args:
        text: A line as written.
        folded: The folded key rather than the key as written.

    Returns:
        The key, and per character the original ``(start, end)`` of its syllable
        (``(-1, -1)`` for the space between runs).
    """
    norm, starts, ends = nfc_offsets(text)
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _HANGUL_RUN.finditer(norm):
        if parts:
            parts.append(" ")
            spans.append((-1, -1))
        for word in re.finditer(r"\S+", m.group()):
            key, owners = _word_mapped(word.group(), folded=folded)
            at = m.start() + word.start()
            parts.append(key)
            spans += [(starts[at + k], ends[at + k]) for k in owners]
    return "".join(parts), spans


@functools.lru_cache(maxsize=1 << 16)
def _word_mapped(word: str, *, folded: bool) -> tuple[str, tuple[int, ...]]:
    """A word's loose key and, per character, its syllable's offset in the word (cached)."""
    letters = romanize_run(initial_fold(word) if folded else word)
    owner = [k for k, piece in enumerate(letters) for _ in piece]
    key, at = loose_mapped("".join(letters))
    return key, tuple(owner[a] for a in at)


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
