"""A query compiled into FTS5 expressions over the index's tables.

A query is text, never FTS5 syntax: it is folded into keys the way the index was, and each key
is quoted, so ``"``, ``*``, ``NEAR``, ``AND``, parentheses and ``-`` are searched as written
(punctuation is not part of any key, so a query of punctuation only finds nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import SearchQueryError
from pipeline.search.fold import QueryForm, query_forms
from pipeline.search.hangul import is_syllable
from pipeline.search.index import AFTER_MARK, BEFORE_MARK, BRIDGE_MARK, JOIN_TOKENS, NO_BRIDGE
from pipeline.search.romanize import fold_initials, has_latin, loose

#: Longest query answered (characters); a longer one raises :class:`SearchQueryError`.
MAX_QUERY = 1000
#: Shortest loose romanization searched (the trigram index needs three letters).
MIN_ROMANIZED = 3


def _quoted(tokens: Sequence[str], mark: str = "") -> str:
    """A phrase of keys, its first token marked as the index marks tokens next to a break."""
    # Keys hold letters, digits and syllables only: nothing inside the quotes is syntax.
    return '"' + mark + " ".join(tokens) + '"'


def _phrase(form: QueryForm) -> str:
    """The stream phrase of a reading (its last token a prefix where it may be part of one)."""
    return _quoted(form.tokens) + (" *" if form.prefix else "")


def _crossings(form: QueryForm) -> list[str]:
    """Ways a phrase can cross a line break, as conditions on one row of ``join_keys``.

    Either the phrase holds the bridge (the bigram across the break) at some position, with
    what precedes it ending the first line and what follows starting the second; or the break
    falls between two of its words (a row without a bridge).
    """
    tokens, n = form.tokens, len(form.tokens)
    tail = " *" if form.prefix else ""
    out = []
    for j in range(n):
        if len(tokens[j]) != 2 or not all(map(is_syllable, tokens[j])):
            continue  # only a bigram of two syllables can be a bridge
        parts = [f"bridge : {_quoted(tokens[j : j + 1], BRIDGE_MARK)}"]
        if j:
            parts.append(f"before : ^{_quoted(tokens[j - 1 :: -1], BEFORE_MARK)}")
        if j < n - 1:
            parts.append(f"after : ^{_quoted(tokens[j + 1 :], AFTER_MARK)}{tail}")
        out.append("(" + " AND ".join(parts) + ")")
    for k in range(1, n):
        if form.runs[k - 1] == form.runs[k]:
            continue  # two bigrams of one run: their break has a bridge
        out.append(
            f'(bridge : "{NO_BRIDGE}" AND before : ^{_quoted(tokens[k - 1 :: -1], BEFORE_MARK)}'
            f" AND after : ^{_quoted(tokens[k:], AFTER_MARK)}{tail})"
        )
    return out


@dataclass(frozen=True)
class Plan:
    """What to look for in an index: the query's readings, and its loose romanization."""

    forms: tuple[QueryForm, ...]
    roman: tuple[str, str] | None

    def phrase_match(self) -> str | None:
        """The expression over ``line_keys`` (phrases of the stream)."""
        phrases = [f for f in self.forms if not f.unigram]
        return " OR ".join(_phrase(f) for f in phrases) or None

    def syllable_match(self) -> str | None:
        """The expression over ``syllable_keys`` (a query of one syllable)."""
        syllables = [f for f in self.forms if f.unigram]
        return " OR ".join(_quoted(f.tokens) for f in syllables) or None

    def join_match(self) -> str | None:
        """The expression over ``join_keys``: phrases that cross a line break."""
        found = [
            c
            for f in self.forms
            if not f.unigram and len(f.tokens) <= 2 * JOIN_TOKENS + 1
            for c in _crossings(f)
        ]
        return " OR ".join(found) or None

    @property
    def checked(self) -> bool:
        """Whether the lines the index finds must be checked (a reading leaves a syllable out)."""
        return any(f.checked for f in self.forms)

    def rom_match(self) -> str | None:
        """The expression over ``rom_keys``: the loose romanization of the line meets the query's.

        The line as written meets the query as written or folded; the line folded (stored
        only where folding changes it) meets the query folded.
        """
        if self.roman is None:
            return None
        orig, fold = self.roman
        return " OR ".join(
            dict.fromkeys([f'orig : "{orig}"', f'orig : "{fold}"', f'fold : "{fold}"'])
        )


def check_query(q: str | None) -> str:
    """Return the query stripped, or raise if it is too long to answer.

    Raises:
        SearchQueryError: More than :data:`MAX_QUERY` characters.
    """
    if q is None:
        return ""
    if len(q) > MAX_QUERY:
        raise SearchQueryError(
            f"query of {len(q)} characters: at most {MAX_QUERY} characters are searched"
        )
    return q.strip()


def plan(q: str) -> Plan | None:
    """Compile a (checked) query; ``None`` when it holds nothing to search for."""
    forms = tuple(query_forms(q))
    roman = None
    if has_latin(q):
        orig, fold = loose(q), loose(fold_initials(q))
        if len(orig) >= MIN_ROMANIZED:
            roman = (orig, fold)
    if not forms and roman is None:
        return None
    return Plan(forms, roman)
