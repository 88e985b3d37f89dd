"""Hangul syllables: their parts, and the folding that makes North and South spelling meet.

The folding of a run of syllables (spacing already removed), applied to the text and to the
query alike:

* the initial-sound rule (두음법칙) on every syllable, since a compound joins words and any
  syllable may start one: ㄹ before ㅑ ㅕ ㅖ ㅛ ㅠ ㅣ -> ㅇ, other ㄹ -> ㄴ, ㄴ before those vowels
  -> ㅇ (력사 = 역사, 로동 = 노동, 녀성 = 여성, 리 = 이);
* 여/였 -> 어/었 after a syllable whose vowel is ㅣ ㅐ ㅔ ㅚ ㅟ ㅢ (되였다 = 되었다);
* the 사이시옷: a final ㅅ before another syllable is dropped (나뭇가지 = 나무가지).

Each rule maps one syllable to one syllable, so offsets in a run survive folding. The work is
done by ``str.translate`` and two regular expressions, so a page of text folds in microseconds.
"""

from __future__ import annotations

import re

SBASE = 0xAC00
SCOUNT = 11172
_VCOUNT, _TCOUNT = 21, 28
_NCOUNT = _VCOUNT * _TCOUNT
_NIEUN, _RIEUL, _IEUNG = 2, 5, 11
_YEO, _EO = 6, 4
_T_SIOS = 19
#: Vowels ㅑ ㅕ ㅖ ㅛ ㅠ ㅣ, before which an initial ㄹ or ㄴ is dropped.
_Y_VOWELS = frozenset({2, 6, 7, 12, 17, 20})
#: Vowels ㅣ ㅐ ㅔ ㅚ ㅟ ㅢ, after which 여/였 is written 어/었 in the South.
_FRONT_VOWELS = (20, 1, 5, 11, 16, 19)

#: Regular-expression class body of the characters searched by bigrams: Hangul syllables and
#: Han characters (CJK unified ideographs, extension A, compatibility ideographs).
SYLLABLE_CLASS = "\uac00-\ud7a3\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SYLLABLE = re.compile(f"[{SYLLABLE_CLASS}]")


def is_syllable(ch: str) -> bool:
    """Whether ``ch`` is a Hangul syllable or a Han character (searched by bigrams)."""
    return _SYLLABLE.fullmatch(ch) is not None


def is_hangul(ch: str) -> bool:
    """Whether ``ch`` is one precomposed Hangul syllable."""
    return len(ch) == 1 and SBASE <= ord(ch) < SBASE + SCOUNT


def parts(ch: str) -> tuple[int, int, int]:
    """A syllable's initial, vowel and final, as indexes in Unicode's jamo order."""
    code = ord(ch) - SBASE
    return code // _NCOUNT, (code % _NCOUNT) // _TCOUNT, code % _TCOUNT


def compose(lead: int, vowel: int, tail: int) -> str:
    """The syllable of an initial, a vowel and a final (jamo indexes)."""
    return chr(SBASE + lead * _NCOUNT + vowel * _TCOUNT + tail)


def _initial_folded(code: int) -> int:
    lead, vowel, tail = parts(chr(code))
    if lead == _RIEUL:
        lead = _IEUNG if vowel in _Y_VOWELS else _NIEUN
    elif lead == _NIEUN and vowel in _Y_VOWELS:
        lead = _IEUNG
    return ord(compose(lead, vowel, tail))


_INITIAL = {
    code: _initial_folded(code)
    for code in range(SBASE, SBASE + SCOUNT)
    if _initial_folded(code) != code
}
_FRONT_CLASS = "".join(
    f"{compose(lead, vowel, 0)}-{compose(lead, vowel, _TCOUNT - 1)}"
    for lead in range(19)
    for vowel in _FRONT_VOWELS
)
_YEO_AFTER_FRONT = re.compile(f"(?<=[{_FRONT_CLASS}])[여였]")
_SIOS_BEFORE = re.compile(
    "["
    + "".join(compose(lead, vowel, _T_SIOS) for lead in range(19) for vowel in range(21))
    + "](?=.)"
)
_EO_OF = {"여": "어", "였": "었"}


def initial_fold(text: str) -> str:
    """Apply the initial-sound rule to every syllable of ``text`` (력 -> 역, 로 -> 노, 녀 -> 여)."""
    return text.translate(_INITIAL)


def fold_yeo(ch: str) -> str:
    """여/였 -> 어/었 (for a syllable known to follow a front vowel)."""
    return _EO_OF.get(ch, ch)


def drop_sios(ch: str) -> str:
    """A syllable without its final ㅅ (for one known to precede another syllable)."""
    if is_hangul(ch) and parts(ch)[2] == _T_SIOS:
        return chr(ord(ch) - _T_SIOS)
    return ch


def fold_run(run: str) -> str:
    """Fold a run of syllables (spacing removed), each syllable in its context.

    Args:
        run: The syllables, NFC, nothing between them.

    Returns:
        The folded run, one syllable per syllable.
    """
    folded = _YEO_AFTER_FRONT.sub(lambda m: _EO_OF[m.group()], run.translate(_INITIAL))
    return _SIOS_BEFORE.sub(lambda m: drop_sios(m.group()), folded)
