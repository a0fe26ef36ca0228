"""Email type: trimmed, lower-cased, syntax as strict as email-validator (never DNS), written in its normalised form."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, matches, register

if TYPE_CHECKING:
    import pandera.polars as pa

    from ..schema import Field

# The fast path: polars expressions decide the common shapes exactly as email-validator would
# (same verdict, same message); everything else goes to email-validator once per distinct value.
# It covers printable-ASCII text without spaces, quotes, angle brackets or backslashes, in lower
# case (the type lower-cases first), up to the 254-character limit.
ATEXT = r"a-z0-9_!#$%&'*+\-/=?^`{|}~"
DOT_ATOM = rf"[{ATEXT}]+(?:\.[{ATEXT}]+)*"
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
SAFE = r"^[!#-&(-;=?@\[\]-~]{1,254}$"  # printable ASCII without space " ' < > \ and upper case
SPECIAL_USE = "(?:^|\\.)(?:" + "|".join(re.escape(d) for d in SPECIAL_USE_DOMAIN_NAMES) + ")$"
MESSAGES = {
    "no_at": "An email address must have an @-sign.",
    "empty_local": "There must be something before the @-sign.",
    "empty_domain": "There must be something after the @-sign.",
    "end_period": "An email address cannot end with a period.",
    "start_period": "An email address cannot have a period immediately after the @-sign.",
    "two_periods": "An email address cannot have two periods in a row.",
    "end_hyphen": "An email address cannot end with a hyphen.",
    "start_hyphen": "An email address cannot have a hyphen immediately after the @-sign.",
    "period_hyphen": "An email address cannot have a period and a hyphen next to each other.",
    "no_period": "The part after the @-sign is not valid. It should have a period.",
    "no_tld": "The part after the @-sign is not valid. It is not within a valid top-level domain.",
    "special": "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
    "bad_chars": "The part after the @-sign contains invalid characters: ",
    "space": "The email address contains invalid characters before the @-sign: SPACE.",
}


TLD = r"(?:[a-z]|[a-z0-9][a-z0-9-]{0,61}[a-z])"  # a last label ending with a letter
VALID = rf"^{DOT_ATOM}@(?:{LABEL}\.)+{TLD}$"


SPECIAL_USE_END = "[.@](?:" + "|".join(re.escape(d) for d in SPECIAL_USE_DOMAIN_NAMES) + ")$"


def fast_verdicts(values: pl.Series) -> pl.DataFrame:
    """Columns `decided` (the fast path knows the answer) and `error` (email-validator's message,
    null when valid) for each value; `error` is meaningless where `decided` is false."""
    v = values.cast(pl.String)
    # the common case, one pass: a valid ASCII dot-atom address whose TLD ends with a letter,
    # not too long, without '--' (Punycode or R-LDH labels), not (under) a special-use name
    c = pl.col("v")
    valid = pl.DataFrame({"v": v}).select(
        (c.str.contains(VALID) & (c.str.len_bytes() <= 254) & ~c.str.contains("--", literal=True)
         & ~c.str.contains(SPECIAL_USE_END)).fill_null(False))[:, 0]
    decided = valid | v.is_null()
    error = pl.Series("error", [None] * len(v), dtype=pl.String)
    idx = (~decided).arg_true()
    if len(idx):
        rest = _decide_rest(v.gather(idx))
        decided = decided.scatter(idx, rest["decided"])
        error = error.scatter(idx, rest["error"])
    return pl.DataFrame({"decided": decided, "error": error})


def _decide_rest(values: pl.Series) -> pl.DataFrame:
    """The fast path for the values that are not plainly valid: the common mistakes."""
    v = pl.col("v")
    m = MESSAGES
    frame = pl.DataFrame({"v": values}).with_columns(at=v.str.find("@", literal=True)).with_columns(
        local=v.str.slice(0, pl.col("at")), domain=v.str.slice(pl.col("at") + 1))
    domain = pl.col("domain")
    at = pl.col("at")
    # a domain of [a-z0-9.-] only: email-validator's checks in its order
    hostish = domain.str.contains(r"^[a-z0-9.-]{1,253}$")
    labels_ok = domain.str.contains(rf"^{LABEL}(?:\.{LABEL})*$")
    rldh = domain.str.contains(r"(?:^|\.)[a-z0-9-]{2}--")  # R-LDH / Punycode labels: left to the library
    host_error = (
        pl.when(domain.str.ends_with(".")).then(pl.lit(m["end_period"]))
        .when(domain.str.starts_with(".")).then(pl.lit(m["start_period"]))
        .when(domain.str.contains("..", literal=True)).then(pl.lit(m["two_periods"]))
        .when(domain.str.ends_with("-")).then(pl.lit(m["end_hyphen"]))
        .when(domain.str.starts_with("-")).then(pl.lit(m["start_hyphen"]))
        .when(domain.str.contains(".-", literal=True) | domain.str.contains("-.", literal=True))
        .then(pl.lit(m["period_hyphen"]))
        .when(~domain.str.contains(".", literal=True)).then(pl.lit(m["no_period"]))
        .when(~domain.str.contains(r"[a-z]$")).then(pl.lit(m["no_tld"]))
        .when(domain.str.contains(SPECIAL_USE)).then(pl.lit(m["special"]))
    )
    # which of the host checks can be decided without the library
    host_decided = hostish & ~rldh & (
        labels_ok | domain.str.ends_with(".") | domain.str.starts_with(".") | domain.str.contains("..", literal=True)
        | domain.str.ends_with("-") | domain.str.starts_with("-") | domain.str.contains(".-", literal=True)
        | domain.str.contains("-.", literal=True))
    bad = (pl.lit(m["bad_chars"]) + domain.str.extract_all(r"[^a-z0-9.-]").list.unique().list.sort()
           .list.eval(pl.lit("'") + pl.element() + pl.lit("'")).list.join(", ") + pl.lit("."))
    safe = v.str.contains(SAFE)
    local_ok = pl.col("local").str.contains(rf"^{DOT_ATOM}$")
    # one '@' after ASCII atom characters, dots and at least one space: email-validator checks
    # the local part first, and its only invalid character is the space
    spaced = pl.col("local").str.contains(rf"^[{ATEXT}. ]* [{ATEXT}. ]*$") & ~domain.str.contains("@", literal=True)
    frame = frame.select(
        decided=pl.when(v.is_null()).then(True)
        .when(spaced).then(True)
        .when(~safe).then(False)
        .when(at.is_null()).then(True)
        .when(at == 0).then(True)
        .when(~local_ok).then(False)
        .when(domain == "").then(True)
        .when(domain.str.starts_with("[")).then(False)  # a domain literal
        .when(hostish).then(host_decided)
        .otherwise(True),
        error=pl.when(v.is_null()).then(pl.lit(None, pl.String))
        .when(spaced).then(pl.lit(m["space"]))
        .when(at.is_null()).then(pl.lit(m["no_at"]))
        .when(at == 0).then(pl.lit(m["empty_local"]))
        .when(domain == "").then(pl.lit(m["empty_domain"]))
        .when(hostish).then(host_error)
        .otherwise(bad),
    )
    return frame.with_columns(pl.col("decided").fill_null(False))


@lru_cache(maxsize=1 << 16)
def reference(value: str, allow_smtputf8: bool = True) -> tuple[str | None, str | None]:
    """email-validator's (message or None when valid, normalised form or None when invalid)."""
    try:
        found = validate_email(value, check_deliverability=False, allow_smtputf8=allow_smtputf8)
    except EmailNotValidError as exc:
        return str(exc), None
    return None, found.normalized


def reference_verdict(value: str, allow_smtputf8: bool = True) -> str | None:
    """email-validator's verdict: None when valid, else its message."""
    return reference(value, allow_smtputf8)[0]


# what email-validator may write otherwise than as given (in lower case): characters beyond
# ASCII (IDNA/UTS-46 and NFC: full-width letters and dots, upper-case non-ASCII), Punycode
# labels (written in Unicode), quotes and backslashes in the local part
REWRITTEN = r"[^\x00-\x7f]|xn--|[\"\\]"


def normalised(values: pl.Series, error: pl.Series, allow_smtputf8: bool = True) -> pl.Series:
    """The values as written to the clean file: email-validator's normalised form where it can
    differ from the (lower-cased) value, once per distinct value; the value itself elsewhere."""
    idx = (values.str.contains(REWRITTEN) & error.is_null()).fill_null(False).arg_true()
    if not len(idx):
        return values
    sub = values.gather(idx)
    uniq = sub.unique()
    table = pl.DataFrame({"k": uniq, "n": pl.Series([reference(x, allow_smtputf8)[1] for x in uniq.to_list()],
                                                     dtype=pl.String)})
    fixed = pl.DataFrame({"k": sub}).join(table, on="k", how="left", maintain_order="left")["n"]
    return values.clone().scatter(idx, fixed.fill_null(sub))


def verdicts(values: pl.Series, allow_smtputf8: bool = True) -> pl.Series:
    """Error message per value (null when valid): the fast path decides the common shapes,
    email-validator the rest, once per distinct value."""
    fast = fast_verdicts(values)
    error = fast["error"].alias(values.name)
    idx = (~fast["decided"]).arg_true()
    if len(idx):
        messages = [reference_verdict(x, allow_smtputf8) for x in values.gather(idx).to_list()]
        error = error.scatter(idx, pl.Series(messages, dtype=pl.String))
    return error


@register
class Email(FieldType):
    """An email address; invalid syntax is an error."""

    name = "email"
    options = {"allow_smtputf8": True}

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s).str.to_lowercase()
        smtputf8 = bool(self.opt(f, "allow_smtputf8"))
        error = verdicts(v, smtputf8)
        mask = error.is_not_null()
        message = "not a valid email address: " + error  # null where valid: only flagged rows are read
        return Outcome(normalised(v, error, smtputf8).alias(s.name), [Flag("email.invalid", "error", mask, message)])

    def checks(self, f: Field) -> list[pa.Check]:
        return [matches(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "email.invalid")]
