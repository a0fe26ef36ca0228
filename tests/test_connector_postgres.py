"""PostgreSQL: schemas from live tables, and clean files that COPY loads without an error."""
from __future__ import annotations

import socket

import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.errors import ConnectorError
from csvprep.connectors.postgres import table_schema

from conftest import SAMPLE, write

pytestmark = pytest.mark.postgres
HOST, PORT = "127.0.0.1", 5432
TABLE = """
DROP TABLE IF EXISTS {t};
DROP TYPE IF EXISTS {t}_mood;
CREATE TYPE {t}_mood AS ENUM ('happy', 'sad');
CREATE TABLE {t} (
    id int4 PRIMARY KEY, name varchar(20) NOT NULL, score numeric(6,2), active boolean, born date,
    seen timestamp, at timestamptz, mood {t}_mood, n int2, note text, starts time,
    created timestamptz NOT NULL DEFAULT now(), uid uuid, twice int GENERATED ALWAYS AS (id * 2) STORED);
"""


def _dsn() -> str:
    try:
        socket.create_connection((HOST, PORT), timeout=1).close()
    except OSError:
        pytest.skip(f"PostgreSQL is not reachable on {HOST}:{PORT}")
    psycopg = pytest.importorskip("psycopg")
    for user in ("postgres", "root"):
        dsn = f"postgresql://{user}@{HOST}:{PORT}/test"
        try:
            psycopg.connect(dsn, connect_timeout=3).close()
            return dsn
        except psycopg.Error:
            continue
    pytest.skip(f"cannot log in to database 'test' on {HOST}:{PORT} as postgres or root")


@pytest.fixture
def people():
    """A fresh table `csvprep_people_<pid>`; yields (dsn, table)."""
    import os

    import psycopg

    dsn = _dsn()
    table = f"csvprep_people_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(TABLE.format(t=table))
    yield dsn, table
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}; DROP TYPE IF EXISTS {table}_mood")


def copy_in(dsn: str, table: str, path) -> list[tuple]:
    """COPY the clean file into the table as the README says; returns the loaded rows."""
    import psycopg

    data = path.read_bytes()
    header = data.split(b"\n", 1)[0].decode()
    columns = ", ".join(f'"{c}"' for c in header.split(","))
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, HEADER)") as copy:
                copy.write(data)
            cur.execute(f"SELECT id, name, score::text, active, born::text, seen::text, at AT TIME ZONE 'UTC', "
                        f"mood::text, n, note, uid::text FROM {table} ORDER BY id")
            return cur.fetchall()


def test_schema_from_table(people) -> None:
    dsn, table = people
    s = table_schema(dsn, table)
    f = {x.name: x for x in s.fields}
    assert s.key == ["id"] and s.connector == "postgres"
    assert (f["id"].type, f["id"].required, f["id"].options) == ("integer", True, {"min": -2147483648, "max": 2147483647})
    assert (f["name"].type, f["name"].max_length, f["name"].required) == ("text", 20, True)
    assert (f["score"].type, f["score"].options) == ("decimal", {"precision": 6, "scale": 2})
    assert f["active"].type == "boolean" and f["born"].type == "date"
    assert f["seen"].options["format"] == "%Y-%m-%d %H:%M:%S%.f"
    assert f["mood"].choices == ["happy", "sad"]
    assert f["n"].options == {"min": -32768, "max": 32767}
    assert not f["created"].required and "twice" not in f
    assert f["starts"].pattern and csvprep.check(
        pl.DataFrame({"id": ["1", "2"], "name": ["a", "b"], "starts": ["09:30", "25:00"]}), schema=s
    ).as_rows() == [[3, "starts", "field.pattern"]]
    assert [(r.type, r.fields) for r in s.rules] == [("not_null", ["created"])]


def test_clean_file_loads_with_copy(people, tmp_path) -> None:
    dsn, table = people
    out = tmp_path / "clean.csv"
    report = csvprep.clean_file(SAMPLE / "postgres-people.csv", out, schema=table_schema(dsn, table))
    rejected = {r[0]: r[2] for r in report.issues.filter(pl.col("severity") == "error").iter_rows()}
    # rejected before COPY sees them, each with a clear code
    assert report.as_rows().count([4, "Name", "field.required"]) == 1
    assert [5, "Name", "field.too_long"] in report.as_rows()
    for column, code in [("Score", "decimal.out_of_range"), ("Active", "boolean.invalid"), ("Born", "date.invalid"),
                         ("Mood", "field.choices"), ("N", "integer.out_of_range"), ("Uid", "field.pattern")]:
        assert [6, column, code] in report.as_rows(), code
    assert [7, "ID", "key.duplicate"] in report.as_rows()
    assert set(rejected) == {4, 5, 6, 7}
    loaded = copy_in(dsn, table, out)
    assert [r[0] for r in loaded] == [1, 2, 6]
    ann, bob, six = loaded
    assert ann[1:6] == ("Ann", "1234.50", True, "1980-03-14", "2024-05-01 13:30:00")
    assert str(ann[6]) == "2024-05-01 11:30:00" and ann[7] == "happy" and ann[8] == 12
    assert ann[9] == "two  spaces" and ann[10] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert bob[2] is None and bob[3] is False and bob[8] is None  # "" in numeric/int columns -> NULL
    assert six[1:5] == ('Quote "Q", comma', "12.00", False, "2024-12-31") and six[7] == "sad"
    assert six[8] == 1000 and six[9] == "multi\nline"


def test_cli_connector_postgres(people, tmp_path) -> None:
    dsn, table = people
    src = write(tmp_path, "in.csv", "id,name,active\n10,Zed,on\n11,,off\n")
    out = tmp_path / "clean.csv"
    r = CliRunner().invoke(cli, ["clean", str(src), "-c", "postgres", "--dsn", dsn, "--table", table,
                                 "-o", str(out), "-q"])
    assert r.exit_code == 1, r.output
    assert out.read_text() == "id,name,active\n10,Zed,true\n"
    assert copy_in(dsn, table, out)[0][:4] == (10, "Zed", None, True)


def test_cli_schema_from_postgres_round_trips(people, tmp_path) -> None:
    dsn, table = people
    out = tmp_path / "people.yaml"
    r = CliRunner().invoke(cli, ["schema", "from-postgres", dsn, table, "-o", str(out)])
    assert r.exit_code == 0, r.output
    loaded = csvprep.load_schema(path=out)
    assert loaded.to_dict() == table_schema(dsn, table).to_dict()


def test_unknown_table_and_bad_dsn_are_one_line_errors(people) -> None:
    dsn, _ = people
    r = CliRunner().invoke(cli, ["schema", "from-postgres", dsn, "no_such_table"])
    assert r.exit_code == 2 and r.output.startswith("Error: no table 'no_such_table'")
    r = CliRunner().invoke(cli, ["schema", "from-postgres", "postgresql://nobody@127.0.0.1:1/x", "t"])
    assert r.exit_code == 2 and "cannot connect to postgresql://nobody@127.0.0.1:1/x" in r.output
    assert len(r.output.strip().splitlines()) == 1
    with pytest.raises(ConnectorError, match="--table"):
        table_schema(dsn, None)
    r = CliRunner().invoke(cli, ["check", "x.csv", "-c", "postgres"])
    assert r.exit_code == 2 and "--dsn" in r.output


def test_password_is_not_echoed() -> None:
    with pytest.raises(ConnectorError) as exc:
        table_schema("postgresql://u:s3cret@127.0.0.1:1/x", "t")
    assert "s3cret" not in str(exc.value)


def test_a_one_column_value_that_ends_copy_still_loads(tmp_path) -> None:
    """`\\.` alone on a line is COPY's end of data: the clean file quotes it, so every row loads."""
    import os

    import psycopg

    dsn = _dsn()
    table = f"csvprep_notes_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (note text NOT NULL)")
    try:
        src = write(tmp_path, "in.csv", "note\nfirst\n\\.\nafter the marker\n")
        report = csvprep.clean_file(src, tmp_path / "clean.csv", schema=table_schema(dsn, table))
        assert report.clean == 3
        with psycopg.connect(dsn) as conn:
            with conn.cursor() as cur:
                with cur.copy(f"COPY {table} (note) FROM STDIN (FORMAT csv, HEADER)") as copy:
                    copy.write((tmp_path / "clean.csv").read_bytes())
                cur.execute(f"SELECT note FROM {table} ORDER BY note")
                assert [r[0] for r in cur.fetchall()] == ["\\.", "after the marker", "first"]
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")


def test_the_library_resolves_a_table_like_the_cli(people, tmp_path):
    dsn, table = people
    src = write(tmp_path, "p.csv", "id,name,score\n1,Ann,12.5\n2,,3\n")
    report = csvprep.check(src, connector="postgres", object=table, connector_options={"dsn": dsn})
    assert report.connector == "postgres" and report.object == table
    assert report.as_rows() == [[3, "name", "field.required"]]
    with pytest.raises(ConnectorError, match="needs --dsn"):
        csvprep.check(src, connector="postgres", object=table)
