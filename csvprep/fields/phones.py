"""Phone type: parsed with phonenumbers once per distinct value, written in E.164 by default."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberFormat

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, matches, register

if TYPE_CHECKING:
    import pandera.polars as pa

    from ..schema import Field

FORMATS = {"E164": PhoneNumberFormat.E164, "INTERNATIONAL": PhoneNumberFormat.INTERNATIONAL,
           "NATIONAL": PhoneNumberFormat.NATIONAL}
_EXT = re.compile(r"(?i)\s*(?:ext\.?|extension|x|#|;ext=)\s*\d+\s*$")
_TEL = re.compile(r"(?i)^tel:|;phone-context=[^;]*|;isub=[^;]*")  # RFC 3966 parts phonenumbers reads
E164_DIGITS = 15
TOO_LONG = f"more than the {E164_DIGITS} digits an international (E.164) number may have"
_ALLOWED = re.compile(r"^[\d\s()+\-./]*$")
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
COLUMNS = {"value": pl.String, "formatted": pl.String, "shape": pl.String, "number": pl.String,
           "detail": pl.String}


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def shape_problem(raw: str) -> str | None:
    """'malformed' for broken punctuation, 'vanity' for letters, else None."""
    body = _EXT.sub("", _TEL.sub("", raw.strip()))
    if re.search(r"[A-Za-z]", body):
        return "vanity"
    if not _balanced(body) or not _ALLOWED.match(body) or body.count("+") > 1 or ("+" in body and not body.lstrip("( ").startswith("+")):
        return "malformed"
    return None


@lru_cache(maxsize=1 << 16)
def analyse(raw: str, region: str, fmt: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(formatted, shape problem, number problem, detail) for one phone text, via phonenumbers."""
    shape = shape_problem(raw)
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        return None, shape, "invalid", _PARSE_ERRORS.get(exc.error_type, str(exc))
    if not phonenumbers.is_possible_number(number):
        return None, shape, "invalid", "wrong number of digits for " + (
            phonenumbers.region_code_for_country_code(number.country_code) or "its country")
    if len(str(number.country_code)) + len(phonenumbers.national_significant_number(number)) > E164_DIGITS:
        return None, shape, "invalid", TOO_LONG
    home = phonenumbers.country_code_for_region(region)
    # a number of another country has no national form here: it is written internationally
    shown = "INTERNATIONAL" if fmt == "NATIONAL" and number.country_code != home else fmt
    text = phonenumbers.format_number(number, FORMATS[shown])
    if number.extension and fmt == "E164":
        text += f" ext. {number.extension}"
    if not phonenumbers.is_valid_number(number):
        return text, shape, "unassigned", "possible, but no such number is assigned (unknown area code or range)"
    found = phonenumbers.region_code_for_number(number)
    if found and found != region and number.country_code == home and not raw.lstrip().startswith(("+", "00")):
        return text, shape, "other_region", f"a valid number of region {found}, not {region}"
    return text, shape, None, None


# -- the fast path ---------------------------------------------------------------------------
# For the default region US, numbers written in the usual North American shapes (10 digits,
# optionally +1 or 1 in front, with spaces, dots, dashes or one pair of parentheses, possibly
# unbalanced) are decided by polars regexes built from phonenumbers' own metadata at first use:
# the same validity rules (`general_desc` plus the number-type patterns of each NANP region),
# the same region resolution (`leading_digits`, else full validation, in phonenumbers' order).
# Also decided, each because phonenumbers' parse gives a fixed reading of the digits:
# - a trailing extension (x, ext, ext., # and 1-9 digits) after a decided NANP or 7-digit number;
# - area codes starting 0 or 1: the 10 digits are the national number as written (nothing
#   matches the national prefix or a leading 011 then 1-9), except after a bare '1' prefix, where
#   parse takes the 1 as country code and strips a second 1 as national prefix: 9 digits;
# - 7 plain digits (E164): possible (a local-only length); validity and region from the
#   metadata as for 10 digits (CA has some 7-digit numbers);
# - plain digit groups of 8, 9 or 11-17 digits not starting 1 or 011 1-9: never a possible US length;
# - 011 (the US international prefix) and plain digit groups (E164): as '+' numbers.
# Everything else (other regions, letters, other lengths, '+' with another country code, a
# leading 1 before other lengths) goes to phonenumbers once per distinct value.
FAST_REGIONS = {"US"}
# [0-9], not \d: polars' \d also takes other scripts' digits, which phonenumbers rewrites as ASCII
USUAL = r"^(?:\+1|1)?[ .-]?(?:\([2-9][0-9]{2}\)|[2-9][0-9]{2})[ .-]?[0-9]{3}[ .-]?[0-9]{4}$"
# what can stand between the digits of the national number in the USUAL shape
INNER_SEPARATORS = " .-)"
_JOIN = "\x00"  # joins the texts for without_inner_separators (a text holding it is noticed)
_JOINED_MAX = 1 << 30  # bytes; far beyond a batch's phone column
NANP_SHAPE = r"^(?:\+1|1)?[ .-]?(?:\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-]?[0-9]{4}$"
NANP_BROKEN = r"^(?:\+1|1)?[ .-]?(?:\([0-9]{3}|[0-9]{3}\))[ .-]?[0-9]{3}[ .-]?[0-9]{4}$"
PLAIN = r"^[0-9]+(?:[ .-][0-9]+)*$"
# a subset of what both phonenumbers' extension pattern and `_EXT` (shape_problem) strip the same way
EXT_SPLIT = r"(?i)^(.*?[0-9]) *(?:x|ext\.?|#) *([0-9]{1,9})$"
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")
_VERDICT = ("formatted", "shape", "number", "detail")
UNASSIGNED = "possible, but no such number is assigned (unknown area code or range)"


def _desc_pattern(desc, length: int) -> str | None:
    """The desc's pattern when a number of `length` digits can match it (as _is_number_matching_desc)."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return desc.national_number_pattern


def nanp_table() -> tuple[tuple[str, str | None, tuple[str, str] | None], ...]:
    """region_table for the 10-digit national numbers of calling code 1 (US, CA and the rest of NANP)."""
    return region_table(1, 10)


def _valid_in(n: pl.Expr, valid: tuple[str, str] | None) -> pl.Expr:
    if valid is None:
        return pl.lit(False)
    return n.str.contains(valid[0]) & n.str.contains(valid[1])


def _segments(table: Sequence[tuple]) -> list[list[tuple]]:
    """`table` cut into runs: a region without leading digits alone, regions with them together."""
    segments: list[list[tuple]] = []
    for row in table:
        if row[1] is not None and segments and segments[-1][0][1] is not None:
            segments[-1].append(row)
        else:
            segments.append([row])
    return segments


def resolve_regions(national: pl.Series, table: Sequence[tuple]) -> pl.DataFrame:
    """`found` (region_code_for_number, for the valid numbers) and `valid` for national numbers of
    one length, by `table` (region_table rows, in phonenumbers' order): the first region whose
    leading digits match claims a number, a region without leading digits claims the numbers
    valid there. One query tries every run of regions on every number (the first claim in order
    wins); the numbers claimed by leading digits, usually none, go to `_resolve_each` for their
    region, unless no region of the run has valid numbers of this length: then `found` stays
    null (the callers read it only for valid numbers)."""
    claim = pl.col("claim")
    # one query: the claims and what they mean (each Series operation would be a polars call)
    res = pl.DataFrame({"n": national.cast(pl.String)}).lazy().select(claim=_run_claims(tuple(table))).select(
        found=pl.when(claim != "-").then(claim),
        valid=(claim.is_not_null() & (claim != "") & (claim != "-")).fill_null(False),
        by_leads=(claim == "").fill_null(False),
    ).collect()
    found, valid = res["found"], res["valid"]
    if res["by_leads"].any():
        by_leads = res["by_leads"].arg_true()
        each = _resolve_each(national.gather(by_leads), table)
        found, valid = found.scatter(by_leads, each["found"]), valid.scatter(by_leads, each["valid"])
    return pl.DataFrame({"found": found, "valid": valid})


@lru_cache(maxsize=1024)
def _run_claims(table: tuple) -> pl.Expr:
    """For resolve_regions, over column n: the region of the first run that claims a number ("": a
    run of regions with leading digits, "-": the same where none of them has valid numbers)."""
    n = pl.col("n")
    claims = None
    for seg in _segments(table):
        if seg[0][1] is None:
            region, _, ok = seg[0]
            if ok is None:  # nothing of this length is valid there
                continue
            claim, who = _valid_in(n, ok), pl.lit(region)
        else:
            claim = n.str.contains("^(?:" + "|".join(lead[1:] for _, lead, _ in seg) + ")")
            who = pl.lit("" if any(ok is not None for _, _, ok in seg) else "-")
        claims = (pl if claims is None else claims).when(claim).then(who)
    return pl.lit(None, pl.String) if claims is None else claims


def _resolve_each(national: pl.Series, table: Sequence[tuple]) -> pl.DataFrame:
    """resolve_regions by runs of regions, each on the numbers not yet claimed. Runs of regions
    with leading digits are tried as one pattern with a named group each (the first alternative
    that matches wins, as in the library's loop); each region's validity patterns run only on
    its numbers."""
    n_rows = national.len()
    found = pl.repeat(None, n_rows, dtype=pl.String, eager=True).alias("found")
    valid = pl.repeat(False, n_rows, dtype=pl.Boolean, eager=True).alias("valid")
    by_leads: set[str] = set()  # regions that claimed numbers by their leading digits
    for seg in _segments(table):
        open_idx = found.is_null().arg_true()
        if not len(open_idx):
            break
        sub = national.gather(open_idx)
        if seg[0][1] is None:  # no leading digits: it claims the numbers valid there
            region, _, ok = seg[0]
            if ok is None:  # nothing of this length is valid there
                continue
            claim = pl.select(_valid_in(pl.lit(sub), ok).fill_null(False)).to_series()
            mine = open_idx.filter(claim)
            found = found.scatter(mine, region)
            valid = valid.scatter(mine, True)
        else:
            # most numbers have none of these leading digits: one plain pass finds the few that
            # do, and only those are mapped to a region (a when/then per region costs a lot)
            some = sub.str.contains("^(?:" + "|".join(lead[1:] for _, lead, _ in seg) + ")").fill_null(False)
            if not some.any():
                continue
            open_idx, sub = open_idx.filter(some), sub.filter(some)
            pattern = "^(?:" + "|".join(f"(?P<g{i}>{lead[1:]})" for i, (_, lead, _) in enumerate(seg)) + ")"
            groups = pl.DataFrame({"g": sub.str.extract_groups(pattern)}).unnest("g")
            hit = groups.select(pl.coalesce([pl.when(pl.col(f"g{i}").is_not_null()).then(pl.lit(region))
                                             for i, (region, _, _) in enumerate(seg)])).to_series()
            found = found.scatter(open_idx, hit)
            by_leads.update(x for x in hit.unique().to_list() if x is not None)
    patterns = {region: ok for region, _, ok in table}
    for region in by_leads:  # validity where the leading digits decided the region
        idx = (found == region).fill_null(False).arg_true()
        if patterns[region] is not None:
            valid = valid.scatter(idx, pl.select(
                _valid_in(pl.lit(national.gather(idx)), patterns[region]).fill_null(False)).to_series())
    return pl.DataFrame({"found": found, "valid": valid})


# International numbers written with '+' and plain groups of digits ("+44 20 7946 0958"), for E164
# output: the country code is found as phonenumbers finds it (shortest known prefix); numbers whose
# national part could lose a national prefix or has a leading zero, non-geographic codes and +1
# stay with the library. Possibility (a function of code and length) is asked of phonenumbers once
# per code and length; validity and region use the metadata regexes as for NANP numbers.
INTL_SHAPE = r"^\+[1-9][0-9]*(?:[ .-][0-9]+)*$"


@lru_cache(maxsize=4096)
def region_table(cc: int, length: int) -> tuple[tuple[str, str | None, tuple[str, str] | None], ...]:
    """(region, leading_digits regex, regexes of valid national numbers of `length` digits) for the
    regions of calling code `cc`, in phonenumbers' order."""
    table = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
        md = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
        if md is None:
            continue
        general = _desc_pattern(md.general_desc, length)
        names = [t for t in _TYPES if not (t == "mobile" and md.same_mobile_and_fixed_line_pattern)]
        types = [p for p in (_desc_pattern(getattr(md, t, None), length) for t in names) if p]
        valid = None
        if general and types:
            valid = f"^(?:{general})$", "^(?:" + "|".join(f"(?:{p})" for p in types) + ")$"
        lead = f"^(?:{md.leading_digits})" if md.leading_digits is not None else None
        table.append((region, lead, valid))
    return tuple(table)


@lru_cache(maxsize=4096)
def _possible(cc: int, length: int) -> tuple[bool, str]:
    """Whether a national number of `length` digits (no leading zero) is possible for code `cc`,
    and the region named in the message when it is not."""
    number = phonenumbers.PhoneNumber(country_code=cc, national_number=int("9" * length))
    return (phonenumbers.is_possible_number(number),
            phonenumbers.region_code_for_country_code(cc) or "its country")


@lru_cache(maxsize=1024)
def _national_prefix(cc: int) -> str | None:
    """The national-prefix-for-parsing regex of the code's main region (None: nothing to strip)."""
    md = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        cc, phonenumbers.region_code_for_country_code(cc))
    return None if md is None else md.national_prefix_for_parsing


@lru_cache(maxsize=1)
def _known_codes() -> tuple[pl.Series, ...]:
    """The calling codes of 1, 2 and 3 digits, as text (to find a number's code by its prefix)."""
    codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    return tuple(pl.Series([str(c) for c in codes if len(str(c)) == k]).implode() for k in (1, 2, 3))


@lru_cache(maxsize=4096)
def _claims(table: tuple) -> pl.Expr:
    """is_valid_number for national numbers (column nsn) of one length, as one expression: the
    first region of `table` that claims a number decides, as in resolve_regions (a when/then per
    region: for the few regions of a code other than 1)."""
    n, expr = pl.col("nsn"), None
    for _, lead, ok in table:
        if lead is None:  # it claims the numbers valid there
            if ok is None:
                continue
            claim, valid = _valid_in(n, ok), pl.lit(True)
        else:  # it claims the numbers with its leading digits, valid there or not
            claim, valid = n.str.contains(lead), _valid_in(n, ok)
        expr = pl.when(claim).then(valid) if expr is None else expr.when(claim).then(valid)
    return pl.lit(False) if expr is None else expr.otherwise(False)


def _intl_verdicts(raw: pl.Series) -> pl.DataFrame:
    """`decided`, formatted (E164), shape, number, detail for '+' numbers (see INTL_SHAPE)."""
    d, cc, nsn, size = pl.col("d"), pl.col("cc"), pl.col("nsn"), pl.col("len")
    known = _known_codes()
    frame = pl.DataFrame({"d": digits(raw)}).lazy().with_columns(
        cc=pl.when(d.str.slice(0, 1).is_in(known[0])).then(d.str.slice(0, 1))
        .when(d.str.slice(0, 2).is_in(known[1])).then(d.str.slice(0, 2))
        .when(d.str.slice(0, 3).is_in(known[2])).then(d.str.slice(0, 3)),
    ).select(cc=cc.cast(pl.Int64, strict=False), nsn=d.str.slice(cc.str.len_chars().fill_null(0))).with_columns(
        len=nsn.str.len_chars()).collect()
    candidate = (cc.is_not_null() & (cc != 1) & size.is_between(2, 17) & ~nsn.str.starts_with("0")
                 & (cc.cast(pl.String).str.len_chars() + size <= E164_DIGITS))  # longer: the library decides
    # one query for all codes and lengths (a when/then each), not a few polars calls per group
    ok, wrong = None, None  # validity of possible numbers; the detail for impossible lengths
    for code, length in frame.filter(candidate).select("cc", "len").unique().iter_rows():
        table = region_table(code, length)
        if not table or table[0][0] == "001":  # unknown or non-geographic: the library decides
            continue
        mine = candidate & (cc == code) & (size == length)
        prefix = _national_prefix(code)
        if prefix:
            mine = mine & ~nsn.str.contains(f"^(?:{prefix})")
        possible, where = _possible(code, length)
        if possible:
            ok = (pl if ok is None else ok).when(mine).then(_claims(table))
        else:
            wrong = (pl if wrong is None else wrong).when(mine).then(pl.lit("wrong number of digits for " + where))
    ok = pl.lit(None, pl.Boolean) if ok is None else ok
    wrong = pl.lit(None, pl.String) if wrong is None else wrong
    return frame.lazy().with_columns(ok=ok, wrong=wrong).select(
        decided=pl.col("ok").is_not_null() | pl.col("wrong").is_not_null(),
        formatted=pl.when(pl.col("ok").is_not_null()).then(pl.lit("+") + cc.cast(pl.String) + nsn),
        shape=pl.lit(None, pl.String),
        number=pl.when(pl.col("wrong").is_not_null()).then(pl.lit("invalid"))
        .when(~pl.col("ok")).then(pl.lit("unassigned")),
        detail=pl.when(pl.col("wrong").is_not_null()).then(pl.col("wrong"))
        .when(~pl.col("ok")).then(pl.lit(UNASSIGNED)),
    ).collect()


def _wrong_length(region: str) -> str:
    """analyse's detail for a number that is not a possible length in the region's own code."""
    code = phonenumbers.country_code_for_region(region)
    return "wrong number of digits for " + (phonenumbers.region_code_for_country_code(code) or "its country")


def _extn_prefix(region: str) -> str:
    """What format_number puts before an extension (NATIONAL, INTERNATIONAL) for the region's code."""
    md = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    return md.preferred_extn_prefix or " ext. "


def _classify(raw: pl.Series, fmt: str) -> pl.DataFrame:
    """raw, ext, `well`, `broken`, `kind` (nanp, seven, invalid, or null: not decided here),
    national number `n` and `intl` text per value (the USUAL shape is nanp); see the comment
    above FAST_REGIONS."""
    # staged, so that each intermediate column is computed once (one select recomputed the digits'
    # length and lead per use); eager: a lazy query here evicts the region patterns of
    # resolve_regions and _intl_verdicts from polars' small regex cache (recompiled every batch)
    parts, split, shapes, facts, last = _classify_stages(fmt)
    frame = pl.DataFrame({"raw": raw}).with_columns(**parts).with_columns(**split)
    frame = frame.hstack([digits(frame["body"]).alias("d")])  # "" for a null: of no kind either way
    return frame.with_columns(**shapes).with_columns(**facts).select("raw", "ext", "well", "broken", **last)


@lru_cache(maxsize=8)
def _classify_stages(fmt: str) -> tuple[dict[str, pl.Expr], ...]:
    """The expressions of _classify, stage by stage (built once: building them costs as much as
    running them on a batch's few values)."""
    parts, ext, body, d = pl.col("parts"), pl.col("ext"), pl.col("body"), pl.col("d")
    nd, lead, idd, nanp, plain = pl.col("nd"), pl.col("lead"), pl.col("idd"), pl.col("nanp"), pl.col("plain")
    kind = (
        # the 10 digits are the national number: after +1; without a prefix unless 011 (the US
        # international prefix) leads, followed by a country code (not 0); after a bare 1 when 0 follows
        pl.when(nanp & (lead.is_in(list("23456789")) | body.str.starts_with("+") | ((nd == 10) & ~idd)
                        | ((nd == 11) & (lead == "0")))).then(pl.lit("nanp"))
        # 1 then 1xx: the first 1 is the country code, the second a national prefix: 9 digits
        .when(nanp & (nd == 11) & (lead == "1")).then(pl.lit("invalid"))
        .when(pl.lit(fmt == "E164") & plain & (nd == 7) & ~idd).then(pl.lit("seven"))
        .when(plain & ext.is_null() & ~d.str.starts_with("1") & ~idd
              & (nd.is_in([8, 9]) | nd.is_between(11, 17))).then(pl.lit("invalid")))
    return (
        {"parts": pl.col("raw").str.extract_groups(EXT_SPLIT)},
        {"ext": parts.struct.field("2"),
         "body": pl.when(parts.struct.field("2").is_not_null()).then(parts.struct.field("1")).otherwise(pl.col("raw"))},
        {"well": body.str.contains(NANP_SHAPE).fill_null(False),
         "broken": body.str.contains(NANP_BROKEN).fill_null(False), "plain": body.str.contains(PLAIN).fill_null(False)},
        {"nd": d.str.len_chars(), "lead": d.str.slice(-10, 1), "idd": d.str.contains("^011[1-9]"),
         "nanp": pl.col("well") | pl.col("broken")},
        # the national number: the last 10 digits of a NANP shape, all 7 of a plain one; the text for
        # _intl_verdicts: a '+' number, or plain digits after 011 (as phonenumbers reads them), as '+'
        {"kind": kind, "n": pl.when(nanp).then(d.str.slice(-10)).otherwise(d),
         "intl": pl.when(pl.col("raw").str.contains(INTL_SHAPE)).then(pl.col("raw"))
         .when(plain & ext.is_null() & idd).then(pl.lit("+") + d.str.slice(3))},
    )


def _nanp_rows(frame: pl.DataFrame, table: Sequence[tuple], region: str, fmt: str) -> pl.DataFrame:
    """formatted, shape, number, detail (after `i`, where frame has it) for NANP national numbers `n`
    of one length (see _classify)."""
    regions = resolve_regions(frame["n"], table)
    n = pl.col("n")
    # phonenumbers formats only 10 digits with a usual area code; 0xx and 1xx come out as digits
    text = {"E164": pl.lit("+1") + n, "NATIONAL": n, "INTERNATIONAL": pl.lit("+1 ") + n}[fmt]
    if fmt != "E164":
        text = pl.when(n.str.contains("^[2-9]")).then(_texts(n, fmt)).otherwise(text)
    if frame["ext"].null_count() < len(frame):
        # E164 output carries no extension and analyse appends one; the others get the metadata's
        text = pl.when(pl.col("ext").is_null()).then(text).otherwise(
            text + pl.lit(" ext. " if fmt == "E164" else _extn_prefix(region)) + pl.col("ext"))
    plus = pl.col("raw").str.starts_with("+") | pl.col("raw").str.starts_with("00")
    other = pl.col("valid") & (pl.col("found") != region) & ~plus
    return frame.hstack([regions["found"], regions["valid"]]).select(
        *(["i"] if "i" in frame.columns else []),
        formatted=text,
        shape=pl.when(pl.col("broken") & ~pl.col("well")).then(pl.lit("malformed")),
        number=pl.when(~pl.col("valid")).then(pl.lit("unassigned")).when(other).then(pl.lit("other_region")),
        detail=pl.when(~pl.col("valid")).then(pl.lit(UNASSIGNED))
        .when(other).then(pl.format("a valid number of region {}, not " + region, pl.col("found"))),
    )


def _texts(n: pl.Expr, fmt: str) -> pl.Expr:
    """format_number of the 10-digit national numbers `n` with a usual area code ([2-9]), no extension."""
    a, b, c = n.str.slice(0, 3), n.str.slice(3, 3), n.str.slice(6, 4)
    return {"E164": pl.lit("+1") + n, "NATIONAL": pl.format("({}) {}-{}", a, b, c),
            "INTERNATIONAL": pl.format("+1 {}-{}-{}", a, b, c)}[fmt]


def hot_verdicts(values: pl.Series, region: str, fmt: str) -> pl.DataFrame:
    """`hot` and `formatted` per value: hot values are in the USUAL shape with a national number
    valid in `region`, the first NANP region (it has no leading digits, so it claims every number
    valid there): formatted, no shape or number problem. Most values are hot; the rest is for
    fast_verdicts. `values` may be unstripped: USUAL admits no space at the end and a space at
    the start changes nothing."""
    first, lead, valid = nanp_table()[0]
    if region != first or lead is not None or valid is None or fmt not in FORMATS:
        return pl.DataFrame({"hot": pl.repeat(False, len(values), dtype=pl.Boolean, eager=True),
                             "formatted": pl.repeat(None, len(values), dtype=pl.String, eager=True)})
    v, n = pl.col("v"), pl.col("n")
    hot = v.str.contains(USUAL)
    for pattern in usual_validity(valid):
        hot = hot & n.str.contains(pattern)
    v_ = values.cast(pl.String)
    # staged, eagerly: one select would compute n once per use; a lazy query measured slower here
    return pl.DataFrame({"v": v_, "d": without_inner_separators(v_)}).with_columns(
        n=pl.col("d").str.slice(-10),
    ).with_columns(hot=hot.fill_null(False)).select("hot", formatted=pl.when("hot").then(_texts(n, fmt)))


def without_inner_separators(values: pl.Series) -> pl.Series:
    """The texts without INNER_SEPARATORS, nulls as "": in the USUAL shape, '(' and '+' come only
    before the area code, so the last 10 characters are the national number (fewer matches to cut
    than all non-digits)."""
    return _delete_bytes(values, INNER_SEPARATORS.encode(), lambda s: s.str.replace_many(
        list(INNER_SEPARATORS), [""] * len(INNER_SEPARATORS)))


_NOT_DIGITS = bytes(b for b in range(1, 256) if not 0x30 <= b <= 0x39)  # NUL (_JOIN) is kept


def digits(values: pl.Series) -> pl.Series:
    """The ASCII digits of each text (as replace_all("[^0-9]", "")), nulls as "". Every byte of a
    character beyond ASCII is at least 0x80, so deleting bytes deletes whole characters."""
    return _delete_bytes(values, _NOT_DIGITS, lambda s: s.str.replace_all("[^0-9]", ""))


def _delete_bytes(values: pl.Series, delete: bytes, fallback: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """The texts (nulls as "") without the ASCII bytes `delete`: all texts are joined into one, cut by
    bytes.translate and split again (a third cheaper than replace_many, which pays per match, and
    no regex: polars' regex cache is small); `fallback` where some text holds the joining character
    or the texts are too big for one polars string (its length is 32 bits)."""
    assert _JOIN.encode() not in delete
    texts = values.fill_null("")
    if texts.estimated_size() > _JOINED_MAX:
        return fallback(texts)
    joined = texts.str.join(_JOIN).item().encode()
    parts = pl.Series(values.name, [joined.translate(None, delete).decode()]).str.split(_JOIN).explode()
    if parts.len() != texts.len():  # some text holds the joining character itself
        return fallback(texts)
    return parts


def usual_validity(valid: tuple[str, str]) -> tuple[str, ...]:
    """The patterns of `valid` that a national number from the USUAL shape ([2-9] and 9 digits)
    must be checked against: the general one is always met when it is a plain alternation with
    [2-9]\\d{9} among its alternatives, as in the metadata of US (saves a pass over every value)."""
    general, types = valid
    body = general.removeprefix("^(?:").removesuffix(")$")
    if re.fullmatch(r"(?:[0-9|{},]|\\d|\[2-9\])*", body) and r"[2-9]\d{9}" in body.split("|"):
        return (types,)
    return valid


def fast_verdicts(values: pl.Series, region: str, fmt: str) -> pl.DataFrame:
    """`decided` plus the columns of `verdicts` (formatted, shape, number, detail) per value."""
    v = values.cast(pl.String)
    hot = hot_verdicts(v, region, fmt)
    rest_idx = (~hot["hot"]).arg_true()
    if len(rest_idx) == len(v):
        return general_verdicts(v, region, fmt)
    rest = general_verdicts(v.gather(rest_idx), region, fmt)
    out = {"decided": hot["hot"].scatter(rest_idx, rest["decided"]),
           "formatted": hot["formatted"].scatter(rest_idx, rest["formatted"])}
    for col in ("shape", "number", "detail"):
        out[col] = pl.repeat(None, len(v), dtype=pl.String, eager=True).alias(col).scatter(rest_idx, rest[col])
    return pl.DataFrame(out)


def general_verdicts(values: pl.Series, region: str, fmt: str) -> pl.DataFrame:
    """fast_verdicts without the hot path (see hot_verdicts)."""
    v = values.cast(pl.String)
    n = len(v)
    # all five columns in one polars call: each call costs about as much as judging a few hundred values
    out = pl.select(decided=pl.repeat(False, n, dtype=pl.Boolean),
                    **{c: pl.repeat(None, n, dtype=pl.String) for c in _VERDICT}).to_dict()
    if region not in FAST_REGIONS or fmt not in FORMATS:
        return pl.DataFrame(out)
    # the values in the USUAL shape, most of them, were taken by hot_verdicts: all shapes are
    # sorted out together here (fewer polars calls, on few rows); a null is of no kind
    groups = _classify(v, fmt).with_row_index("i").partition_by("kind", as_dict=True)
    done = [_nanp_rows(groups[("nanp",)], nanp_table(), region, fmt) if ("nanp",) in groups else None,
            _nanp_rows(groups[("seven",)], region_table(1, 7), region, fmt) if ("seven",) in groups else None,
            groups[("invalid",)].select(
                "i", formatted=pl.lit(None, pl.String),
                shape=pl.when(pl.col("broken") & ~pl.col("well")).then(pl.lit("malformed")),
                number=pl.lit("invalid"), detail=pl.lit(_wrong_length(region))) if ("invalid",) in groups else None]
    done = [d for d in done if d is not None]
    if done:
        res = pl.concat(done)
        out["decided"] = out["decided"].scatter(res["i"], True)
        for col in _VERDICT:
            out[col] = out[col].scatter(res["i"], res[col])
    rest = groups.get((None,))
    if fmt == "E164" and rest is not None:  # the rest, as '+' numbers where _classify found them
        intl = rest.filter(pl.col("intl").is_not_null())
        if intl.height:
            res = _intl_verdicts(intl["intl"])
            for col in ("decided", *_VERDICT):
                out[col] = out[col].scatter(intl["i"], res[col])
    return pl.DataFrame(out)


def verdicts(values: pl.Series, region: str, fmt: str) -> pl.DataFrame:
    """One row per input value: formatted text and problems. The fast path decides the usual
    shapes; phonenumbers the rest, once per distinct value (cached)."""
    v = values.cast(pl.String)
    return _complete(v, fast_verdicts(v, region, fmt), region, fmt)


def _complete(v: pl.Series, fast: pl.DataFrame, region: str, fmt: str) -> pl.DataFrame:
    """`fast` (fast_verdicts of v) with value, and phonenumbers' verdicts where it did not decide."""
    cols = {"value": v.alias("value"), **{c: fast[c] for c in COLUMNS if c != "value"}}
    todo = (~fast["decided"] & v.is_not_null()).arg_true()
    if len(todo):
        results = [analyse(x, region, fmt) for x in v.gather(todo).to_list()]
        for c, vals in zip([c for c in COLUMNS if c != "value"], zip(*results)):
            cols[c] = cols[c].scatter(todo, pl.Series(vals, dtype=pl.String))
    return pl.DataFrame(cols)


def _messages(full: pl.Series, mask: pl.Expr, at: pl.Series, t: pl.DataFrame, text: pl.Expr) -> pl.Series | str:
    """A flag's message `text` (over the columns of t, the rows `at`) for all rows, where the
    flag's mask is `full` (all rows) or `mask` (over t); the validator reads it only there."""
    if not full.any():
        return ""
    mine = t.with_columns(_at=at).filter(mask.fill_null(False))
    return pl.repeat(None, full.len(), dtype=pl.String, eager=True).scatter(mine["_at"], mine.select(text).to_series())


@register
class Phone(FieldType):
    """A phone number for a default region, written in E164, INTERNATIONAL or NATIONAL format."""

    name = "phone"
    options = {"region": "US", "format": "E164"}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        if str(self.opt(f, "format")).upper() not in FORMATS:
            raise ValueError(f"phone format must be one of {', '.join(FORMATS)}")
        if str(self.opt(f, "region")).upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {self.opt(f, 'region')!r} (use a code such as US, GB, DE)")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        region = (ctx.region or str(self.opt(f, "region"))).upper()
        fmt = (ctx.phone_format or str(self.opt(f, "format"))).upper()
        # hot values (most) are decided with no problem; only the rest are stripped and judged,
        # and of those only the non-blank ones (blanks stay null, as hot `formatted` is there)
        hot = hot_verdicts(s, region, fmt)
        at, n = (~hot["hot"]).arg_true(), s.len()
        v = blank_to_null(s.gather(at))
        at, v = at.filter(v.is_not_null()), v.drop_nulls()
        t = _complete(v, general_verdicts(v, region, fmt), region, fmt)
        ok, shape, number = pl.col("formatted").is_not_null(), pl.col("shape"), pl.col("number")
        masks = {"phone.invalid": number == "invalid", "phone.malformed": (shape == "malformed") & ok,
                 "phone.vanity": (shape == "vanity") & ok, "phone.unassigned": number == "unassigned",
                 "phone.other_region": number == "other_region"}
        # one bit per flag: spread to all rows with one scatter
        sub = t.select(value=pl.coalesce("formatted", "value"), bits=pl.sum_horizontal(
            [m.fill_null(False).cast(pl.UInt8) * (1 << i) for i, m in enumerate(masks.values())]))
        value = hot["formatted"].scatter(at, sub["value"]).alias(s.name)
        bits = pl.DataFrame({"b": pl.repeat(0, n, dtype=pl.UInt8, eager=True).scatter(at, sub["bits"])})
        full = bits.select(**{code: (pl.col("b") & (1 << i)) != 0 for i, code in enumerate(masks)})
        invalid_msg = pl.when(shape == "malformed").then(pl.lit("malformed and not a possible phone number: ")) \
            .otherwise(pl.lit("not a possible phone number: ")) + pl.col("detail").fill_null("")
        return Outcome(value, [
            Flag("phone.invalid", "error", full["phone.invalid"],
                 _messages(full["phone.invalid"], masks["phone.invalid"], at, t, invalid_msg)),
            Flag("phone.malformed", "warning", full["phone.malformed"],
                 "broken punctuation (e.g. an unbalanced parenthesis); the digits make a possible number, so it was rewritten",
                 value),
            Flag("phone.vanity", "warning", full["phone.vanity"], "letters were turned into digits", value),
            Flag("phone.unassigned", "warning", full["phone.unassigned"],
                 "a possible number, but not one in use (unassigned area code or range)", value),
            Flag("phone.other_region", "warning", full["phone.other_region"],
                 _messages(full["phone.other_region"], masks["phone.other_region"], at, t,
                           pl.lit("belongs to another region: ") + pl.col("detail").fill_null("")), value),
        ])

    def checks(self, f: Field) -> list[pa.Check]:
        if str(self.opt(f, "format")).upper() == "E164":
            return [matches(r"^\+[1-9]\d{1,14}( ext\. \d+)?$", "phone.invalid")]
        return []
