"""The HTML subset of Presentation 3 (section 4.4) and language maps."""

from __future__ import annotations

import re
import unicodedata

import pytest

from pipeline.iiif.markup import clean_plain_text, plain_text, safe_html
from pipeline.iiif.text import EMPTIED, first_text, lang_map, markup_warnings


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("인물전기 제1권", "인물전기 제1권", id="plain"),
        pytest.param("<script>alert(1)</script>Title", "Title", id="script-dropped-with-content"),
        pytest.param("a <b>bold</b> label", "a bold label", id="tags-removed-text-kept"),
        pytest.param("Kim &amp; Lee", "Kim & Lee", id="entities-decoded"),
        pytest.param("  two \n lines  ", "two lines", id="white-space-collapsed"),
        pytest.param("<1995>", "<1995>", id="not-a-tag"),
        pytest.param("a < b", "a < b", id="lone-less-than"),
        pytest.param("x<style>p{}</style><br>y", "x y", id="style-dropped-br-spaces"),
        pytest.param("tab\x00bell\x07", "tabbell", id="control-characters-removed"),
    ],
)
def test_plain_text(given: str, expected: str) -> None:
    assert plain_text(given) == expected


@pytest.mark.parametrize(
    ("given", "expected", "removed"),
    [
        pytest.param(
            "Letters 1950-1953 <draft> & notes",
            "Letters 1950-1953 <draft> & notes",
            False,
            id="draft-is-text",
        ),
        pytest.param("<draft>", "<draft>", False, id="only-a-word-in-brackets"),
        pytest.param("Life <sic/> of Ri", "Life <sic/> of Ri", False, id="self-closing-word"),
        pytest.param("<Draft>copy</Draft>", "<Draft>copy</Draft>", False, id="case-kept"),
        pytest.param("<unknown author>", "<unknown author>", False, id="words-in-brackets"),
        pytest.param("Kim &amp; Lee", "Kim & Lee", False, id="entity-decoding-loses-nothing"),
        pytest.param("<script>alert(1)</script>", "", True, id="script"),
        pytest.param("a <b>bold</b> label", "a bold label", True, id="html-element"),
        pytest.param("A <x onmouseover=alert(1)>hover</x>", "A hover", True, id="attributes"),
        pytest.param("A <!-- note --> B", "A B", True, id="comment"),
        pytest.param(
            "<<script></script>script>alert(1)<</script>/script>", "", True, id="nested-script"
        ),
        pytest.param("&lt;script&gt;alert(1)&lt;/script&gt;", "", True, id="escaped-script"),
        pytest.param("AT&amp;amp;T", "AT&amp;T", False, id="references-decoded-once"),
        pytest.param("a &amp;lt;b&amp;gt; c", "a &lt;b&gt; c", False, id="escaped-entities"),
        pytest.param("Letters, Kim <Ed.>", "Letters, Kim <Ed.>", False, id="dotted-word"),
        pytest.param("Diary <ca. 1900>", "Diary <ca. 1900>", False, id="dotted-words"),
    ],
)
def test_plain_text_keeps_text_and_says_when_markup_went(
    given: str, expected: str, removed: bool
) -> None:
    assert clean_plain_text(given) == (expected, removed)


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("<<script></script>script>alert(1)<</script>/script>", id="script"),
        pytest.param("<<b></b>img src=x onerror=alert(1)>", id="img-onerror"),
    ],
)
def test_safe_html_never_publishes_markup_that_tag_removal_assembles(given: str) -> None:
    cleaned = safe_html(given)
    # Whatever is left is text inside one allowed element: no tag but the allowed ones.
    assert not re.search(r"<(?!/?(span|b)>)", cleaned), cleaned
    assert cleaned.startswith("<span>") and cleaned.endswith("</span>")


def test_safe_html_keeps_text_in_brackets() -> None:
    assert safe_html("Letters <draft> & notes") == "Letters <draft> & notes"
    assert safe_html("<b>Letters</b> <draft>") == "<span><b>Letters</b> &lt;draft&gt;</span>"


def test_markup_warnings_name_the_key_and_what_was_lost() -> None:
    given = {"en": ["Letters <b>1950</b>", "Plain <draft>"], "ko": "<i>편지</i>"}
    assert markup_warnings(given, "volume.toml: label") == [
        "volume.toml: label.en: markup removed (labels are plain text): "
        "'Letters <b>1950</b>' is published as 'Letters 1950'",
        "volume.toml: label.ko: markup removed (labels are plain text): "
        "'<i>편지</i>' is published as '편지'",
    ]
    assert markup_warnings("Letters <draft> &amp; notes", "label") == []


def test_a_label_that_markup_removal_empties_is_refused() -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(EMPTIED)} .*labels are plain text"):
        lang_map({"en": ["<script>alert(1)</script>"]}, keep_all=True)


def test_plain_text_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "력사")
    assert decomposed != "력사"
    assert plain_text(decomposed) == "력사"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("plain & simple", "plain & simple", id="plain-text-untouched"),
        pytest.param("<p>Some <b>desc</b></p>", "<p>Some <b>desc</b></p>", id="allowed-kept"),
        pytest.param("Hello <b>x</b> world", "<span>Hello <b>x</b> world</span>", id="wrapped"),
        pytest.param(" <b>x</b> ", "<b>x</b>", id="no-white-space-around"),
        pytest.param("<p>a</p><p>b</p>", "<span><p>a</p><p>b</p></span>", id="one-root"),
        pytest.param("<script>alert(1)</script>hi", "hi", id="script-only-leaves-text"),
        pytest.param(
            '<a href="javascript:alert(1)" onclick="x">link</a>', "<a>link</a>", id="js-href"
        ),
        pytest.param('<a href=" JaVaScRiPt:alert(1)">x</a>', "<a>x</a>", id="js-href-disguised"),
        pytest.param(
            '<a href="https://x.org/?a=1&amp;b=2" title="t">l</a>',
            '<a href="https://x.org/?a=1&amp;b=2">l</a>',
            id="href-kept-other-attributes-dropped",
        ),
        pytest.param(
            '<a href="mailto:a@b.org">m</a>', '<a href="mailto:a@b.org">m</a>', id="mailto"
        ),
        pytest.param(
            '<img src="https://x.org/y.png" alt="q" onerror="z">',
            '<img src="https://x.org/y.png" alt="q"/>',
            id="img-src-alt",
        ),
        pytest.param('<img src="data:image/png;base64,AA">', "", id="img-data-url-dropped"),
        pytest.param("<1995>", "<1995> ", id="text-that-looks-like-html"),
        pytest.param("<!-- c --><b>x", "<b>x</b>", id="comment-dropped-closed"),
        pytest.param("<![CDATA[x]]><b>y</b>", "<b>y</b>", id="cdata-dropped"),
        pytest.param("<?php echo 1 ?><i>y</i>", "<i>y</i>", id="processing-instruction"),
        pytest.param("<p>unclosed <i>it", "<p>unclosed <i>it</i></p>", id="closed"),
        pytest.param("<b><i>x</b>y</i>", "<span><b><i>x</i></b><i>y</i></span>", id="misnested"),
        pytest.param("x<br>y", "<span>x<br/>y</span>", id="void-self-closed"),
        pytest.param("<div><p>x</p></div>", "<p>x</p>", id="unknown-tag-unwrapped"),
        pytest.param("<iframe src=x>a</iframe>ok", "ok", id="iframe-dropped"),
        pytest.param("<b>a &lt; b</b>", "<b>a &lt; b</b>", id="text-escaped"),
    ],
)
def test_safe_html(given: str, expected: str) -> None:
    assert safe_html(given) == expected


def test_lang_map_cleans_and_drops_empty() -> None:
    got = lang_map(
        {"ko": ["<script>x</script>", "력사"], "en": "<b>History</b>", "ru": ["  "]},
        html_allowed=False,
    )
    assert got == {"ko": ["력사"], "en": ["History"]}


@pytest.mark.parametrize(
    ("given", "html_allowed"),
    [
        pytest.param({"en": ['<img src="logo.png">']}, True, id="relative-img-src"),
        pytest.param({"en": ["<script>credit()</script>"]}, True, id="script-only"),
        pytest.param({"en": ["<!-- Courtesy of X -->"]}, True, id="comment-only"),
        pytest.param({"ko": ["출처"], "en": ["<iframe>X</iframe>"]}, True, id="one-language"),
        pytest.param({"en": ["Kept", "<style>x</style>"]}, True, id="one-string"),
        pytest.param({"en": ['<img src="https://x.org/l.png">']}, False, id="img-in-a-label"),
    ],
)
def test_keep_all_refuses_text_that_sanitising_removes(
    given: dict[str, list[str]], html_allowed: bool
) -> None:
    lang_map(given, html_allowed=html_allowed)  # dropped silently without keep_all
    with pytest.raises(ValueError, match=f"^{re.escape(EMPTIED)} "):
        lang_map(given, html_allowed=html_allowed, keep_all=True)


def test_keep_all_keeps_what_survives_and_drops_blanks() -> None:
    given = {"en": ['<img src="https://x.org/l.png">', "  "], "ko": "<b>출처</b>", "ru": [""]}
    assert lang_map(given, html_allowed=True, keep_all=True) == {
        "en": ['<img src="https://x.org/l.png"/>'],
        "ko": ["<b>출처</b>"],
    }
    assert lang_map({"en": ""}, keep_all=True) == {}


def test_lang_map_string_means_none() -> None:
    assert lang_map("MS-1") == {"none": ["MS-1"]}


@pytest.mark.parametrize("key", ["es-419", "ko_KR", "", "k o"])
def test_lang_map_refuses_keys_the_schema_refuses(key: str) -> None:
    with pytest.raises(ValueError, match="not a language tag"):
        lang_map({key: ["x"]})


def test_first_text_prefers_english() -> None:
    assert first_text({"ko": ["가"], "en": ["A"]}) == "A"
    assert first_text({"ko": ["가"]}) == "가"
    assert first_text({}) == ""


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("Kim <Lee", id="unfinished-tag"),
        pytest.param("Letters <!-- draft", id="unfinished-comment"),
        pytest.param('Kim <p title="x>y', id="unfinished-quoted-value"),
    ],
)
def test_markup_left_unfinished_at_the_end_stays_text(given: str) -> None:
    # An HTML5 parser would drop it together with the rest of the value.
    assert clean_plain_text(given) == (given, False)
    assert safe_html(given) == given


def test_a_stray_end_tag_is_markup() -> None:
    assert clean_plain_text("Letters</b> 1950") == ("Letters 1950", True)
    assert safe_html("Letters</b> 1950") == "Letters 1950"


def test_raw_text_elements_end_at_their_end_tag() -> None:
    assert clean_plain_text("<script>x = '<a='</script>ok") == ("ok", True)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("<b>a&nbsp;b</b>", "<b>a\xa0b</b>", id="no-break-space-as-character"),
        pytest.param(
            '<img src="https://x.org/y.png" alt="a &quot;q&quot; > \'">',
            '<img src="https://x.org/y.png" alt="a &quot;q&quot; &gt; &#x27;"/>',
            id="attribute-escaped-quotes-too",
        ),
        pytest.param('<b lang="ko" title="t">x</b>', "<b>x</b>", id="no-generic-attributes"),
        pytest.param(
            '<a href=" https://x.org/ ">x</a>', '<a href="https://x.org/">x</a>', id="href-trimmed"
        ),
        pytest.param('<img src="mailto:a@b.org">', "", id="img-src-mailto-dropped"),
    ],
)
def test_safe_html_writes_xml(given: str, expected: str) -> None:
    assert safe_html(given) == expected
