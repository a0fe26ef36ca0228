"""The vectorised email fast path gives exactly email-validator's verdicts and messages."""
from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csvprep.fields import emails

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "values"
SETTINGS = settings(max_examples=int(os.environ.get("CSVPREP_FASTPATH_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(values: list[str | None], allow_smtputf8: bool = True) -> list[str | None]:
    return [None if v is None else emails.reference_verdict(v, allow_smtputf8) for v in values]


def assert_exact(values: list[str | None]) -> pl.DataFrame:
    """Where the fast path decides, it agrees with email-validator; `verdicts` agrees everywhere."""
    series = pl.Series("v", values, dtype=pl.String)
    for smtputf8 in (False, True):  # the frame returned is the default's (True)
        fast = emails.fast_verdicts(series, smtputf8)
        ref = reference(values, smtputf8)
        for value, decided, error, expected in zip(values, fast["decided"], fast["error"], ref):
            if decided:
                assert error == expected, (value, smtputf8, error, expected)
        assert emails.verdicts(series, smtputf8).to_list() == ref
        # the value written: email-validator's normalised form (the international path's own for
        # the addresses it decides), the value itself where invalid; of lower-cased values, as
        # the type gives them
        lower = series.str.to_lowercase()
        error = emails.verdicts(lower, smtputf8)
        written = emails.normalised(lower, error, smtputf8).to_list()
        assert written == [v if v is None or e is not None else emails.reference(v, smtputf8)[1]
                           for v, e in zip(lower.to_list(), error)]
    return fast


def corpus_values() -> list[str]:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    values: list[str] = []
    for name in ("email-validator_valid.txt", "email-validator_invalid.txt"):
        values += [ln for ln in (CORPUS / name).read_text(encoding="utf-8").split("\n")
                   if ln and not ln.startswith("#")]
    rows = (CORPUS / "email-validator_test_cases.tsv").read_text(encoding="utf-8").split("\n")[1:]
    values += [json.loads(r.split("\t")[1]) for r in rows if r.strip()]
    return [v for v in values if _utf8(v)]  # lone surrogates cannot come out of a decoded file


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_corpus_values_agree_with_email_validator() -> None:
    values = corpus_values()
    assert len(values) > 400
    # as written, lower-cased (what the email type checks) and trimmed
    everything = values + [v.lower() for v in values] + [v.strip().lower() for v in values]
    fast = assert_exact(everything)
    assert fast["decided"].sum() > 100  # the fast path really decides a good share of them


def test_common_shapes_are_decided_without_the_library() -> None:
    values = ["ann@acme.com", "a.b-c+tag@mail.acme.co.uk", "x@y", "x@y.", "x@@y.com", "no-at-sign.com",
              "@acme.com", "x@", "x@.acme.com", "x@acme..com", "x@-acme.com", "x@acme-.com", "x@acme.c0m1",
              "x@host.local", "x@a.b.test", "x@acme.com.", "x@acme_corp.com", None]
    fast = assert_exact(values)
    assert fast["decided"].all()
    assert fast["error"][0] is None and fast["error"][1] is None


def test_awkward_cases_go_to_the_library() -> None:
    # quoted local parts, display names, domain literals, spaces, upper case, dots out of place,
    # over-long addresses, letters the international path does not take: the fast path stays out
    values = ['"quoted local"@example.org', "Name <me@example.org>", "x@[192.168.0.1]", "A@ACME.COM", "a b@x@y.org",
              'a b"@x.org', "a" * 250 + "@acme.com", "a..b@acme.com", ".a@acme.com", "a..ø@x.com", "ø.@x.com",
              "e\u0301@x.com", "ǅ\u0301x@y.com", "😀@x.com", "a\u200d@x.com", "ｘ@x.com"]
    for smtputf8 in (True, False):
        assert not emails.fast_verdicts(pl.Series(values), smtputf8)["decided"].any()
    assert_exact(values)
    # too long: email-validator's length messages, unless the local part is refused first
    long = pl.Series(["ø" * 130 + "@x.com"])
    assert emails.fast_verdicts(long, True)["decided"].to_list() == [False]
    assert emails.fast_verdicts(long, False)["decided"].to_list() == [True]
    assert_exact(long.to_list())


def test_international_addresses_are_decided_without_the_library_per_value() -> None:
    """Letters with diacritics and of other scripts before the '@', IDN and Punycode domains, odd
    domains after an ASCII local part: the local part by patterns, each distinct domain once by
    email-validator's own domain check."""
    values = ["søren.jones0@globex0.com", "łukasz.taylor2@acme2.com", "müller@acme.de", "jeff@臺網中心.tw",
              "伊昭傑@郵件.商務", "x@xn--bcher-kva.example", "zoë@bücher.de", "дмитрий@почта.рф", "νίκος@παράδειγμα.ελ",
              "김민준@회사.한국", "أحمد@example.com", "ゆき.山田@例え.jp", "x@ab--cd.com", "x@" + "a" * 64 + ".com",
              "ø@", "ø@x.test", "ø@x", "ø@x..com", "ø@-x.com", "ø@x@y.com", "ø@xn--zz.com", "ø@x_y.com", "ø@müller.local",
              "a@bücher.de.", "a@b\u00fccher.de", "a@bu\u0308cher.de", "ß@straße.de", "ø@x.c0m", "ø@1.2.3.4"]
    fast = assert_exact(values)
    assert fast["decided"].all()
    refused = emails.fast_verdicts(pl.Series(["伊昭傑@郵件.商務", "søren.åsa@x.com"]), allow_smtputf8=False)
    assert refused["error"].to_list() == [
        "Internationalized characters before the @-sign are not supported: '伊', '傑', '昭'.",
        "Internationalized characters before the @-sign are not supported: 'å', 'ø'."]


def test_the_international_letters_compose_with_nothing() -> None:
    """Every letter intl_class takes is NFC alone and next to any other (no canonical composition
    has it as its second character), and email-validator shows it as repr does."""
    import unicodedata

    second = set()
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<") and len(d.split()) == 2:
            second.add(chr(int(d.split()[1], 16)))
    chars = pl.Series([chr(cp) for lo, hi in emails.INTL_BLOCKS for cp in range(lo, hi + 1)])
    taken = chars.filter(chars.str.contains(f"^[{emails.intl_class()}]$")).to_list()
    assert taken == [c for c in chars if emails.intl_letter(c)]
    assert len(taken) > 20000
    assert not set(taken) & second
    assert all(unicodedata.combining(c) == 0 and unicodedata.normalize("NFC", c) == c for c in taken)
    for c in taken[::97]:
        assert emails.reference_verdict(c + "@x.com", False) == (
            f"Internationalized characters before the @-sign are not supported: {c!r}.")


def test_spaces_before_the_at_sign_are_decided_without_the_library() -> None:
    # email-validator checks the local part first: a space there is the error, whatever follows
    values = ["amy richardson@wernham.org", "a  b@x.org", " a b@x.org", "a .b@x", "a b@", "a. b@-x..y",
              " @acme.com", "a+b c@x.com", "x y@ACME.COM"]
    fast = assert_exact(values)
    assert fast["decided"].all()
    assert set(fast["error"]) == {"The email address contains invalid characters before the @-sign: SPACE."}


ATEXT = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~"
PIECES = st.sampled_from(list(ATEXT) + [".", ".", "@", "-", "-", "ab", "com", "test", "local", "xn--", "..",
                                        " ", '"', "<", ">", "[", "]", "\\", "é", "Ü", "．", "＠", "A", "Z"])
DOMAIN_END = st.sampled_from(["com", "co.uk", "io", "test", "local", "localhost", "arpa", "invalid", "onion",
                              "c0", "9", "", ".", "-", "org.", "a-b", "museum"])


@st.composite
def email_like(draw) -> str:
    local = draw(st.text(alphabet=ATEXT + ".", min_size=0, max_size=12))
    labels = draw(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=10), max_size=4))
    domain = ".".join(labels + [draw(DOMAIN_END)])
    text = local + draw(st.sampled_from(["@", "@", "@", "@@", "", "@."])) + domain
    if draw(st.booleans()):  # a little more dirt somewhere
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(PIECES) + text[i:]
    return text


@SETTINGS
@given(st.lists(email_like(), min_size=1, max_size=60))
def test_generated_addresses_agree_with_email_validator(values: list[str]) -> None:
    assert_exact(values)


@SETTINGS
@given(st.lists(st.lists(PIECES, max_size=10).map("".join), min_size=1, max_size=60))
def test_random_fragments_agree_with_email_validator(values: list[str]) -> None:
    assert_exact(values)


INTL = st.sampled_from(list("øłéüßåçñ") + ["ı", "İ", "ǅ", "ς", "伊", "郵", "김", "ゆ", "ア", "д", "ν", "ά", "א", "أ",
                                            "e\u0301", "\u0301", "\u200d", "\u200f", "ｘ", "①", "😀", "\u00ad", "ǈ",
                                            "ﬁ", "Ω", "\u2126", "\u3000", "\u0130", "·", "\u0640"])
IDN_LABEL = st.sampled_from(["bücher", "郵件", "商務", "xn--bcher-kva", "xn--zz", "müller-bau", "straße", "παράδειγμα",
                             "почта", "рф", "例え", "ab--cd", "a" * 64, "1", "-x", "x-", "ｘ", "\u200d", "\u0301a"])


@st.composite
def international(draw) -> str:
    local = "".join(draw(st.lists(st.one_of(INTL, st.sampled_from(list(ATEXT) + ["."])), min_size=0, max_size=10)))
    labels = draw(st.lists(st.one_of(IDN_LABEL, st.text(alphabet="abcxyz019-", max_size=6)), max_size=3))
    domain = ".".join(labels + [draw(st.one_of(DOMAIN_END, IDN_LABEL))])
    text = local + draw(st.sampled_from(["@", "@", "@", "@@", "", "@."])) + domain
    if draw(st.booleans()):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.one_of(PIECES, INTL)) + text[i:]
    return text


@SETTINGS
@given(st.lists(international(), min_size=1, max_size=60))
def test_international_addresses_agree_with_email_validator(values: list[str]) -> None:
    assert_exact(values)
    assert_exact([v.lower() for v in values])


def test_the_refusal_is_made_once_per_local_part_without_its_trailing_ascii() -> None:
    """Local parts that share their letters beyond ASCII up to a trailing ASCII run (one stem)
    get the same refusal; ASCII local parts (the empty stem) none, whatever their domain."""
    values = ["åsa.jones12@acme.com", "åsa.lee@acme.com", "åsa@acme.com", "åsa.lee7@bücher.de", "x.åsa.y@acme.com",
              "ø.ñ1@acme.com", "ñ.ø@acme.com", "ab12@bücher.de", "ab@x..com", "åsa.lee@", "åsa9@acme.c0m"]
    assert_exact(values)
    refused = emails.fast_verdicts(pl.Series(values), allow_smtputf8=False)
    assert refused["decided"].all()
    assert refused["error"].to_list()[:3] == ["Internationalized characters before the @-sign are not supported: 'å'."] * 3
    assert refused["error"][7] is None
