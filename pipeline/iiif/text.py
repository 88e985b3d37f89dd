"""Text in IIIF property values: language maps and the HTML subset Presentation 3 allows.

Presentation 3 (section 4.4) allows minimal HTML only in ``summary`` and in the ``value`` of
``metadata`` and ``requiredStatement`` entries; everything else (labels above all) is plain text.
Clients are told to keep only ``a b br i img p small span sub sup``, ``href`` on ``a`` (http,
https, mailto), ``src``/``alt`` on ``img``, and to drop scripts, comments, CDATA and processing
instructions. We do that on the producing side, so nothing a viewer would have to remove ever
reaches it: :func:`safe_html` for the HTML-capable properties, :func:`plain_text` for the rest.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationInfo

LangMap = dict[str, list[str]]

ALLOWED_TAGS = frozenset({"a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup"})
VOID_TAGS = frozenset({"br", "img"})
# Elements whose content is code or form machinery, never text to show: dropped whole.
DROPPED_TAGS = frozenset(
    {
        "applet", "audio", "base", "button", "canvas", "embed", "form", "frame", "frameset",
        "head", "iframe", "input", "link", "math", "meta", "noscript", "object", "option",
        "script", "select", "style", "svg", "template", "textarea", "title", "video",
    }
)  # fmt: skip
# Every element name of HTML (WHATWG, with the obsolete ones browsers still know). Only these,
# or a tag with attributes, are markup in a value; ``<draft>`` or ``<illegible>`` in a
# catalogue's text is text, and stays.
HTML_ELEMENTS = frozenset(
    {
        "a", "abbr", "acronym", "address", "applet", "area", "article", "aside", "audio", "b",
        "base", "basefont", "bdi", "bdo", "bgsound", "big", "blink", "blockquote", "body", "br",
        "button", "canvas", "caption", "center", "cite", "code", "col", "colgroup", "data",
        "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em",
        "embed", "fieldset", "figcaption", "figure", "font", "footer", "form", "frame",
        "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr",
        "html", "i", "iframe", "image", "img", "input", "ins", "isindex", "kbd", "keygen",
        "label", "legend", "li", "link", "listing", "main", "map", "mark", "marquee", "math",
        "menu", "menuitem", "meta", "meter", "multicol", "nav", "nextid", "nobr", "noembed",
        "noframes", "noscript", "object", "ol", "optgroup", "option", "output", "p", "param",
        "picture", "plaintext", "pre", "progress", "q", "rb", "rp", "rt", "rtc", "ruby", "s",
        "samp", "script", "search", "section", "select", "slot", "small", "source", "spacer",
        "span", "strike", "strong", "style", "sub", "summary", "sup", "svg", "table", "tbody",
        "td", "template", "textarea", "tfoot", "th", "thead", "time", "title", "tr", "track",
        "tt", "u", "ul", "var", "video", "wbr", "xmp",
    }
)  # fmt: skip
# A tag-like run without attribute values: ``<draft>``, ``</draft>``, ``<sic/>``, ``<not known>``,
# ``<Ed.>``, ``<ca. 1900>`` (no HTML element has a dot in its name).
_BARE_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9.-]*)((?:\s+[^\s<>=\"'/]+)*\s*/?)>")
_ATTR_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)[^>]*=")
# Tags that separate words when markup is flattened to plain text.
BREAKING_TAGS = frozenset({"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4"})
HREF_SCHEMES = ("http:", "https:", "mailto:")
SRC_SCHEMES = ("http:", "https:")

# The language keys the Presentation 3 JSON Schema and iiif-prezi3 accept.
LANGUAGE_KEY = re.compile(r"^(none|[a-zA-Z-]+)$")
EMPTIED = "nothing left after removing HTML the IIIF spec does not allow"
_HINTS = {
    True: "give plain text, or HTML with only a, b, br, i, img (with an http(s) src), p, small, "
    "span, sub, sup",
    False: "labels are plain text: give the text without markup",
}
_MAX_PASSES = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")


def _clean_url(value: str, schemes: tuple[str, ...]) -> str | None:
    """Return the URL if its scheme is allowed (browsers ignore embedded controls, blanks)."""
    url = _CONTROL.sub("", value).strip()
    squeezed = _SPACE.sub("", url).lower()
    return url if squeezed.startswith(schemes) else None


class _Sanitiser(HTMLParser):
    """Rebuilds markup keeping only the allowed subset, as well-formed XML."""

    def __init__(self, *, keep_tags: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.keep_tags = keep_tags
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping: list[str] = []
        self.saw_tag = False
        self.top_level = 0  # elements and text runs outside any kept element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.saw_tag = True
        if self.dropping:
            if tag == self.dropping[-1] or tag in DROPPED_TAGS:
                self.dropping.append(tag)
            return
        if tag in DROPPED_TAGS:
            self.dropping.append(tag)
            return
        if not self.keep_tags:
            if tag in BREAKING_TAGS:
                self.out.append(" ")
            return
        if tag not in ALLOWED_TAGS:
            return
        kept: list[str] = []
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) == ("a", "href"):
                url = _clean_url(value, HREF_SCHEMES)
            elif (tag, name) == ("img", "src"):
                url = _clean_url(value, SRC_SCHEMES)
            elif (tag, name) == ("img", "alt"):
                url = value
            else:
                continue
            if url is not None:
                kept.append(f' {name}="{html.escape(url, quote=True)}"')
        if tag == "img" and not any(k.startswith(" src=") for k in kept):
            return
        if not self.open:
            self.top_level += 1
        if tag in VOID_TAGS:
            self.out.append(f"<{tag}{''.join(kept)}/>")
        else:
            self.out.append(f"<{tag}{''.join(kept)}>")
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if not self.keep_tags:
            if tag in BREAKING_TAGS:
                self.out.append(" ")
            return
        if tag in self.open:
            # Close whatever was left open inside it, so the result stays well-formed.
            while self.open:
                name = self.open.pop()
                self.out.append(f"</{name}>")
                if name == tag:
                    break

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if not self.open and data.strip():
            self.top_level += 1
        self.out.append(html.escape(data, quote=False) if self.keep_tags else data)

    # Comments, CDATA, declarations and processing instructions are dropped (spec 4.4).
    def handle_comment(self, data: str) -> None:  # noqa: D102
        self.saw_tag = True

    def handle_decl(self, decl: str) -> None:  # noqa: D102
        self.saw_tag = True

    def handle_pi(self, data: str) -> None:  # noqa: D102
        self.saw_tag = True

    def unknown_decl(self, data: str) -> None:  # noqa: D102
        self.saw_tag = True

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def _normalise(text: str) -> str:
    return _CONTROL.sub("", unicodedata.normalize("NFC", text))


def _text_tags(text: str) -> str:
    """Escape the tag-like runs that are not HTML (``<draft>``), so the parser sees text.

    A name that also occurs with attributes (``<x onclick=...>``) is markup everywhere, so
    that its end tag goes with it.
    """
    markup = HTML_ELEMENTS | {m.lower() for m in _ATTR_TAG.findall(text)}

    def escape(match: re.Match[str]) -> str:
        if match.group(2).lower() in markup:
            return match.group(0)
        return "&lt;" + match.group(0)[1:]

    return _BARE_TAG.sub(escape, text)


def clean_plain_text(text: str) -> tuple[str, bool]:
    """Clean a value of a plain-text property and say whether markup was removed.

    HTML tags are dropped (script, style and the like with their content), comments and
    processing instructions too; character references are decoded; runs of white space become
    one space. Text that only looks like a tag (``<draft>``, ``<1995>``, ``a < b``) is text, and
    stays. The cleaning repeats until nothing changes, so that removing one tag can never join
    the text around it into another.

    Args:
        text: The value as given in a descriptor or configuration.

    Returns:
        The text a viewer shows, and whether any markup was removed to get it.

    """
    text = _normalise(text)
    removed = False
    for _ in range(_MAX_PASSES):
        if "<" not in text and "&" not in text:
            break
        parser = _Sanitiser(keep_tags=False)
        parser.feed(_text_tags(text))
        cleaned = parser.result()
        removed = removed or parser.saw_tag
        if cleaned == text:
            break
        text = cleaned
        if not parser.saw_tag and "<" not in cleaned:
            # Only character references were decoded, and they made no tag: decoding again
            # would turn text the author escaped ("AT&amp;amp;T") into something else.
            break
    else:
        return "", True  # still changing: markup built to outlast cleaning; keep none of it
    return _SPACE.sub(" ", text).strip(), removed


def plain_text(text: str) -> str:
    """Clean a value of a plain-text property (``label`` and friends): markup removed, NFC.

    See :func:`clean_plain_text`.

    Args:
        text: The value as given in a descriptor or configuration.

    Returns:
        The text a viewer shows.

    """
    return clean_plain_text(text)[0]


def markup_warnings(value: Mapping[str, Sequence[str]] | str, where: str) -> list[str]:
    """Say, for each string of a plain-text language map, what removing markup took from it.

    Args:
        value: The language map (or bare string) as configured or described.
        where: The file and key it comes from, e.g. ``volume.toml: label``.

    Returns:
        One line per string that lost markup: the key, the language, what was given and what
        is published.

    """
    if isinstance(value, str):
        value = {"none": [value]}
    lines = []
    for lang, texts in value.items():
        for text in [texts] if isinstance(texts, str) else texts:
            cleaned, removed = clean_plain_text(text)
            if removed:
                lines.append(
                    f"{where}.{lang}: markup removed (labels are plain text): "
                    f"{_shown(text)} is published as {cleaned!r}"
                )
    return lines


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def safe_html(text: str) -> str:
    """Clean a value of ``summary`` or a metadata/requiredStatement ``value`` to allowed HTML.

    Plain text stays plain text (a value that merely looks like markup, such as ``<1995>``,
    gets the trailing space the spec recommends, so clients don't take it for HTML). Markup is
    rebuilt from the allowed tags and attributes as well-formed XML, wrapped in one element
    with no white space around it, as section 4.4 requires.

    Args:
        text: The value as given in a descriptor or configuration.

    Returns:
        Plain text or an HTML fragment safe to hand to any viewer.

    """
    text = _normalise(text).strip()
    parser = _Sanitiser(keep_tags=True)
    parser.feed(_text_tags(text))
    rebuilt = parser.result().strip()
    if not parser.saw_tag:
        plain = text
    elif "<" not in rebuilt:
        plain = html.unescape(rebuilt)
        if clean_plain_text(plain)[1]:
            # Removing tags left text that reads as markup (``<<b></b>img onerror=...>``):
            # publish it escaped, as HTML, so no client can take it for markup.
            return f"<span>{rebuilt}</span>"
    else:
        return rebuilt if parser.top_level == 1 else f"<span>{rebuilt}</span>"
    return plain + " " if plain.startswith("<") and plain.endswith(">") else plain


def lang_map(
    value: Mapping[str, Sequence[str]] | str, *, html_allowed: bool = False, keep_all: bool = False
) -> LangMap:
    """Clean a language map: every string sanitised, empty strings and languages dropped.

    Args:
        value: ``{"ko": ["..."], "en": ["..."]}``; a bare string means ``{"none": [...]}``.
        html_allowed: Whether the property may carry HTML (summary, metadata values).
        keep_all: Whether every string with text must survive sanitising: for statements
            (metadata, ``requiredStatement``, ``summary``), where dropping text could drop a
            legal attribution without anyone noticing. Blank strings are still dropped.

    Returns:
        The cleaned map (possibly empty).

    Raises:
        ValueError: A key is not a language tag the Presentation 3 schema accepts; or, with
            ``keep_all``, a string had text and sanitising left nothing.

    """
    if isinstance(value, str):
        value = {"none": [value]}
    clean = safe_html if html_allowed else plain_text
    out: LangMap = {}
    for lang, texts in value.items():
        if not LANGUAGE_KEY.match(lang):
            raise ValueError(f"{lang!r} is not a language tag such as 'ko', 'en' or 'ko-Latn'")
        kept: list[str] = []
        for text in [texts] if isinstance(texts, str) else texts:
            cleaned = clean(text)
            if cleaned:
                kept.append(cleaned)
            elif keep_all and _normalise(text).strip():
                raise ValueError(f"{EMPTIED} ({lang}: {_shown(text)}); {_HINTS[html_allowed]}")
        if kept:
            out[lang] = kept
    return out


def check_plain_label(value: LangMap | None) -> LangMap | None:
    """Refuse a plain-text label that has text and that removing markup would leave empty.

    A pydantic field validator for the labels of configuration and descriptors, so that a
    label such as ``<script>...</script>`` stops the job before any work starts, naming the key.

    Args:
        value: The field's language map, if given.

    Returns:
        ``value`` unchanged: the stages clean it when they build the documents.

    Raises:
        ValueError: A string had text and removing markup left nothing.

    """
    if value is not None:
        lang_map(value, keep_all=True)
    return value


def check_label_value(value: LangMap, info: ValidationInfo) -> LangMap:
    """Refuse a label or value of a label/value pair that sanitising would remove.

    A pydantic field validator for the ``label`` and ``value`` fields of a configured pair
    (``requiredStatement``), so the problem stops the job before any work starts. ``value``
    may carry the allowed HTML; ``label`` is plain text.

    Args:
        value: The field's language map.
        info: Pydantic's validation info (``info.field_name`` says which field).

    Returns:
        ``value`` unchanged: the stages sanitise it when they build the documents.

    Raises:
        ValueError: A string had text and sanitising left nothing, or there is no text.

    """
    if not lang_map(value, html_allowed=info.field_name == "value", keep_all=True):
        raise ValueError("no text given")
    return value


def first_text(value: Mapping[str, Sequence[str]], prefer: Sequence[str] = ("en", "none")) -> str:
    """Return one string of a language map, for log lines and messages.

    Args:
        value: The language map.
        prefer: Languages to look at first, in order.

    Returns:
        The first string of the first preferred language that has one, else of any
        language, else ``""``.

    """
    for lang in (*prefer, *value):
        texts = value.get(lang)
        if texts:
            return texts[0]
    return ""
