"""Validation of PAGE XML and ALTO files against their official XSDs, offline.

The schemas ship with the package (``schemas/``, sources in its ``SOURCES.md``). Each is parsed
once per process with ``no_network``; the ALTO schemas' XLink import is pointed at the local
``xlink.xsd``. Real exports are tolerated where they are known to break their own schema:
Transkribus writes ``Metadata/TranskribusMetadata``, which the PAGE schemas forbid.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, cast

from lxml import etree

log = logging.getLogger(__name__)

SCHEMAS = Path(__file__).resolve().parent / "schemas"
XSD = "http://www.w3.org/2001/XMLSchema"
XLINK = "http://www.w3.org/1999/xlink"
XSI_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
PAGE_2013 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15"
PAGE_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_NS = {
    "http://www.loc.gov/standards/alto/ns-v2#": 2,
    "http://www.loc.gov/standards/alto/ns-v3#": 3,
    "http://www.loc.gov/standards/alto/ns-v4#": 4,
}
PAGE_XSD = {PAGE_2013: "pagecontent-2013-07-15.xsd", PAGE_2019: "pagecontent-2019-07-15.xsd"}
# The minor versions we ship per major, oldest first; a file naming none gets the newest.
ALTO_MINORS = {2: (0, 1), 3: (0, 1), 4: (2, 4)}
MAX_PROBLEMS = 5
_VERSION = re.compile(r"(\d)[.-](\d+)")


class _LogEntry(Protocol):
    """What we read of an lxml error-log entry (lxml's stubs leave the log untyped)."""

    line: int
    message: str


@functools.cache
def load(name: str) -> etree.XMLSchema:
    """The schema file ``name`` from ``schemas/``, parsed once per process.

    Args:
        name: The file name, e.g. ``alto-4-4.xsd``.

    Returns:
        The compiled schema; imports resolve to local files only.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    doc = etree.parse(str(SCHEMAS / name), parser)
    for imp in doc.getroot().iter(f"{{{XSD}}}import"):
        if imp.get("namespace") == XLINK:
            imp.set("schemaLocation", (SCHEMAS / "xlink.xsd").as_uri())
    return etree.XMLSchema(doc)


def alto_schema_name(root: etree._Element) -> str:
    """The ALTO XSD for a document: its namespace's major version, the minor it declares.

    The minor version comes from ``@SCHEMAVERSION`` (ALTO 3+) or the ``xsi:schemaLocation``
    URL (``alto-3-0.xsd``, ``alto-v2.0.xsd``); a version we do not ship, or none, gets the
    newest schema of that major version (minor versions only add to the schema).

    Args:
        root: The document's ``alto`` element.

    Returns:
        A file name in ``schemas/``, e.g. ``alto-4-4.xsd``.
    """
    major = ALTO_NS[etree.QName(root).namespace or ""]
    minors = ALTO_MINORS[major]
    declared = root.get("SCHEMAVERSION") or (root.get(XSI_LOCATION) or "").rsplit("/", 1)[-1]
    found = _VERSION.search(declared)
    minor = minors[-1]
    if found and int(found.group(1)) == major and int(found.group(2)) in minors:
        minor = int(found.group(2))
    return f"alto-{major}-{minor}.xsd"


def _schema_for(root: etree._Element) -> str | None:
    namespace = etree.QName(root).namespace or ""
    local = etree.QName(root).localname
    if local == "PcGts" and namespace in PAGE_XSD:
        return PAGE_XSD[namespace]
    if local == "alto" and namespace in ALTO_NS:
        return alto_schema_name(root)
    return None


def _tolerated(root: etree._Element) -> etree._Element:
    """A copy of a PAGE document without ``TranskribusMetadata``, or ``root`` itself."""
    namespace = etree.QName(root).namespace or ""
    if namespace not in PAGE_XSD:
        return root
    path = f"{{{namespace}}}Metadata/{{{namespace}}}TranskribusMetadata"
    if root.find(path) is None:
        return root
    log.debug("PAGE: validating without TranskribusMetadata (Transkribus writes it)")
    tidy = copy.deepcopy(root)
    for element in tidy.findall(path):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    return tidy


def validate(root: etree._Element) -> list[str]:
    """Check a PAGE (2013, 2019) or ALTO (2.x-4.x) document against its schema.

    Args:
        root: The document's root element.

    Returns:
        The first few problems, one line each (``line N: message``); empty when the document is
        valid. A root that is neither PAGE nor ALTO of a known version is one problem.
    """
    name = _schema_for(root)
    if name is None:
        return [f"not PAGE 2013/2019 or ALTO 2-4: root element {root.tag}"]
    schema = load(name)
    if schema.validate(_tolerated(root)):
        return []
    errors = list(cast("Iterable[_LogEntry]", schema.error_log))
    problems = [f"line {error.line}: {error.message} ({name})" for error in errors[:MAX_PROBLEMS]]
    hidden = len(errors) - len(problems)
    if hidden > 0:
        problems.append(f"... and {hidden} more schema problems")
    return problems
