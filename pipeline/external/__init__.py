"""Wrappers around external programs: one module per program."""

from __future__ import annotations
