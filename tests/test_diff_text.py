"""Differential test: enum matching against Python's casefold on both sides, boolean tokens, prose text kept."""
from __future__ import annotations

from diffkit import BATCH, diff_settings, errors, run_type
from hypothesis import given
from hypothesis import strategies as st

from csvprep.fields import TYPES
from csvprep.options import Options
from csvprep.schema import Field

CHOICES = ["Straße", "Open", "İstanbul", "ΣΟΦΙΑ", "ǅemal", "Ǆ", "ﬁsh", "Größe", "done", "Done"]


# Unicode's White_Space characters: Python's str.isspace() less U+001C..U+001F (information
# separators, which Python also counts as space). What csvprep trims around a value.
WHITE_SPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace() and not 0x1C <= c <= 0x1F)


def ref_enum(text: str | None) -> str | None:
    """README: a value matching a choice case-insensitively (casefold, both sides) is written as the
    first listed choice of that fold; others pass unchanged (field.choices rejects them later)."""
    t = (text or "").strip(WHITE_SPACE)
    if not t:
        return None
    folded = {}
    for c in CHOICES:
        folded.setdefault(c.casefold(), c)
    return folded.get(t.casefold(), t)


spellings = st.builds(lambda c, how: {"u": c.upper(), "l": c.lower(), "c": c.casefold(), "s": c.swapcase(),
                                      "t": c.title(), "=": c}[how],
                      st.sampled_from(CHOICES), st.sampled_from("ulcst="))
batch = st.lists(st.one_of(spellings, spellings, st.text(max_size=8)), min_size=1, max_size=BATCH)


@diff_settings()
@given(batch)
def test_enum_folds_both_sides_alike(texts: list[str]) -> None:
    f = Field(name="x", type="enum", choices=CHOICES)
    import polars as pl

    out = TYPES["enum"].normalise(pl.Series("x", texts, dtype=pl.String), f, Options())
    assert [(t, v) for t, v in zip(texts, out.value.to_list()) if v != ref_enum(t)] == []


def test_issue_example() -> None:
    f = Field(name="x", type="enum", choices=["Straße"])
    import polars as pl

    out = TYPES["enum"].normalise(pl.Series("x", ["STRASSE", "straße", "strasse"]), f, Options())
    assert out.value.to_list() == ["Straße"] * 3


@diff_settings(600)
@given(st.lists(st.sampled_from(["true", "TRUE", "Yes", "y", "1", "on", "x", "checked", "false", "No", "n", "0",
                                 "off", "unchecked", "maybe", " yes ", ""]), min_size=1, max_size=BATCH),
       st.sampled_from([("yes", "no"), ("Y", "N"), ("1", "0"), ("true", "false")]))
def test_boolean_tokens(texts: list[str], tokens: tuple[str, str]) -> None:
    got = run_type("boolean", texts, true=tokens[0], false=tokens[1])
    truthy = {"true", "t", "yes", "y", "1", "on", "x", "checked"}
    falsy = {"false", "f", "no", "n", "0", "off", "unchecked"}
    for t, (value, codes) in zip(texts, got):
        k = t.strip(WHITE_SPACE).lower()
        want = None if not k else tokens[0] if k in truthy else tokens[1] if k in falsy else "error"
        assert (("boolean.invalid" in errors(codes)) if want == "error" else value == want), (t, value, codes)


def test_prose_keeps_line_breaks_and_spaces() -> None:
    assert run_type("text", ["  a  b\n\nc  "], collapse_spaces=False)[0][0] == "a  b\n\nc"
    assert run_type("text", ["  a  b\n\nc  "])[0][0] == "a b c"
