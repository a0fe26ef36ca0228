"""Generate a dirty contact CSV deterministically (same bytes for the same --rows, --seed and --profile).

    python bench/gen.py --rows 1000000 [--seed 7] [--profile default] [--out bench/data/contacts-1M.csv]

Columns (7): Email Address, First Name, Last Name, Company, Business Phone, Website, Title.
Dirt, by row (proportions are approximate):
  emails   10% upper/mixed case, 1.5% invalid (no @, two @, space, no dot in the domain, trailing
           dot, reserved .test domain), 1% missing (a required value), 0.5% repeat an earlier key
  phones   formatted US shapes ((415) 555-2671, 415-555-2671, 415.555.2671, +1 415 555 2671,
           1-415-555-2671, 4155552671), 2% unassigned (555, 333, 444 area codes), 1% malformed
           punctuation, 1% non-US with '+', 0.5% non-US without '+', 0.3% vanity, 0.3% extensions,
           0.2% too short, 5% empty
  websites https URLs, 20% bare domains (www.x.com / x.com), 2% upper case, 0.5% invalid, 5% empty
  company  5% contain a comma (written as a quoted field)
Profiles (--profile; `default` is the file described above, byte for byte as before profiles):
  international  56% of the emails have non-ASCII letters in the local part (søren.jones0@globex0.com,
                 łukasz..., 名前, дмитрий), 8% IDN domains (müller-bau3.de, bücher1.com); names to match.
                 The contact schema refuses SMTPUTF8 local parts, so most of those rows are rejected
  quoted         1 row in 12 has a doubled quote in a quoted cell (`"Initech ""West"" Inc"`), 14% a
                 line break inside a quoted cell (a two-line title)
  unique-keys    every key distinct (no repeated emails)
  reject-heavy   about 58% of the rows rejected (ASCII: unassigned phone area codes, emails without a
                 dot in the domain or with a space, missing emails)
Random numbers come from integer hashing in polars expressions (no numpy, no Python loop), so
10M rows take a few seconds.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

FIRST = ("james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan "
         "joseph jessica thomas sarah charles karen christopher nancy daniel lisa matthew betty anthony margaret "
         "mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth dorothy kevin "
         "carol brian amanda george melissa timothy deborah ronald stephanie edward rebecca jason sharon jeffrey "
         "laura ryan cynthia jacob kathleen gary amy nicholas angela eric shirley jonathan anna stephen brenda "
         "larry pamela justin emma scott nicole brandon helen benjamin samantha samuel katherine gregory christine "
         "frank debra alexander rachel raymond catherine patrick carolyn jack janet dennis ruth jerry maria "
         "josé zoë renée françois").split()
LAST = ("smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson "
        "anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis "
        "robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall "
        "rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins "
        "reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly "
        "howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes "
        "price alvarez castillo sanders patel myers long ross foster jimenez o'brien müller").split()
COMPANY = ("acme globex initech umbrella hooli vandelay wonka stark wayne cyberdyne tyrell soylent gringotts "
           "dunder oscorp aperture massive nakatomi monarch virtucon prestige sterling wernham bluth pied "
           "kramerica duff oceanic veridian rekall").split()
SUFFIX = ["Inc", "LLC", "Corp", "Group", "Partners", "Labs", "Systems", "Holdings"]
TLD = ["com", "com", "com", "net", "org", "io", "co.uk", "de"]
TITLE = ["Director", "Manager", "Engineer", "VP Sales", "Chief Financial Officer", "Analyst", "Consultant",
         "Head of Marketing", "Account Executive", "", "Software Developer", "Office Manager"]
AREA = [int(a) for a in (
    "201 202 203 205 206 207 208 210 212 213 214 215 216 217 218 219 224 225 228 229 231 234 239 240 248 251 "
    "252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 308 309 310 312 313 314 315 316 317 "
    "318 319 320 321 323 330 334 336 337 339 347 351 352 360 361 386 401 402 404 405 406 407 408 409 410 412 "
    "413 414 415 417 419 423 424 425 432 434 435 440 443 469 478 479 480 484 501 502 503 504 505 507 508 509 "
    "510 512 513 515 516 517 518 520 530 540 541 551 559 561 562 563 570 571 573 574 580 585 586 601 602 603 "
    "605 606 607 608 609 610 612 614 615 616 617 618 619 620 623 626 630 631 636 641 646 650 651 660 661 662 "
    "678 682 701 702 703 704 706 707 708 712 713 714 715 716 717 718 719 720 724 727 731 732 734 740 754 757 "
    "760 763 765 770 772 773 774 775 781 785 786 801 802 803 804 805 806 808 810 812 813 814 815 816 817 818 "
    "828 830 831 832 843 845 847 850 856 857 858 859 860 863 864 865 870 901 903 904 906 907 908 909 910 912 "
    "913 914 915 916 917 918 919 920 925 928 931 936 937 940 941 949 951 952 954 956 970 971 972 973 978 979 "
    "980 985 989").split()]
FOREIGN = ["+44 20 7946 {a:04d}", "+49 30 {a:04d}{b:04d}", "+33 1 42 68 {c:02d} {d:02d}", "+61 2 9374 {a:04d}",
           "+81 3-3224-{a:04d}", "+91 98{b:04d} {a:04d}", "+52 55 {b:04d} {a:04d}", "+34 91 {c:03d} {a:04d}"]
NO_PLUS = ["44 20 7946 {a:04d}", "49 30 {a:04d}{b:04d}", "0044 20 7946 {a:04d}", "011 44 20 7946 {a:04d}"]
VANITY = ["1-800-FLOWERS", "1-800-GOT-JUNK", "(800) CALL-NOW", "1-888-{a:04d}-CARS", "800-DENTIST"]
INTL_FIRST = ("søren łukasz józef björn zoë françois renée josé jürgen åsa þóra ðan çağla ñuño ümit "
              "mårten gößling дмитрий ольга νίκος ελένη 太郎 ゆき 민준 أحمد").split()
INTL_LAST = ("jones müller kowalski nørgaard öberg łęcki søndergaard garcía dvořák šťastný ivanović "
             "петров παπαδόπουλος 山田 김 حسن").split()
IDN_COMPANY = ["müller-bau", "bücher", "société", "örebro-bygg", "español", "zürich-ag", "ελλάδα", "россия"]
PROFILES = ("default", "international", "quoted", "unique-keys", "reject-heavy")
P = 2147483629  # a prime below 2**31: every product below stays inside Int64


SEED = [0]


def rnd(i: pl.Expr, k: int) -> pl.Expr:
    """A deterministic pseudo-random integer in [0, P) for row index i and stream k."""
    k += 101 * SEED[0]
    x = (i * 1103515245 + 12345 + k * 2654435761) % P
    for a in (48271, 69621, 16807):
        x = (x * a + k) % P
        x = x ^ (x // 8192)
    return x


def pick(i: pl.Expr, k: int, values: list[str]) -> pl.Expr:
    """A deterministic random choice from `values`."""
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(rnd(i, k) % len(values))


def frac(i: pl.Expr, k: int) -> pl.Expr:
    """A deterministic uniform number in [0, 1)."""
    return rnd(i, k).cast(pl.Float64) / P


def when_chain(u: pl.Expr, cases: list[tuple[float, pl.Expr]], default: pl.Expr) -> pl.Expr:
    """Pick a case by cumulative probability of the uniform u."""
    acc = 0.0
    expr = None
    for p, value in cases:
        acc += p
        expr = pl.when(u < acc).then(value) if expr is None else expr.when(u < acc).then(value)
    return default if expr is None else expr.otherwise(default)


def frame(start: int, n: int, profile: str = "default") -> pl.DataFrame:
    i = pl.col("i")
    # stage 1: the random draws, materialised once
    base = pl.select(i=pl.int_range(start, start + n, dtype=pl.Int64)).with_columns(
        first=pick(i, 1, FIRST), last=pick(i, 2, LAST), company=pick(i, 3, COMPANY), tld=pick(i, 4, TLD),
        suffix=pick(i, 5, SUFFIX), a=(rnd(i, 6) % 10000).cast(pl.String).str.zfill(4),
        b=(rnd(i, 7) % 10000).cast(pl.String).str.zfill(4),
        area=pl.lit(pl.Series(AREA)).gather(rnd(i, 8) % len(AREA)).cast(pl.String),
        exch=(200 + rnd(i, 9) % 800).cast(pl.String), u=frac(i, 10), v=frac(i, 11), x=frac(i, 20),
        w=rnd(i, 12) % 8, fake_area=pick(i, 13, ["555", "333", "444", "999", "111"]),
        c=(rnd(i, 14) % 100).cast(pl.String).str.zfill(2), d=(rnd(i, 15) % 100).cast(pl.String).str.zfill(2),
        foreign=rnd(i, 16) % len(FOREIGN), no_plus=rnd(i, 17) % len(NO_PLUS), vanity=rnd(i, 18) % len(VANITY),
        ext=(rnd(i, 19) % 900 + 100).cast(pl.String), quoted=frac(i, 21) < 0.05, title=pick(i, 22, TITLE),
        dup_of=(i * 7919 % (i + 1)),
    )
    base = base.with_columns(
        domain=pl.col("company") + pl.lit(".") + pl.col("tld"),
        local=pl.col("first").str.replace_all("[^a-z]", "") + pl.lit(".")
        + pl.col("last").str.replace_all("[^a-z]", "") + i.cast(pl.String),
        dup_email=pick(pl.col("dup_of"), 1, FIRST).str.replace_all("[^a-z]", "") + pl.lit(".")
        + pick(pl.col("dup_of"), 2, LAST).str.replace_all("[^a-z]", "") + pl.col("dup_of").cast(pl.String)
        + pl.lit("@") + pick(pl.col("dup_of"), 3, COMPANY) + pl.lit(".") + pick(pl.col("dup_of"), 4, TLD),
        d10=pl.col("area") + pl.col("exch") + pl.col("b"),
    )
    first, last, company, domain, local = (pl.col(c) for c in ("first", "last", "company", "domain", "local"))
    area, exch, b, u, v, x = (pl.col(c) for c in ("area", "exch", "b", "u", "v", "x"))

    email = when_chain(u, [
        (0.010, pl.lit(None, pl.String)),                            # missing (required)
        (0.004, local + pl.lit("@") + company),                      # no dot in the domain
        (0.003, local + pl.lit(".") + domain),                       # no @
        (0.003, local + pl.lit("@@") + domain),                      # two @
        (0.002, first + pl.lit(" ") + last + pl.lit("@") + domain),  # space
        (0.002, local + pl.lit("@") + domain + pl.lit(".")),         # trailing dot
        (0.001, local + pl.lit("@") + company + pl.lit(".test")),    # reserved domain
        (0.005, pl.when(i > 0).then(pl.lit(" ") + pl.col("dup_email")).otherwise(local + pl.lit("@") + domain)),
        (0.100, (local + pl.lit("@") + domain).str.to_uppercase()),
        (0.020, first.str.to_titlecase() + pl.lit(".") + last.str.to_titlecase() + i.cast(pl.String)
         + pl.lit("@") + domain),
    ], local + pl.lit("@") + domain)

    us_shapes = [
        pl.format("({}) {}-{}", area, exch, b), pl.format("{}-{}-{}", area, exch, b),
        pl.format("{}.{}.{}", area, exch, b), pl.col("d10"), pl.format("+1 {} {} {}", area, exch, b),
        pl.format("1-{}-{}-{}", area, exch, b), pl.format("+1{}", pl.col("d10")),
    ]
    us = pl.format("({}) {}-{}", area, exch, b)
    for j in range(len(us_shapes) - 1, -1, -1):
        us = pl.when(pl.col("w") == j).then(us_shapes[j]).otherwise(us)

    def templates(ts: list[str], sel: pl.Expr) -> pl.Expr:
        exprs = []
        for t in ts:
            parts, args, rest = [], [], t
            while "{" in rest:
                pre, _, rest = rest.partition("{")
                name, _, rest = rest.partition("}")
                parts.append(pre)
                args.append(pl.col(name.split(":")[0]))
            parts.append(rest)
            exprs.append(pl.format("{}".join(parts), *args) if args else pl.lit(t))
        out = exprs[-1]
        for j in range(len(exprs) - 2, -1, -1):
            out = pl.when(sel == j).then(exprs[j]).otherwise(out)
        return out

    phone = when_chain(v, [
        (0.050, pl.lit(None, pl.String)),
        (0.020, pl.format("({}) {}-{}", pl.col("fake_area"), exch, b)),       # unassigned area code
        (0.005, pl.format("{}) {}-{}", area, exch, b)),                       # malformed
        (0.005, pl.format("({} {}-{}", area, exch, b)),                       # malformed
        (0.010, templates(FOREIGN, pl.col("foreign"))),
        (0.005, templates(NO_PLUS, pl.col("no_plus"))),
        (0.003, templates(VANITY, pl.col("vanity"))),
        (0.003, pl.format("{}-{}-{} x{}", area, exch, b, pl.col("ext"))),
        (0.002, pl.format("{}-{}", exch, b)),                                 # too short
    ], us)

    site = when_chain(x, [
        (0.050, pl.lit(None, pl.String)),
        (0.100, pl.lit("www.") + domain),
        (0.100, domain),
        (0.020, (pl.lit("HTTP://WWW.") + domain).str.to_uppercase()),
        (0.005, pl.lit("not a website")),
        (0.300, pl.lit("http://www.") + domain),
    ], pl.lit("https://www.") + domain + pl.lit("/"))

    comp = company.str.to_titlecase()
    comp = pl.when(pl.col("quoted")).then(comp + pl.lit(", ") + pl.col("suffix") + pl.lit(".")).otherwise(
        comp + pl.lit(" ") + pl.col("suffix"))
    title = pl.col("title")
    if profile != "default":
        email, first, last, comp, phone, title = variant(profile, base, email, first, last, comp, phone, title)
    return base.select(**{"Email Address": email, "First Name": first.str.to_titlecase(),
                          "Last Name": last.str.to_titlecase(), "Company": comp, "Business Phone": phone,
                          "Website": site, "Title": title})


def variant(profile: str, base: pl.DataFrame, email: pl.Expr, first: pl.Expr, last: pl.Expr, comp: pl.Expr,
            phone: pl.Expr, title: pl.Expr) -> tuple[pl.Expr, ...]:
    """The columns of a non-default profile (the default's with their dirt, changed as the module
    docstring says)."""
    i = pl.col("i")
    u, y = frac(i, 30), frac(i, 31)  # streams the default file does not use
    local = pl.col("local")
    plain = local + pl.lit("@") + pl.col("domain")
    if profile == "international":
        f, la = pick(i, 32, INTL_FIRST), pick(i, 33, INTL_LAST)
        intl = f + pl.lit(".") + la + i.cast(pl.String)
        domain = pl.when(y < 0.08).then(pick(i, 34, IDN_COMPANY) + (i % 10).cast(pl.String) + pl.lit(".")
                                        + pick(i, 35, ["de", "com", "ch", "es"])).otherwise(
            pl.col("company") + (i % 10).cast(pl.String) + pl.lit(".") + pl.col("tld"))
        email = pl.when(u < 0.56).then(intl + pl.lit("@") + domain).when(u < 0.98).then(
            local + pl.lit("@") + domain).otherwise(email)
        first = pl.when(u < 0.56).then(f).otherwise(first)
        last = pl.when(u < 0.56).then(la).otherwise(last)
    elif profile == "quoted":
        comp = pl.when(u < 1 / 12).then(pl.col("company").str.to_titlecase() + pl.lit(' "')
                                        + pick(i, 36, ["West", "East", "Europe", "Labs"]) + pl.lit('" ')
                                        + pl.col("suffix")).otherwise(comp)
        title = pl.when(y < 0.14).then(pl.col("title") + pl.lit("\n") + pick(i, 37, ["EMEA", "North America",
                                                                                    "Sales, Team 2"])).otherwise(title)
    elif profile == "unique-keys":
        email = pl.when(email.str.starts_with(" ")).then(plain).otherwise(email)  # no repeated key
    elif profile == "reject-heavy":
        local_part = local.str.to_lowercase()
        email = when_chain(u, [
            (0.12, local_part + pl.lit("@") + pl.col("company")),                       # no dot in the domain
            (0.10, first + pl.lit(" ") + last + pl.lit("@") + pl.col("domain")),        # a space
            (0.08, pl.lit(None, pl.String)),                                            # missing
        ], email)
        phone = pl.when(y < 0.40).then(pl.format("({}) {}-{}", pl.col("fake_area"), pl.col("exch"), pl.col("b"))
                                       ).otherwise(phone)
    else:
        raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")
    return email, first, last, comp, phone, title


def generate(rows: int, out: Path, seed: int = 0, block: int = 1_000_000, profile: str = "default") -> Path:
    """Write `rows` dirty contact rows of `profile` to `out` (header included)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    SEED[0] = seed
    with open(tmp, "wb") as fh:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            df = frame(start, n, profile)
            df.write_csv(fh, include_header=start == 0, quote_style="necessary")
    tmp.replace(out)
    return out


def default_path(rows: int, profile: str = "default") -> Path:
    label = f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else (f"{rows // 1000}k" if rows % 1000 == 0 else str(rows))
    name = "contacts" if profile == "default" else f"contacts-{profile}"
    return Path(__file__).resolve().parent / "data" / f"{name}-{label}.csv"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", choices=PROFILES, default="default")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    out = generate(a.rows, a.out or default_path(a.rows, a.profile), a.seed, profile=a.profile)
    print(out, out.stat().st_size, "bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
