"""Phone type: parsed with phonenumbers once per distinct value, written in E.164 by default."""
from __future__ import annotations

import re
from functools import lru_cache

import pandera.polars as pa
import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberFormat

from .schema import Field
from .types import Context, Flag, FieldType, Outcome, blank_to_null, matches, register

FORMATS = {"E164": PhoneNumberFormat.E164, "INTERNATIONAL": PhoneNumberFormat.INTERNATIONAL,
           "NATIONAL": PhoneNumberFormat.NATIONAL}
_EXT = re.compile(r"(?i)\s*(?:ext\.?|extension|x|#)\s*\d+\s*$")
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
    body = _EXT.sub("", raw)
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
    text = phonenumbers.format_number(number, FORMATS[fmt])
    if number.extension and fmt == "E164":
        text += f" ext. {number.extension}"
    if not phonenumbers.is_valid_number(number):
        return text, shape, "unassigned", "possible, but no such number is assigned (unknown area code or range)"
    found = phonenumbers.region_code_for_number(number)
    home = phonenumbers.country_code_for_region(region)
    if found and found != region and number.country_code == home and not raw.lstrip().startswith(("+", "00")):
        return text, shape, "other_region", f"a valid number of region {found}, not {region}"
    return text, shape, None, None


# -- the fast path ---------------------------------------------------------------------------
# For the default region US, numbers written in the usual North American shapes (10 digits,
# optionally +1 or 1 in front, with spaces, dots, dashes or one pair of parentheses, possibly
# unbalanced) are decided by polars regexes built from phonenumbers' own metadata at first use:
# the same validity rules (`general_desc` plus the number-type patterns of each NANP region),
# the same region resolution (`leading_digits`, else full validation, in phonenumbers' order).
# Everything else (other regions, letters, extensions, other lengths, '+' with another country
# code) goes to phonenumbers once per distinct value.
FAST_REGIONS = {"US"}
NANP_SHAPE = r"^(?:\+1|1)?[ .-]?(?:\([2-9]\d{2}\)|[2-9]\d{2})[ .-]?\d{3}[ .-]?\d{4}$"
NANP_BROKEN = r"^(?:\+1|1)?[ .-]?(?:\([2-9]\d{2}|[2-9]\d{2}\))[ .-]?\d{3}[ .-]?\d{4}$"
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")
UNASSIGNED = "possible, but no such number is assigned (unknown area code or range)"


def _desc_pattern(desc, length: int = 10) -> str | None:
    """The desc's pattern when a number of `length` digits can match it (as _is_number_matching_desc)."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return desc.national_number_pattern


@lru_cache(maxsize=1)
def nanp_table() -> list[tuple[str, str | None, str | None]]:
    """(region, leading_digits regex, regex of 10-digit numbers valid there) for calling code 1,
    in phonenumbers' region order; computed from phonenumbers' metadata."""
    table = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        md = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
        if md is None:
            continue
        general = _desc_pattern(md.general_desc)
        names = [t for t in _TYPES if not (t == "mobile" and md.same_mobile_and_fixed_line_pattern)]
        types = [p for p in (_desc_pattern(getattr(md, t, None)) for t in names) if p]
        valid = None
        if general and types:
            valid = f"^(?:{general})$", "^(?:" + "|".join(f"(?:{p})" for p in types) + ")$"
        lead = f"^(?:{md.leading_digits})" if md.leading_digits is not None else None
        table.append((region, lead, valid))
    return table


def _valid_in(n: pl.Expr, valid: tuple[str, str] | None) -> pl.Expr:
    if valid is None:
        return pl.lit(False)
    return n.str.contains(valid[0]) & n.str.contains(valid[1])


def _nanp_regions(national: pl.Series) -> pl.DataFrame:
    """For 10-digit NANP national numbers: `found` (region_code_for_number) and `valid`."""
    table = nanp_table()
    frame = pl.DataFrame({"n": national})
    n = pl.col("n")
    # the main region first, on every row; the rest only where it does not claim the number
    first_region, first_lead, first_valid = table[0]
    assert first_lead is None
    frame = frame.with_columns(main=_valid_in(n, first_valid))
    rest = frame.filter(~pl.col("main"))
    found = pl.lit(None, pl.String)
    valid = pl.lit(False)
    claims = []
    for region, lead, ok in table[1:]:
        claim = n.str.contains(lead) if lead is not None else _valid_in(n, ok)
        claims.append((region, claim, _valid_in(n, ok)))
    if claims and rest.height:
        found_e = pl.when(claims[0][1]).then(pl.lit(claims[0][0]))
        valid_e = pl.when(claims[0][1]).then(claims[0][2])
        for region, claim, ok in claims[1:]:
            found_e = found_e.when(claim).then(pl.lit(region))
            valid_e = valid_e.when(claim).then(ok)
        found, valid = found_e.otherwise(pl.lit(None, pl.String)), valid_e.otherwise(pl.lit(False))
    rest = rest.with_row_index("_i").select("_i", found=found, valid=valid)
    out = frame.with_columns(found=pl.when("main").then(pl.lit(first_region)), valid=pl.col("main"))
    if rest.height:
        idx = frame["main"].not_().arg_true()
        out = out.with_columns(found=out["found"].scatter(idx, rest["found"]),
                               valid=out["valid"].scatter(idx, rest["valid"]))
    return out.select("found", "valid")


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


def _intl_verdicts(raw: pl.Series) -> pl.DataFrame:
    """`decided`, formatted (E164), shape, number, detail for '+' numbers (see INTL_SHAPE)."""
    n = len(raw)
    digits = raw.str.replace_all(r"[^0-9]", "")
    codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    known = [pl.Series([str(c) for c in codes if len(str(c)) == k]) for k in (1, 2, 3)]
    cc = (pl.select(pl.when(digits.str.slice(0, 1).is_in(known[0].implode())).then(digits.str.slice(0, 1))
                    .when(digits.str.slice(0, 2).is_in(known[1].implode())).then(digits.str.slice(0, 2))
                    .when(digits.str.slice(0, 3).is_in(known[2].implode())).then(digits.str.slice(0, 3)))
          .to_series())
    nsn = digits.str.slice(cc.str.len_chars().fill_null(0))
    frame = pl.DataFrame({"cc": cc.cast(pl.Int64, strict=False), "nsn": nsn, "len": nsn.str.len_chars()})
    out = {c: pl.Series(c, [None] * n, dtype=pl.String) for c in ("formatted", "shape", "number", "detail")}
    decided = pl.Series("decided", [False] * n)
    for (code, length), group in frame.with_row_index("_i").filter(
            pl.col("cc").is_not_null() & (pl.col("cc") != 1) & pl.col("len").is_between(2, 17)
            & ~pl.col("nsn").str.starts_with("0")).group_by(["cc", "len"]):
        table = region_table(int(code), int(length))
        if not table or table[0][0] == "001":  # unknown or non-geographic: the library decides
            continue
        prefix = _national_prefix(int(code))
        if prefix:
            group = group.filter(~pl.col("nsn").str.contains(f"^(?:{prefix})"))
        if not group.height:
            continue
        idx = group["_i"]
        possible, where = _possible(int(code), int(length))
        if not possible:
            decided = decided.scatter(idx, True)
            out["number"] = out["number"].scatter(idx, "invalid")
            out["detail"] = out["detail"].scatter(idx, "wrong number of digits for " + where)
            continue
        nn = pl.col("nsn")
        if len(table) == 1:
            valid = _valid_in(nn, table[0][2])
        else:
            valid = pl.lit(False)
            for region, lead, ok in reversed(table):
                claim = nn.str.contains(lead) if lead is not None else _valid_in(nn, ok)
                valid = pl.when(claim).then(_valid_in(nn, ok)).otherwise(valid)
        ok = group.select(valid.fill_null(False).alias("ok"))["ok"]
        decided = decided.scatter(idx, True)
        out["formatted"] = out["formatted"].scatter(idx, ("+" + str(int(code))) + group["nsn"])
        bad = idx.filter(~ok)
        if len(bad):
            out["number"] = out["number"].scatter(bad, "unassigned")
            out["detail"] = out["detail"].scatter(bad, UNASSIGNED)
    return pl.DataFrame({"decided": decided, **out})


def fast_verdicts(values: pl.Series, region: str, fmt: str) -> pl.DataFrame:
    """`decided` plus the columns of `verdicts` (formatted, shape, number, detail) per value."""
    v = values.cast(pl.String)
    empty = pl.DataFrame({"decided": pl.repeat(False, len(v), dtype=pl.Boolean, eager=True)})
    if region not in FAST_REGIONS or fmt not in FORMATS:
        return empty.with_columns(**{c: pl.lit(None, t) for c, t in COLUMNS.items() if c != "value"})
    well = v.str.contains(NANP_SHAPE).fill_null(False)
    broken = v.str.contains(NANP_BROKEN).fill_null(False) & ~well
    decided = well | broken
    idx = decided.arg_true()
    sub = v.gather(idx)
    # the shapes hold only digits and these characters
    national = sub.str.replace_many([" ", "(", ")", "-", ".", "+"], [""] * 6).str.slice(-10)
    regions = _nanp_regions(national)
    n = pl.col("n")
    a, b, c = n.str.slice(0, 3), n.str.slice(3, 3), n.str.slice(6, 4)
    text = {"E164": pl.lit("+1") + n, "NATIONAL": pl.format("({}) {}-{}", a, b, c),
            "INTERNATIONAL": pl.format("+1 {}-{}-{}", a, b, c)}[fmt]
    plus = pl.col("raw").str.starts_with("+") | pl.col("raw").str.starts_with("00")
    other = pl.col("valid") & (pl.col("found") != region) & ~plus
    res = pl.DataFrame({"raw": sub, "n": national, "found": regions["found"], "valid": regions["valid"],
                        "broken": broken.gather(idx)}).select(
        formatted=text,
        shape=pl.when("broken").then(pl.lit("malformed")),
        number=pl.when(~pl.col("valid")).then(pl.lit("unassigned")).when(other).then(pl.lit("other_region")),
        detail=pl.when(~pl.col("valid")).then(pl.lit(UNASSIGNED))
        .when(other).then(pl.format("a valid number of region {}, not " + region, pl.col("found"))),
    )
    out = {"decided": decided}
    for col in ("formatted", "shape", "number", "detail"):
        out[col] = pl.repeat(None, len(v), dtype=pl.String, eager=True).alias(col).scatter(idx, res[col])
    if fmt == "E164":
        intl = (~decided & v.str.contains(INTL_SHAPE).fill_null(False)).arg_true()
        if len(intl):
            res = _intl_verdicts(v.gather(intl))
            for col in ("decided", "formatted", "shape", "number", "detail"):
                out[col] = out[col].scatter(intl, res[col])
    return pl.DataFrame(out)


def verdicts(values: pl.Series, region: str, fmt: str) -> pl.DataFrame:
    """One row per input value: formatted text and problems. The fast path decides the usual
    shapes; phonenumbers the rest, once per distinct value (cached)."""
    v = values.cast(pl.String)
    fast = fast_verdicts(v, region, fmt)
    cols = {"value": v.alias("value"), **{c: fast[c] for c in COLUMNS if c != "value"}}
    todo = (~fast["decided"] & v.is_not_null()).arg_true()
    if len(todo):
        results = [analyse(x, region, fmt) for x in v.gather(todo).to_list()]
        for c, vals in zip([c for c in COLUMNS if c != "value"], zip(*results)):
            cols[c] = cols[c].scatter(todo, pl.Series(vals, dtype=pl.String))
    return pl.DataFrame(cols)


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

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        region = (ctx.region or str(self.opt(f, "region"))).upper()
        fmt = (ctx.phone_format or str(self.opt(f, "format"))).upper()
        t = verdicts(v, region, fmt)
        ok = t["formatted"].is_not_null()
        value = pl.select(pl.when(ok).then(t["formatted"]).otherwise(v)).to_series().alias(s.name)
        detail = t["detail"].fill_null("")
        flags = [
            Flag("phone.invalid", "error", (t["number"] == "invalid").fill_null(False),
                 pl.select(pl.when(t["shape"] == "malformed")
                           .then(pl.lit("malformed and not a possible phone number: ") + detail)
                           .otherwise(pl.lit("not a possible phone number: ") + detail)).to_series()),
            Flag("phone.malformed", "warning", ((t["shape"] == "malformed") & ok).fill_null(False),
                 "broken punctuation (e.g. an unbalanced parenthesis); the digits make a possible number, so it was rewritten",
                 value),
            Flag("phone.vanity", "warning", ((t["shape"] == "vanity") & ok).fill_null(False),
                 "letters were turned into digits", value),
            Flag("phone.unassigned", "warning", (t["number"] == "unassigned").fill_null(False),
                 "a possible number, but not one in use (unassigned area code or range)", value),
            Flag("phone.other_region", "warning", (t["number"] == "other_region").fill_null(False),
                 ("belongs to another region: " + detail), value),
        ]
        return Outcome(value, flags)

    def checks(self, f: Field) -> list[pa.Check]:
        if str(self.opt(f, "format")).upper() == "E164":
            return [matches(r"^\+[1-9]\d{1,14}( ext\. \d+)?$", "phone.invalid")]
        return []
