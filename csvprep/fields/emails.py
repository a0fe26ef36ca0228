"""Email type: trimmed, lower-cased, syntax as strict as email-validator (never DNS), written in its normalised form."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

import email_validator
import polars as pl
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.syntax import validate_email_domain_name

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


def fast_verdicts(values: pl.Series, allow_smtputf8: bool = True) -> pl.DataFrame:
    """Columns `decided` (the fast path knows the answer) and `error` (email-validator's message,
    null when valid) for each value; `error` is meaningless where `decided` is false. The ASCII
    shapes first, then the international path (intl_verdicts) for the values left."""
    v = values.cast(pl.String)
    # the common case, one pass: a valid ASCII dot-atom address whose TLD ends with a letter,
    # not too long, without '--' (Punycode or R-LDH labels), not (under) a special-use name
    c = pl.col("v")
    valid = pl.DataFrame({"v": v}).select(
        (c.str.contains(VALID) & (c.str.len_bytes() <= 254) & ~c.str.contains("--", literal=True)
         & ~c.str.contains(SPECIAL_USE_END)).fill_null(False))[:, 0]
    decided = valid | v.is_null()
    error = pl.Series("error", [None] * len(v), dtype=pl.String)
    # non-ASCII values skip the ASCII shapes (which leave all but a few of them undecided)
    idx = (~decided).arg_true()
    idx = idx.filter(v.gather(idx).str.contains("^[\\x00-\\x7F]*$").fill_null(True))
    if len(idx):
        rest = _decide_rest(v.gather(idx))
        decided = decided.scatter(idx, rest["decided"])
        error = error.scatter(idx, rest["error"])
    idx = (~decided).arg_true()
    if len(idx):
        rest = intl_verdicts(v.gather(idx), allow_smtputf8)
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


# The international path: a local part of ASCII atom characters and letters of common scripts,
# decided as email-validator decides it, and the domain after the first '@' decided once per
# distinct domain by email-validator's own domain check (domains repeat; local parts do not).
# The letters: blocks of Latin, Greek, Cyrillic, Hebrew, Arabic, kana, CJK and Hangul, keeping
# the code points that are letters (category L), printable, in NFC alone and of combining class 0
# (so a run of them, or one next to ASCII, is NFC as it stands and composes with nothing).
INTL_BLOCKS = ((0x00C0, 0x024F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x05D0, 0x05EA), (0x0620, 0x064A),
               (0x3041, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3))
SMTPUTF8_MESSAGE = "Internationalized characters before the @-sign are not supported: "


def intl_letter(c: str) -> bool:
    """Whether the international path takes the non-ASCII character `c` in a local part."""
    return (unicodedata.category(c)[0] == "L" and c.isprintable() and unicodedata.combining(c) == 0
            and unicodedata.normalize("NFC", c) == c)


@lru_cache(maxsize=1)
def intl_class() -> str:
    """The letters of INTL_BLOCKS that `intl_letter` takes, as regex character class ranges."""
    ranges: list[tuple[int, int]] = []
    for lo, hi in INTL_BLOCKS:
        for cp in range(lo, hi + 1):
            if intl_letter(chr(cp)):
                if ranges and ranges[-1][1] == cp - 1:
                    ranges[-1] = (ranges[-1][0], cp)
                else:
                    ranges.append((cp, cp))
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


@lru_cache(maxsize=1 << 16)
def domain_verdict(domain: str) -> tuple[str | None, int, str | None]:
    """(email-validator's message for the part after the '@', None when valid; the longest of its
    UTF-8 lengths as written, normalised and in IDNA ASCII, for the address length check; its
    normalised form, None when invalid)."""
    try:
        info = validate_email_domain_name(domain, test_environment=email_validator.TEST_ENVIRONMENT,
                                          globally_deliverable=email_validator.GLOBALLY_DELIVERABLE)
    except EmailNotValidError as exc:
        return str(exc), 0, None
    return None, max(len(d.encode("utf-8")) for d in (domain, info["domain"], info["ascii_domain"])), info["domain"]


def intl_normalised(values: pl.Series) -> pl.Series:
    """email-validator's normalised form of valid addresses that intl_verdicts decides (the local
    part as it is: NFC already; the domain's normalised form), null for the others."""
    letters = intl_class()
    atom = f"[{ATEXT}{letters}]+"
    v = pl.col("v")
    parts = pl.when(v.str.contains(f"^{atom}(?:\\.{atom})*@")).then(v).str.splitn("@", 2)
    frame = pl.DataFrame({"v": values.cast(pl.String)}).select(
        local=parts.struct.field("field_0"), domain=parts.struct.field("field_1"))
    names = frame["domain"].drop_nulls().unique()
    known = pl.DataFrame({"domain": names, "d": [domain_verdict(d)[2] for d in names.to_list()]},
                         schema={"domain": pl.String, "d": pl.String})
    frame = frame.join(known, on="domain", how="left", maintain_order="left")
    return frame.select(pl.col("local") + "@" + pl.col("d"))["local"]


def _domain_table(domains: pl.Series) -> pl.DataFrame:
    """Per distinct domain (after the '@'): `plain` (a valid ASCII host the patterns decide),
    `literal` ([...]), `d_error` (email-validator's message for the others, but the empty one)
    and `d_len` (the length the address length check counts, plain or checked)."""
    d = pl.col("domain")
    plain = d.str.contains(f"^(?:{LABEL}\\.)+{TLD}$") & ~d.str.contains("--", literal=True) & ~(
        "@" + d).str.contains(SPECIAL_USE_END)
    table = domains.drop_nulls().unique().alias("domain").to_frame().with_columns(
        plain=plain.fill_null(False), literal=d.str.starts_with("[") & d.str.ends_with("]"))
    odd = table.filter(~pl.col("plain") & (d != "") & ~pl.col("literal"))["domain"]
    checked = [domain_verdict(x)[:2] for x in odd.to_list()]
    known = pl.DataFrame({"domain": odd, "d_error": [c[0] for c in checked], "d_len": [c[1] for c in checked]},
                         schema={"domain": pl.String, "d_error": pl.String, "d_len": pl.Int64})
    return table.join(known, on="domain", how="left").with_columns(
        d_len=pl.when("plain").then(d.str.len_bytes().cast(pl.Int64)).otherwise(pl.col("d_len")))


def _letters_table(stems: pl.Series) -> pl.DataFrame:
    """Per distinct stem (a local part without its trailing ASCII): `intl` (it has letters beyond
    ASCII) and `bad`, the SMTPUTF8 refusal, which lists the distinct letters (made once per set)."""
    table = stems.drop_nulls().unique().alias("stem").to_frame().with_columns(
        letters=pl.col("stem").str.replace_all("[\\x00-\\x7F]+", ""))
    sets = table["letters"].filter(table["letters"] != "").unique()
    bad = pl.DataFrame({"letters": sets, "bad": [
        SMTPUTF8_MESSAGE + ", ".join(f"'{c}'" for c in sorted(set(x))) + "." for x in sets.to_list()]},
        schema={"letters": pl.String, "bad": pl.String})
    return table.join(bad, on="letters", how="left").select("stem", intl=pl.col("letters") != "", bad="bad")


def intl_verdicts(values: pl.Series, allow_smtputf8: bool) -> pl.DataFrame:
    """`decided` and `error` (as fast_verdicts) for addresses whose local part is a dot-atom of
    ASCII atom characters and `intl_class` letters (lower case ASCII): the SMTPUTF8 refusal, the
    empty domain and the domain's own verdict as email-validator gives them, in its order.
    What depends on the domain is worked out once per distinct domain, and the refusal once per
    distinct local part without its trailing ASCII (same letters beyond ASCII: 'åsa.jones12'
    and 'åsa.lee7' share 'åsa'), in small tables joined back (most rows of an international
    file end here: per-row regexes and replacements cost several times these joins)."""
    letters = intl_class()
    atom = f"[{ATEXT}{letters}]+"
    v = pl.col("v")
    frame = pl.DataFrame({"v": values.cast(pl.String)}).with_columns(
        ok=v.str.contains(f"^{atom}(?:\\.{atom})*@").fill_null(False))
    parts = pl.when("ok").then(v).str.splitn("@", 2)  # str.find counts bytes, str.slice characters
    frame = frame.with_columns(local=parts.struct.field("field_0"), domain=parts.struct.field("field_1"))
    frame = frame.join(_domain_table(frame["domain"]), on="domain", how="left", maintain_order="left")
    refused, bad = pl.lit(False), pl.lit(None, pl.String)
    if not allow_smtputf8:
        stems = frame.select(pl.col("local").str.replace("[\\x00-\\x7F]+$", ""))["local"].alias("stem")
        frame = frame.with_columns(stem=stems).join(_letters_table(stems), on="stem", how="left", maintain_order="left")
        refused, bad = pl.col("intl"), pl.col("bad")
    domain = pl.col("domain")
    size = pl.col("local").str.len_bytes().cast(pl.Int64) + 1 + pl.col("d_len")
    return frame.select(
        decided=pl.when(~pl.col("ok")).then(False)
        .when(refused).then(True)
        .when(domain == "").then(True)
        .when(pl.col("literal")).then(False)  # a domain literal
        .when(pl.col("d_error").is_not_null()).then(True)
        .otherwise(size <= 254)  # longer ones: email-validator's length messages
        .fill_null(False),
        error=pl.when(refused).then(bad)
        .when(domain == "").then(pl.lit(MESSAGES["empty_domain"]))
        .otherwise(pl.col("d_error")),
    )


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
    fast = intl_normalised(sub)  # the international path's values, vectorised; the rest once each
    rest = fast.is_null().arg_true()
    uniq = sub.gather(rest).unique()
    table = pl.DataFrame({"k": uniq, "n": pl.Series([reference(x, allow_smtputf8)[1] for x in uniq.to_list()],
                                                     dtype=pl.String)})
    fixed = pl.DataFrame({"k": sub}).join(table, on="k", how="left", maintain_order="left")["n"]
    return values.clone().scatter(idx, fast.fill_null(fixed).fill_null(sub))


def verdicts(values: pl.Series, allow_smtputf8: bool = True) -> pl.Series:
    """Error message per value (null when valid): the fast path decides the common shapes,
    email-validator the rest, once per distinct value."""
    fast = fast_verdicts(values, allow_smtputf8)
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
