"""Email type: trimmed, lower-cased, syntax as strict as email-validator (never DNS)."""
from __future__ import annotations

from functools import lru_cache

import pandera.polars as pa
import polars as pl
from email_validator import EmailNotValidError, validate_email

from .schema import Field
from .types import Context, Flag, FieldType, Outcome, blank_to_null, matches, register

# Simple dot-atom addresses that email-validator accepts: the fast path decides these.
SIMPLE = r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
RESERVED_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test", "internal", "alt", "home", "lan", "intranet", "corp", "private", "example"}


@lru_cache(maxsize=1 << 16)
def reference_verdict(value: str, allow_smtputf8: bool = True) -> str | None:
    """email-validator's verdict: None when valid, else its message."""
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=allow_smtputf8)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def verdicts(values: pl.Series, allow_smtputf8: bool = True) -> pl.Series:
    """Error message per value (null when valid); email-validator decides once per distinct value."""
    frame = pl.DataFrame({"v": values})
    distinct = frame.unique().filter(pl.col("v").is_not_null())["v"]
    messages = [reference_verdict(v, allow_smtputf8) for v in distinct.to_list()]
    table = pl.DataFrame({"v": distinct, "error": pl.Series(messages, dtype=pl.String)})
    return frame.join(table, on="v", how="left", maintain_order="left")["error"]


@register
class Email(FieldType):
    """An email address; invalid syntax is an error."""

    name = "email"
    options = {"allow_smtputf8": True}

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s).str.to_lowercase()
        error = verdicts(v, bool(self.opt(f, "allow_smtputf8")))
        mask = error.is_not_null()
        message = ("not a valid email address: " + error).fill_null("")
        return Outcome(v.alias(s.name), [Flag("email.invalid", "error", mask, message)])

    def checks(self, f: Field) -> list[pa.Check]:
        return [matches(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "email.invalid")]
