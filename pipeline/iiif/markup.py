"""The HTML subset of IIIF Presentation 3 (section 4.4): sanitising values, and plain text.

Presentation 3 allows minimal HTML only in ``summary`` and in the ``value`` of ``metadata`` and
``requiredStatement`` entries; everything else (labels above all) is plain text. Clients are
told to keep only ``a b br i img p small span sub sup``, ``href`` on ``a`` (http, https,
mailto), ``src``/``alt`` on ``img``, and to drop scripts, comments, CDATA and processing
instructions. We do that on the producing side, so nothing a viewer would have to remove ever
reaches it: :func:`safe_html` for the HTML-capable properties, :func:`plain_text` for the rest.
The allow-listing itself is nh3's (the ammonia sanitiser, on an HTML5 parser); this module adds
the IIIF rules around it: text that only looks like a tag stays text, the result is one
element of well-formed XML, and a plain-text value says whether markup was removed from it.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

ALLOWED_TAGS = frozenset({"a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup"})
# "*" names the attributes allowed on every element: none (nh3 would allow lang and title).
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}, "img": {"src", "alt"}, "*": set()}
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
# Tags that separate words when markup is flattened to plain text: a space goes before each.
_BREAKING_TAG = re.compile(r"<(?=/?(?:br|p|div|li|tr|td|th|h1|h2|h3|h4)[\s/>])", re.IGNORECASE)
HREF_SCHEMES = ("http:", "https:", "mailto:")
SRC_SCHEMES = ("http:", "https:")

# What an HTML5 tokenizer reads as one piece of markup, when it is complete: a comment, a
# declaration, processing instruction or bogus comment, a start or end tag (a quoted attribute
# value runs to its closing quote). Unfinished at the end of a value, the tokenizer would take
# the rest of the value with it.
_MARKUP = re.compile(
    r"<!--.*?-->|<!-{0,3}>|</>|<!(?!--)[^>]*>|<\?[^>]*>|</[^A-Za-z>][^>]*>"
    r"|</?[A-Za-z](?>=\s*(?:\"[^\"]*\"|'[^']*'|(?![\"']))|[^>=])*+>",
    re.DOTALL,
)
_MARKUP_START = re.compile(r"<[A-Za-z!?/]")
# Elements whose content an HTML5 parser reads as text up to their end tag.
_RAW_TEXT = re.compile(
    r"<(script|style|xmp|iframe|noembed|noframes|noscript|textarea|title)(?=[\s/>])", re.IGNORECASE
)
# nh3's output, a canonical HTML serialisation, read back token by token.
_TOKEN = re.compile(r"<(/?)([a-z]+)((?: [a-z-]+=\"[^\"]*\")*)/?>|[^<]+")
_ATTRIBUTE = re.compile(r" ([a-z-]+)=\"([^\"]*)\"")

_MAX_PASSES = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")


def _clean_url(value: str, schemes: tuple[str, ...]) -> str | None:
    """Return the URL if its scheme is allowed (browsers ignore embedded controls, blanks)."""
    url = _CONTROL.sub("", value).strip()
    squeezed = _SPACE.sub("", url).lower()
    return url if squeezed.startswith(schemes) else None


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: ``href`` and ``src`` only with an allowed scheme, cleaned."""
    if name == "href":
        return _clean_url(value, HREF_SCHEMES)
    if name == "src":
        return _clean_url(value, SRC_SCHEMES)
    return value


# ``url_relative="deny"``: a relative ``src`` would point into whichever site shows the value.
_HTML = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_keep_attribute,
    link_rel=None,
    url_schemes={scheme.rstrip(":") for scheme in HREF_SCHEMES},
    url_relative="deny",
)
_TEXT = nh3.Cleaner(
    tags=set(), clean_content_tags=set(DROPPED_TAGS), attributes={"*": set()}, link_rel=None
)


def normalise(text: str) -> str:
    """NFC, without control characters (other than tab and line breaks)."""
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


def _unfinished_as_text(text: str) -> str:
    """Escape markup left unfinished at the end of the value (``Kim <Lee``), so it stays text.

    An HTML5 parser drops an unfinished tag or comment together with everything after it; the
    value's own text is kept instead. Content of elements read as raw text (``<script>``) is
    skipped up to their end tag, as the parser reads it.
    """
    pos = 0
    while (start := _MARKUP_START.search(text, pos)) is not None:
        markup = _MARKUP.match(text, start.start())
        if markup is None:
            head, tail = text[: start.start()], text[start.start() :]
            return head + tail.replace("<", "&lt;")
        pos = markup.end()
        raw = _RAW_TEXT.match(markup.group())
        if raw is not None and not markup.group().startswith("</"):
            close = re.compile(rf"</{raw.group(1)}[\s/>]", re.IGNORECASE).search(text, pos)
            if close is None:
                return text  # the element's content runs to the end: no markup after it
            pos = close.start()
    return text


def _flatten(text: str) -> tuple[str, bool]:
    """One pass of markup removal: the text (references decoded), and whether it had markup.

    Markup was there when taking it out changed more than white space (a removed tag always
    takes characters with it; the parser also turns CR LF into LF).
    """
    source = _BREAKING_TAG.sub(" <", _unfinished_as_text(_text_tags(text)))
    flat = html.unescape(_TEXT.clean(source))
    had = _SPACE.sub(" ", flat) != _SPACE.sub(" ", html.unescape(source))
    return flat, had


def _as_xml(fragment: str) -> str:
    """nh3's HTML as well-formed XML: void elements closed, an ``img`` without ``src`` dropped.

    Attribute values are escaped as :func:`html.escape` does (quotes too), and a no-break space
    is written as the character, not as ``&nbsp;`` (which XML does not know).
    """
    fragment = fragment.replace("&nbsp;", "\xa0")

    def tag(match: re.Match[str]) -> str:
        end, name, attributes = match.groups()
        if name is None or end:
            return match.group(0)
        pairs = [(n, html.unescape(v)) for n, v in _ATTRIBUTE.findall(attributes)]
        if name == "img" and not any(n == "src" for n, _ in pairs):
            return ""
        kept = "".join(f' {n}="{html.escape(v, quote=True)}"' for n, v in pairs)
        return f"<{name}{kept}/>" if name in ("br", "img") else f"<{name}{kept}>"

    return _TOKEN.sub(tag, fragment)


def _roots(fragment: str) -> int:
    """How many elements and text runs of an XML fragment (from :func:`_as_xml`) are outermost."""
    depth = roots = 0
    for match in _TOKEN.finditer(fragment):
        end, name, _ = match.groups()
        if name is None:
            roots += depth == 0 and bool(match.group(0).strip())
        elif end:
            depth -= 1
        else:
            roots += depth == 0
            depth += not match.group(0).endswith("/>")
    return roots


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
    text = normalise(text)
    removed = False
    for _ in range(_MAX_PASSES):
        if "<" not in text and "&" not in text:
            break
        cleaned, had_markup = _flatten(text)
        removed = removed or had_markup
        if cleaned == text:
            break
        text = cleaned
        if not had_markup and "<" not in cleaned:
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
    text = normalise(text).strip()
    if ("<" not in text and "&" not in text) or not _flatten(text)[1]:
        plain = text
    else:
        rebuilt = _as_xml(_HTML.clean(_unfinished_as_text(_text_tags(text)))).strip()
        if "<" in rebuilt:
            return rebuilt if _roots(rebuilt) == 1 else f"<span>{rebuilt}</span>"
        plain = html.unescape(rebuilt)
        if clean_plain_text(plain)[1]:
            # Removing tags left text that reads as markup (``<<b></b>img onerror=...>``):
            # publish it escaped, as HTML, so no client can take it for markup.
            return f"<span>{rebuilt}</span>"
    return plain + " " if plain.startswith("<") and plain.endswith(">") else plain
