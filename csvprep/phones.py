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


def verdicts(values: pl.Series, region: str, fmt: str) -> pl.DataFrame:
    """One row per input value: formatted text and problems, computed once per distinct value."""
    frame = pl.DataFrame({"value": values.cast(pl.String)})
    distinct = frame.unique().filter(pl.col("value").is_not_null())["value"].to_list()
    rows = [(v, *analyse(v, region, fmt)) for v in distinct]
    table = pl.DataFrame(rows, schema=COLUMNS, orient="row")
    return frame.join(table, on="value", how="left", maintain_order="left")


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
