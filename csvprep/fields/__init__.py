"""Field types: each owns its normalising expression, its checks and its issue codes.

A type is one class decorated with `@register` in the module of its family; importing this
package imports every family, so `TYPES` holds them all.
"""
from __future__ import annotations

from . import checkbox, dates, emails, lists, numeric, phones, text, urls  # noqa: F401  (register their types)
from .base import (DISTINCT_MIN_ROWS, DISTINCT_SHARE, TYPES, FieldType, Flag, Outcome, blank_to_null, changed,
                   distinct_index, invalid, matches, normalise_distinct, per_distinct, register)

__all__ = ["DISTINCT_MIN_ROWS", "DISTINCT_SHARE", "TYPES", "FieldType", "Flag", "Outcome", "blank_to_null",
           "changed", "distinct_index", "invalid", "matches", "normalise_distinct", "per_distinct", "register"]
