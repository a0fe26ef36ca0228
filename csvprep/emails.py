"""Email type: trimmed, lower-cased, syntax as strict as email-validator (never DNS)."""
from __future__ import annotations

import re
from functools import lru_cache

import pandera.polars as pa
import polars as pl
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from .schema import Field
from .types import Context, Flag, FieldType, Outcome, blank_to_null, matches, register

# The fast path: polars expressions decide the common shapes exactly as email-validator would
# (same verdict, same message); everything else goes to email-validator once per distinct value.
# It covers printable-ASCII text without spaces, quotes, angle brackets or backslashes, in lower
# case (the type lower-cases first), up to the 254-character limit.
ATEXT = r"a-z0-9_!#$%&'*+\-/=?^`{|}~"
DOT_ATOM = rf"[{ATEXT}]+(?:\.[{ATEXT}]+)*"
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
SAFE = r"^[!#-&(-;=?-\[\]-~]{1,254}$"  # printable ASCII without space " ' < > \ and upper case
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
}


def fast_verdicts(values: pl.Series) -> pl.DataFrame:
    """Columns `decided` (the fast path knows the answer) and `error` (email-validator's message,
    null when valid) for each value; `error` is meaningless where `decided` is false."""
    v = pl.col("v")
    at = v.str.find("@", literal=True)
    local = v.str.slice(0, at)
    domain = v.str.slice(at + 1)
    m = MESSAGES
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
    local_ok = local.str.contains(rf"^{DOT_ATOM}$")
    frame = pl.DataFrame({"v": values}).select(
        decided=pl.when(v.is_null()).then(True)
        .when(~safe).then(False)
        .when(at.is_null()).then(True)
        .when(at == 0).then(True)
        .when(~local_ok).then(False)
        .when(domain == "").then(True)
        .when(domain.str.starts_with("[")).then(False)  # a domain literal
        .when(hostish).then(host_decided)
        .otherwise(True),
        error=pl.when(v.is_null()).then(pl.lit(None, pl.String))
        .when(at.is_null()).then(pl.lit(m["no_at"]))
        .when(at == 0).then(pl.lit(m["empty_local"]))
        .when(domain == "").then(pl.lit(m["empty_domain"]))
        .when(hostish).then(host_error)
        .otherwise(bad),
    )
    return frame.with_columns(pl.col("decided").fill_null(False))


@lru_cache(maxsize=1 << 16)
def reference_verdict(value: str, allow_smtputf8: bool = True) -> str | None:
    """email-validator's verdict: None when valid, else its message."""
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=allow_smtputf8)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def verdicts(values: pl.Series, allow_smtputf8: bool = True) -> pl.Series:
    """Error message per value (null when valid): the fast path decides the common shapes,
    email-validator the rest, once per distinct value."""
    fast = fast_verdicts(values)
    rest = values.filter(~fast["decided"])
    if rest.len() == 0:
        return fast["error"].alias(values.name)
    distinct = rest.unique()
    messages = [reference_verdict(v, allow_smtputf8) for v in distinct.to_list()]
    table = pl.DataFrame({"v": distinct, "ref": pl.Series(messages, dtype=pl.String)})
    joined = pl.DataFrame({"v": values, "decided": fast["decided"], "error": fast["error"]}).join(
        table, on="v", how="left", maintain_order="left")
    return joined.select(pl.when("decided").then("error").otherwise("ref"))["error"].alias(values.name)


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
