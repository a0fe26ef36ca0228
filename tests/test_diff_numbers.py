"""Differential test: integer and decimal against Python's int and exact Decimal arithmetic."""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from diffkit import BATCH, EXAMPLES, diff_settings, errors, run_type
from hypothesis import given
from hypothesis import strategies as st

INT8 = (-(2 ** 63), 2 ** 63 - 1)
SCRIPTS = {"ascii": "0123456789", "arabic": "٠١٢٣٤٥٦٧٨٩", "fullwidth": "０１２３４５６７８９", "devanagari": "०१२३४५६७८९"}


def ascii_form(text: str) -> str:
    """The README's rewriting of other scripts: Nd digits, full-width forms, the minus sign, Arabic separators."""
    out = ""
    for ch in text:
        if not ch.isascii() and unicodedata.category(ch) == "Nd":
            ch = str(unicodedata.digit(ch))
        elif 0xFF01 <= ord(ch) <= 0xFF5E:
            ch = chr(ord(ch) - 0xFEE0)
        ch = {"−": "-", "٫": ".", "٬": ",", "\u00a0": " ", "\u202f": " ", "\u2009": " "}.get(ch, ch)
        out += ch
    return out


def ref_integer(text: str | None, lo: int | None, hi: int | None) -> tuple[int | None, bool]:
    t = ascii_form((text or "").strip())
    if not t:
        return None, False
    if t.startswith("+") and t[1:2].isdigit():
        t = t[1:]
    if re.fullmatch(r"-?[0-9]{1,3}([, ][0-9]{3})+", t):
        t = re.sub("[, ]", "", t)
    t = re.sub(r"^(-?[0-9]+)\.0+$", r"\1", t)
    if not re.fullmatch(r"-?[0-9]+", t):
        return None, True
    n = int(t)
    bad = not INT8[0] <= n <= INT8[1] or (lo is not None and n < lo) or (hi is not None and n > hi)
    return n, bad


def ref_decimal(text: str | None, precision: int | None, scale: int | None, comma: bool
                ) -> tuple[Decimal | None, bool, str | None]:
    """(value, error, the text written when rounding changed it)."""
    t = ascii_form((text or "").strip())
    if not t:
        return None, False, None
    m = re.fullmatch(r"([+-]?)[$€£¥]\s?(.*)", t)
    if m:
        t = m[1] + m[2]
    t = re.sub(r"\s?(USD|EUR|GBP|[$€£¥])$", "", t)
    if t.startswith("+") and t[1:2] in tuple("0123456789."):
        t = t[1:]
    if comma:
        if re.fullmatch(r"-?[0-9]{1,3}([. ][0-9]{3})+(,[0-9]*)?", t):
            t = re.sub("[. ]", "", t)
        if re.fullmatch(r"-?[0-9]*,[0-9]*", t):
            t = t.replace(",", ".")
    elif re.fullmatch(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?", t):
        t = t.replace(",", "")
    if not re.fullmatch(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", t):
        return None, True, None
    d = Decimal(t)
    if precision is not None and scale is None:
        scale = 0
    if scale is None:
        return d, False, None
    with localcontext() as ctx:
        ctx.prec = 10_000
        q = d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP) if d.as_tuple().exponent < -scale else d
    if precision is not None and q != 0:
        integer_digits = q.adjusted() + 1 if abs(q) >= 1 else 0  # exact, whatever the exponent (1e5000)
        if integer_digits > precision - scale:
            return None, True, None
    return q, False, (format(abs(q) if q == 0 else q, "f") if q is not d else None)


def script(digits: str, name: str) -> str:
    return "".join(SCRIPTS[name][int(c)] if c.isdigit() else c for c in digits)


def group(digits: str, sep: str) -> str:
    head, rest = digits[: len(digits) % 3 or 3], digits[len(digits) % 3 or 3:]
    return sep.join([head, *[rest[i:i + 3] for i in range(0, len(rest), 3)]])


@st.composite
def numbers(draw: st.DrawFn) -> str:
    whole = draw(st.one_of(st.integers(0, 10 ** 4), st.integers(0, 10 ** 21), st.sampled_from([2 ** 63 - 1, 2 ** 63])))
    digits = str(whole).zfill(draw(st.integers(0, 3)) + len(str(whole)))
    if draw(st.booleans()):
        digits = group(str(whole), draw(st.sampled_from([",", " ", ".", "\u00a0"])))
    frac = draw(st.one_of(st.just(""), st.text("0123456789", max_size=6), st.sampled_from(["0", "00", "5", "995", "005"])))
    sep = draw(st.sampled_from([".", ".", ",", "٫"]))
    text = digits + (sep + frac if frac or draw(st.booleans()) else "")
    if draw(st.integers(0, 6)) == 0:
        text += draw(st.sampled_from(["e3", "E-2", "e+1", "e"]))
    sign = draw(st.sampled_from(["", "", "-", "+", "−", "+-", "--"]))
    currency = draw(st.sampled_from(["", "", "$", "€", " USD", "£ "]))
    where = draw(st.integers(0, 2))
    text = (sign + currency + text if where == 0 else currency + sign + text if where == 1
            else sign + text + currency)
    return script(text, draw(st.sampled_from(["ascii", "ascii", "ascii", "arabic", "fullwidth", "devanagari"])))


values = st.one_of(numbers(), numbers(), st.text("0123456789+-.,$ e", max_size=12),
                   st.sampled_from(["٤٢", "４２", "9223372036854775807", "-9223372036854775808", "+-7", "-$3.50",
                                    "$-3.50", "12.345", "9.995", "1.234,56", "0.005", "-0.005", "", "  7 ",
                                    "1e5000", "-1E4301", "1e-5000"]))
batch = st.lists(values, min_size=1, max_size=BATCH)


@pytest.mark.parametrize("lo,hi", [(None, None), (-100, 10 ** 6)])
@diff_settings()
@given(batch)
def test_integer_agrees_with_int(lo: int | None, hi: int | None, texts: list[str]) -> None:
    got = run_type("integer", texts, **({"min": lo, "max": hi} if lo is not None else {}))
    bad = []
    for t, (value, codes) in zip(texts, got):
        want, want_error = ref_integer(t, lo, hi)
        if bool(errors(codes)) != want_error or (not want_error and want is not None and int(value) != want):
            bad.append((t, value, sorted(codes), want, want_error))
        if not want_error and want is not None and value != str(want):
            bad.append((t, value, "not written canonically"))
    assert bad == []


@pytest.mark.parametrize("precision,scale,comma", [(None, None, False), (8, 2, False), (3, 2, False), (5, None, False),
                                                    (None, 1, True), (12, 4, True)])
@diff_settings(EXAMPLES // 2)
@given(batch)
def test_decimal_agrees_with_exact_decimals(precision: int | None, scale: int | None, comma: bool,
                                            texts: list[str]) -> None:
    opts = {k: v for k, v in (("precision", precision), ("scale", scale)) if v is not None}
    got = run_type("decimal", texts, decimal_comma=comma, **opts)
    bad = []
    for t, (value, codes) in zip(texts, got):
        want, want_error, rounded = ref_decimal(t, precision, scale, comma)
        if bool(errors(codes)) != want_error:
            bad.append((t, value, sorted(codes), want, want_error))
        elif want is not None and (Decimal(value) != want or (rounded is not None and value != rounded)
                                   or ("~decimal.rounded" in codes) != (rounded is not None)):
            bad.append((t, value, sorted(codes), want, rounded))
    assert bad == []


def test_issue_examples() -> None:
    got = run_type("integer", ["٤٢", "４２", "9223372036854775807", "+-7"], min=0, max=50)
    assert got[0] == ("42", {"~integer.reformatted"}) and got[1] == ("42", {"~integer.reformatted"})
    assert "integer.out_of_range" in got[2][1] and "integer.invalid" in got[3][1]
    assert run_type("integer", ["9223372036854775807"])[0] == ("9223372036854775807", set())
    got = run_type("decimal", ["-$3.50", "$-3.50", "12.345", "9.995"], precision=8, scale=2)
    assert [v for v, _ in got] == ["-3.50", "-3.50", "12.35", "10.00"]
    assert "~decimal.rounded" in got[2][1]
    assert "decimal.out_of_range" in run_type("decimal", ["9.995"], precision=3, scale=2)[0][1]
    assert run_type("decimal", ["1.234,56"], decimal_comma=True)[0][0] == "1234.56"
