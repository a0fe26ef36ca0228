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
    fast = emails.fast_verdicts(series)
    for smtputf8 in (True, False):
        ref = reference(values, smtputf8)
        for value, decided, error, expected in zip(values, fast["decided"], fast["error"], ref):
            if decided:
                assert error == expected, (value, error, expected)
        assert emails.verdicts(series, smtputf8).to_list() == ref
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
    # quoted local parts, display names, internationalised domains and local parts, Punycode,
    # domain literals, spaces, upper case, over-long labels: the fast path stays out of them
    values = ['"quoted local"@example.org', "Name <me@example.org>", "jeff@臺網中心.tw", "伊昭傑@郵件.商務",
              "x@xn--bcher-kva.example", "x@ab--cd.com", "x@[192.168.0.1]", "A@ACME.COM", "a b@x@y.org", 'a b"@x.org',
              "x@" + "a" * 64 + ".com", "a" * 250 + "@acme.com", "a..b@acme.com", ".a@acme.com", "müller@acme.de"]
    fast = assert_exact(values)
    assert not fast["decided"].any()


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
