"""A text's Hangul in Latin letters, written out as a reader would type it (tests and benches).

The package romanizes only what it indexes and matches (the loose keys of
:mod:`pipeline.search.romanize`); the tests and benches need the romanization itself, word
by word, to check the systems' letters and to type romanized queries.
"""

from __future__ import annotations

from pipeline.search.romanize import System, hangul_words, romanize_run


def romanize(text: str, system: System = "mr") -> str:
    """Romanize the Hangul of a text, word by word.

    Sound changes apply inside a word only (as LC divides words); a run of words (Hangul with
    only spaces between) is written together.

    Args:
        text: Text as written (other characters are left out).
        system: ``mr`` or ``rr``.

    Returns:
        The runs' romanizations, space-separated, in lower case.
    """
    return " ".join(
        "".join("".join(romanize_run(word, system)) for word in run) for run in hangul_words(text)
    )
