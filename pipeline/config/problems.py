"""Validation errors as one line per problem, with "did you mean" for unknown keys."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside a field's type (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _known_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the table holding the key at ``loc`` accepts (for "did you mean").

    Args:
        model: The model of the whole document (``Config``, ``Descriptor``).
        loc: The key path of an error, as pydantic gives it (list indexes included).

    Returns:
        The accepted keys, or ``[]`` when the path leaves the models.

    """
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if current is not None else None
        current = _model_in(field.annotation) if field is not None else None
        if current is None:
            return []
    return list(current.model_fields) if current is not None else []


def _validation_problems(
    exc: ValidationError, model: type[BaseModel] | None = None
) -> list[tuple[list[str], str]]:
    """Every problem pydantic found: its key path and the reason, in the order it reports them.

    An unknown key gets the closest key the table accepts, when one is close
    (``lable`` -> ``label``, ``tiles.qualty`` -> ``quality``).

    Args:
        exc: The validation error.
        model: The model that was validated, for the suggestions.

    Returns:
        ``(key path, reason)`` pairs, without repeats.

    """
    problems: list[tuple[list[str], str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            close = difflib.get_close_matches(
                loc[-1], _known_keys(model, err["loc"]) if model else [], n=1
            )
            if close:
                msg += f" (did you mean {close[0]!r}?)"
        if (loc, msg) not in problems:
            problems.append((loc, msg))
    return problems


def describe_validation_error(
    source: str,
    exc: ValidationError,
    model: type[BaseModel] | None = None,
    *,
    blame: Callable[[list[str]], str] | None = None,
) -> str:
    """Format every problem as a line ``source: key.path: reason``.

    Args:
        source: The file (or other origin) of the values.
        exc: The validation error.
        model: The model that was validated, for "did you mean" suggestions.
        blame: Gives the origin of the value at a key path when it is not ``source`` alone
            (an environment variable, a command-line option).

    Returns:
        One line per problem, joined by newlines.

    """
    lines = []
    for loc, msg in _validation_problems(exc, model):
        where = ".".join(loc) or "(top level)"
        lines.append(f"{blame(loc) if blame else source}: {where}: {msg}")
    return "\n".join(lines)
