"""Differential test: the url type against urllib.parse and IDNA (UTS-46) for the host, port 0-65535."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

import idna
from diffkit import BATCH, diff_settings, errors, run_type
from hypothesis import given
from hypothesis import strategies as st

LDH = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def ref_valid(url: str) -> bool:
    """An http(s) URL without user info whose host is LDH labels (ASCII) or passes IDNA, with at
    least two labels, a last label of letters, a port up to 65535, no white space."""
    if re.search(r"\s", url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port beyond 65535 or not a number
        return False
    if parts.scheme not in ("http", "https") or not url.startswith(parts.scheme + "://") or "@" in parts.netloc:
        return False
    host = parts.netloc.rsplit(":", 1)[0] if port is not None or parts.netloc.endswith(":") else parts.netloc
    if parts.netloc.endswith(":"):
        return False
    host = host[:-1] if host.endswith(".") else host
    labels = host.split(".")
    if len(labels) < 2 or not all(labels):
        return False
    if host.isascii():
        return all(LDH.fullmatch(x) for x in labels) and labels[-1].isalpha() and 2 <= len(labels[-1]) <= 63
    try:
        encoded = idna.encode(host, uts46=True, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    last = labels[-1]  # letters (with their combining marks) in any script
    letters = all(c.isalpha() or unicodedata.category(c).startswith("M") for c in last)
    return letters and (not last.isascii() or 2 <= len(last) <= 63) and len(encoded) <= 253


def lowered(url: str) -> str:
    m = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#]*)(.*)$", url, re.S)
    return m[1].lower() + m[2].lower() + m[3] if m else url


hosts = st.one_of(
    st.text("abcxyz0189-.", min_size=1, max_size=14),
    st.sampled_from(["例え.jp", "中国.cn", "İzmir.com", "bücher.de", "ÉCOLE.FR", "xn--bcher-kva.de", "a.b-.com",
                     "straße.de", "😀.com", "ab--cd.com", "münchen.ｄｅ", "a_b.com", "example.com", "localhost",
                     "例え.テスト", "test.例え", "a.com.", "Ünïcödé.org"]),
    st.builds(lambda a, b: f"{a}.{b}", st.text("abcäöü例中ΣσİI-", min_size=1, max_size=6),
              st.sampled_from(["com", "de", "cn", "中国", "jp", "c0m", "x"])),
)
ports = st.sampled_from(["", "", "", ":80", ":65535", ":65536", ":99999", ":0", ":", ":8o"])
paths = st.sampled_from(["", "", "/", "/päth?q=1", "#frag", "/a b", "?x@y"])
schemes = st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "", "www."])
urls = st.builds(lambda s, h, p, q: s + h + p + q, schemes, hosts, ports, paths)
batch = st.lists(st.one_of(urls, urls, st.text(max_size=15)), min_size=1, max_size=BATCH)


@diff_settings()
@given(batch)
def test_url_agrees_with_urlsplit_and_idna(texts: list[str]) -> None:
    got = run_type("url", texts)
    bad = []
    for t, (value, codes) in zip(texts, got):
        if value is None:
            continue
        if bool(errors(codes)) == ref_valid(value):
            bad.append((t, value, sorted(codes), ref_valid(value)))
        if "://" in t.strip() and value != lowered(t.strip()):
            bad.append((t, value, "not lower-cased as the README says"))
    assert bad == []


def test_issue_examples() -> None:
    got = run_type("url", ["https://例え.jp", "https://中国.cn", "https://İzmir.com", "https://a.com:65536",
                           "https://a.com:65535"])
    assert [bool(errors(c)) for _, c in got] == [False, False, False, True, False]
