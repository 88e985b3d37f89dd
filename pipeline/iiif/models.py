"""Build IIIF resources from iiif-prezi3 classes, validated once per shape instead of per item.

iiif-prezi3 validates every object it creates and serialises through a Python-level
``__getattribute__``; measured with iiif-prezi3 3.1.1, a canvas with its image, thumbnail and
OCR links costs about 1.3 ms to build and 0.3 ms to serialise, so 10,000 canvases take ~17 s.
A volume's canvases all have the same few shapes, though, and differ only in identifiers,
labels and sizes that are validated where they come from (``Layout`` URLs, descriptor
language maps, integers from the tile records).

So every resource is written once, as a builder over a ``make(cls, **fields)`` factory and a
small dataclass of its parts (see ``pipeline.iiif.canvases`` and ``pipeline.iiif.ranges``).
:class:`Assembler` runs each builder with :func:`plain`, which assembles the JSON of ``cls``
without instantiating it, and, the first time parts of a new shape appear, runs the same
builder again with :func:`validated` (the real iiif-prezi3 classes) and checks that both give
the same JSON.
The iiif-prezi3 models stay the definition of what is valid; they are just not asked to
re-check identical structure 10,000 times.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Hashable, Iterator
from dataclasses import is_dataclass
from functools import cache
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.errors import ManifestError

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"

T = TypeVar("T")


class Make(Protocol):
    """A factory with the signature of an iiif-prezi3 class constructor."""

    def __call__(self, cls: type[BaseModel], /, **fields: Any) -> Any:
        """Create (or describe) an instance of ``cls`` with ``fields``; ``None`` means unset."""
        ...


class ShapeMismatchError(RuntimeError):
    """The plain and the validated build of a resource differ: a bug in this module."""


def to_data(model: BaseModel, *, context: bool = False) -> dict[str, Any]:
    """Serialise an iiif-prezi3 object the way its ``jsonld()`` does, as a dict.

    Args:
        model: Any iiif-prezi3 object.
        context: Add the Presentation 3 ``@context`` (top-level documents only).

    Returns:
        The JSON-ready dict, ``None`` values left out.

    """
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {"@context": PRESENTATION_CONTEXT, **data} if context else data


def validated(cls: type[BaseModel], /, **fields: Any) -> Any:
    """Create the iiif-prezi3 object, validating every field.

    Args:
        cls: The iiif-prezi3 class.
        **fields: Its fields; ``None`` means unset.

    Returns:
        The object.

    Raises:
        pydantic.ValidationError: iiif-prezi3 refuses a value.

    """
    return cls(**{k: v for k, v in fields.items() if v is not None})


@cache
def _default_type(cls: type[BaseModel]) -> str | None:
    field = cls.model_fields.get("type")
    default = None if field is None else field.default
    return default if isinstance(default, str) else None


def plain(cls: type[BaseModel], /, **fields: Any) -> dict[str, Any]:
    """Assemble the JSON iiif-prezi3 would serialise for ``cls(**fields)``, unchecked.

    Args:
        cls: The iiif-prezi3 class (gives the default ``type``).
        **fields: Its fields, already JSON-ready; ``None`` means unset.

    Returns:
        The resource's JSON.

    """
    out = {k: v for k, v in fields.items() if v is not None}
    if "type" not in out:
        default = _default_type(cls)
        if default is not None:
            out["type"] = default
    return out


_SCALARS: dict[type, str | None] = {
    type(None): None,
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
}


def shape(value: Any) -> Hashable:
    """Return what a resource's structure depends on: which parts are set, and their types.

    ``value`` is the input of a builder (a dataclass of URLs, sizes and language maps): a
    builder's output has the same structure for inputs of the same shape. Lists count by the
    distinct shapes of their items, so 2 and 200 canvases in a range are the same shape.
    Computed from the input rather than the output because it is about 20 times cheaper.

    Args:
        value: A builder's input: a dataclass, dict, list, tuple or scalar.

    Returns:
        A hashable description of its structure.

    Raises:
        TypeError: A value of another type, whose structure is unknown.

    """
    kind = type(value)
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind is dict:
        return tuple((k, shape(v)) for k, v in value.items())
    if kind is list or kind is tuple:
        return ("[]", *dict.fromkeys(map(shape, value)))
    if is_dataclass(value):
        return (kind.__name__, *map(shape, vars(value).values()))
    raise TypeError(f"no shape for {kind.__name__}")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (restored afterwards).

    Building 10,000 canvases allocates some 400,000 dicts and lists; each allocation burst
    triggers a collection that walks everything built so far, which measured a third of the
    build time. The JSON being built holds no reference cycles, so there is nothing for the
    collector to find until the block ends.

    Yields:
        Nothing: the block runs with the collector off.

    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def manifest_errors() -> Iterator[None]:
    """Turn iiif-prezi3 refusing a value inside the block into a one-line ManifestError.

    Yields:
        Nothing: the block runs as is.

    Raises:
        ManifestError: iiif-prezi3 refused a value; the message names the first refused
            field and the reason.

    """
    try:
        yield
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ManifestError(f"iiif-prezi3 refused a value: {where}: {err['msg']}") from None


class Assembler:
    """Builds resources as plain JSON, validating each new shape with iiif-prezi3 once."""

    def __init__(self) -> None:
        self._seen: set[Hashable] = set()
        self.validated = 0

    def build(self, builder: Callable[[Make, T], Any], parts: T, what: str) -> dict[str, Any]:
        """Run ``builder(plain, parts)``; for a new shape of ``parts``, cross-check it.

        Args:
            builder: Builds one resource from a :class:`Make` factory and its parts.
            parts: The builder's input (see :func:`shape`).
            what: Names the resource in the error message.

        Returns:
            The resource's JSON.

        Raises:
            pydantic.ValidationError: iiif-prezi3 refuses the resource.
            ShapeMismatchError: The plain build differs from iiif-prezi3's serialisation.

        """
        data: dict[str, Any] = builder(plain, parts)
        key = shape(parts)
        if key not in self._seen:
            expected = to_data(builder(validated, parts))
            if expected != data:
                raise ShapeMismatchError(
                    f"{what}: the plain JSON differs from iiif-prezi3's serialisation "
                    f"(plain {data!r}, iiif-prezi3 {expected!r})"
                )
            self._seen.add(key)
            self.validated += 1
        return data
