"""Cross-field rules named in schema files; each returns the issues it finds."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from .fields import per_distinct
from .fields.dates import tz, zone_names
from .fields.urls import host
from .issues import LINE, issues_at

if TYPE_CHECKING:
    from .schema import Rule

RuleFn = Callable[[pl.DataFrame, "Rule"], "pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]"]  # issues[, rewritten rows]
RULES: dict[str, RuleFn] = {}
# per rule: its options, each "field" (names a field of the schema, required), "field?" (the
# same, optional) or "text?" (any text, optional); checked when a schema loads
RULE_OPTIONS: dict[str, dict[str, str]] = {}
RULE_KEYS = {"type", "fields", "severity", "code", "message"}


def rule(name: str, options: dict[str, str] | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under `name`, with the options it takes."""
    def deco(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        RULE_OPTIONS[name] = dict(options or {})
        return fn
    return deco


def check_rule_options(name: str, options: dict[str, object], field_names: list[str]) -> None:
    """Raise ValueError when a rule's options are unknown, missing or name no field."""
    spec = RULE_OPTIONS.get(name, {})
    unknown = sorted(set(options) - set(spec))
    if unknown:
        known = ", ".join(sorted(spec)) or "none"
        raise ValueError(f"unknown option(s) {', '.join(unknown)} (known: {known})")
    for key, kind in spec.items():
        value = options.get(key)
        if value is None:
            if not kind.endswith("?"):
                raise ValueError(f"needs the option `{key}`")
            continue
        if kind.startswith("field") and value not in field_names:
            raise ValueError(f"option `{key}` names unknown field {value!r}")
        if kind.startswith("text") and not isinstance(value, str):
            raise ValueError(f"option `{key}` must be text")


def issues_where(frame: pl.DataFrame, mask: pl.Expr, r: Rule, column: str, code: str,
                 message: pl.Expr | str) -> pl.DataFrame:
    """Issue rows for the lines of `frame` where `mask` holds."""
    return issues_at(LINE, column, pl.col(column).cast(pl.String), r.code or code, r.severity,
                     r.message or message, frame=frame.filter(mask.fill_null(False)))


def email_domain(emails: pl.Series) -> pl.Series:
    """The lower-cased text after the last '@' of each address (null when there is none or it
    is empty); a split at the first '@', the regex only for values with several. (Not
    `str.find` + `str.slice`: find counts bytes and slice characters, so a local part with
    letters beyond ASCII would shift the cut.)"""
    dom = emails.str.splitn("@", 2).struct.field("field_1")
    several = dom.str.contains("@", literal=True).fill_null(False).arg_true()
    if len(several):
        dom = dom.scatter(several, emails.gather(several).str.extract(r"@([^@]+)$", 1))
    return pl.select(pl.when(dom.str.len_bytes() > 0).then(dom.str.to_lowercase())).to_series()


@rule("same_domain")
def same_domain(frame: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """The email's domain and the website's host belong to the same domain."""
    email, url = r.fields
    # hosts repeat (one company, one website): worked out once per distinct value. Most rows
    # are plainly alike: the address ends with '@' or '.' and a host without '@', so its domain
    # is the host or under it; only the other rows have their domain cut out
    def suffixes(u: pl.Series) -> pl.Series:
        h = pl.col("h")
        plain = ~h.str.contains("@", literal=True)
        return host(u).alias("h").to_frame().select(
            at=pl.when(plain).then(pl.lit("@") + h), dot=pl.when(plain).then(pl.lit(".") + h), h=h).to_struct("s")

    hosts = per_distinct(frame[url], suffixes)
    sites = hosts.struct.unnest()
    e = frame[email]
    alike = pl.select((e.str.ends_with(sites["at"]) | e.str.ends_with(sites["dot"])).fill_null(False)).to_series()
    rest = (~alike & e.is_not_null() & sites["h"].is_not_null()).arg_true()
    # only the line and the website are kept for the issues (most rows of a file whose email
    # domains differ from the websites land here: gathering every column cost as much as the rest)
    frame = frame.select(LINE, url)[rest].with_columns(_dom=email_domain(e.gather(rest)), _site=sites["h"].gather(rest))
    dom, site = pl.col("_dom"), pl.col("_site")
    same = (site == dom) | site.str.ends_with(pl.lit(".") + dom) | dom.str.ends_with(pl.lit(".") + site)
    message = pl.format("the website's domain ({}) differs from the email's domain ({})", site, dom)
    return issues_where(frame, dom.is_not_null() & site.is_not_null() & ~same, r, url, "domain.mismatch", message)


@rule("not_null")
def not_null(frame: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """Each field, when its column is present, has a value on every row (e.g. NOT NULL with a default)."""
    parts = [issues_where(frame, pl.col(f).is_null(), r, f, "field.required", "a value is required here")
             for f in r.fields]
    return pl.concat(parts)


DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
NAIVE_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
AWARE_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


def _utc(col: str) -> pl.Expr:
    """An RFC 3339 text column as a UTC datetime (null for anything else)."""
    z = pl.col(col).str.replace(r"Z$", "+00:00")
    return pl.coalesce([z.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True)
                        for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z")])


@rule("after")
def after(frame: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """The second field is strictly after the first: dates with dates, date-times (with offsets) with date-times."""
    first, second = r.fields
    dates = pl.col(first).str.contains(DATE_RE) & pl.col(second).str.contains(DATE_RE)
    moments = pl.col(first).str.contains(AWARE_RE) & pl.col(second).str.contains(AWARE_RE)
    mask = (dates & (pl.col(second) <= pl.col(first))) | (moments & (_utc(second) <= _utc(first)))
    message = pl.format(f"{second} ({{}}) is not after {first} ({{}})", pl.col(second), pl.col(first))
    return issues_where(frame, mask, r, second, "range.empty", message)


@rule("same_kind", {"flag": "field?", "true": "text?", "false": "text?"})
def same_kind(frame: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """The fields are all dates or all date-times; option `flag` names a boolean field that says which."""
    is_date = [pl.col(f).str.contains(DATE_RE) for f in r.fields]
    present = pl.all_horizontal([pl.col(f).is_not_null() for f in r.fields])
    mixed = present & pl.any_horizontal(is_date) & ~pl.all_horizontal(is_date)
    parts = [issues_where(frame, mixed, r, r.fields[-1], "kind.mixed",
                          f"{' and '.join(r.fields)} must be all dates or all date-times")]
    flag = r.options.get("flag")
    if flag and flag in frame.columns:
        yes = pl.col(flag) == str(r.options.get("true", "true"))
        no = pl.col(flag) == str(r.options.get("false", "false"))
        wrong = (yes & ~pl.any_horizontal(is_date)) | (no & pl.any_horizontal(is_date))
        parts.append(issues_where(frame, present & ~mixed & wrong, r, flag, "kind.flag_mismatch",
                                  f"{flag} says the opposite of {' and '.join(r.fields)} (dates mean all day)"))
    return pl.concat(parts)


def with_offset(text: str, zone: str) -> str | None:
    """A local YYYY-MM-DDTHH:MM:SS in the tzdata zone with its offset (None: invalid, or skipped
    or repeated by a change of offset there)."""
    import datetime as dt

    try:
        d = dt.datetime.fromisoformat(text)
        early, late = d.replace(tzinfo=tz(zone), fold=0), d.replace(tzinfo=tz(zone), fold=1)
        if early.utcoffset() != late.utcoffset():
            return None
        return early.isoformat(timespec="seconds")
    except (ValueError, OverflowError, KeyError):
        return None


@rule("local_time", {"zone": "field"})
def local_time(frame: pl.DataFrame, r: Rule) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Date-times without an offset get the offset of the IANA zone in field `zone`; without a valid zone, an error."""
    zone = r.options.get("zone")
    zones = frame[zone] if zone in frame.columns else pl.Series([None] * frame.height, dtype=pl.String)
    known = zones.is_in(list(zone_names().values())).fill_null(False)
    parts, out = [], frame
    for f in r.fields:
        naive = frame[f].str.contains(NAIVE_RE).fill_null(False)
        if not naive.any():
            continue
        pairs = pl.DataFrame({"t": frame[f], "z": zones}).with_columns(
            t=pl.when(naive & known).then(pl.col("t")), z=pl.when(naive & known).then(pl.col("z")))
        uniq = pairs.unique().drop_nulls()
        table = uniq.with_columns(r=pl.Series([with_offset(t, z) for t, z in uniq.iter_rows()], dtype=pl.String))
        resolved = pairs.join(table, on=["t", "z"], how="left", maintain_order="left")["r"]
        out = out.with_columns(pl.when(resolved.is_not_null()).then(resolved).otherwise(pl.col(f)).alias(f))
        flagged = frame.with_columns(_no_zone=naive & ~known, _gap=naive & known & resolved.is_null())
        parts.append(issues_where(flagged, pl.col("_no_zone"), r, f, "datetime.needs_zone",
                                  f"a date-time without an offset needs a valid IANA time zone in {zone}"))
        parts.append(issues_where(flagged, pl.col("_gap"), r, f, "datetime.local_gap",
                                  "this local time is skipped or repeated by a daylight-saving change in that "
                                  "zone: give an offset"))
    issues = pl.concat(parts) if parts else issues_where(frame, pl.lit(False), r, r.fields[0], "", "")
    return issues, out


@rule("requires", {"field": "field"})
def requires(frame: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """Where the fields have a value, the field named in option `field` must have one too."""
    other = r.options.get("field")
    filled = pl.col(other).is_not_null() if other in frame.columns else pl.lit(False)
    parts = [issues_where(frame, pl.col(f).is_not_null() & ~filled, r, f, "field.requires",
                          f"{f} needs a value in {other}") for f in r.fields]
    return pl.concat(parts)
