"""PostgreSQL: a csvprep schema read from a live table definition (psycopg 3, imported lazily)."""
from __future__ import annotations

import re
from typing import Any

from ..errors import ConnectorError
from ..schema import Field, Rule, Schema

INT_RANGES = {"int2": (-32768, 32767), "int4": (-2147483648, 2147483647),
              "int8": (-9223372036854775808, 9223372036854775807)}
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.f"
TIMESTAMPTZ_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"
TIME_PATTERN = r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$|^24:00(:00)?$"
UUID_PATTERN = r"^\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?$"

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS declared,
       COALESCE(NULLIF(t.typbasetype, 0), a.atttypid)::regtype::text AS base_name,
       b.typname, b.typtype, b.typcategory, b.oid AS base_oid,
       CASE WHEN t.typbasetype <> 0 THEN t.typtypmod ELSE a.atttypmod END AS typmod,
       a.attnotnull OR t.typnotnull AS not_null,
       a.atthasdef OR a.attidentity <> '' AS has_default,
       a.attgenerated <> '' AS generated, col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = COALESCE(NULLIF(t.typbasetype, 0), a.atttypid)
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
KEY_SQL = """
SELECT a.attname FROM pg_index i
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) ON true
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.pos
"""
ENUM_SQL = "SELECT enumlabel FROM pg_enum WHERE enumtypid = %s ORDER BY enumsortorder"


def _redact(dsn: str) -> str:
    """The DSN without its password."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn, flags=re.I)


def connect(dsn: str | None) -> Any:
    """A psycopg connection, or ConnectorError with what to do next."""
    if not dsn:
        raise ConnectorError("the postgres connector needs --dsn, e.g. --dsn postgresql://user@host/db")
    try:
        import psycopg
    except ImportError:
        raise ConnectorError("the postgres connector needs psycopg: pip install 'csvprep[postgres]'")
    try:
        return psycopg.connect(dsn, connect_timeout=5, autocommit=True)
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or ["no reason given"])[0]
        raise ConnectorError(f"cannot connect to {_redact(dsn)}: {reason}: check the DSN and that the server runs")


def field_for(row: dict[str, Any], enum_labels: list[str] | None = None) -> Field | None:
    """The csvprep field for one column (None for generated columns, which COPY cannot fill)."""
    if row["generated"]:
        return None
    name, typ, cat, mod = row["attname"], row["typname"], row["typcategory"], row["typmod"]
    f = Field(name=name, required=bool(row["not_null"] and not row["has_default"]),
              description=f"{row['declared']}" + (f": {row['comment']}" if row["comment"] else ""))
    if cat == "A":
        f.options = {"collapse_spaces": False}
    elif typ in INT_RANGES:
        f.type, f.options = "integer", dict(zip(("min", "max"), INT_RANGES[typ]))
    elif typ == "numeric":
        f.type = "decimal"
        if mod is not None and mod >= 4:
            f.options = {"precision": ((mod - 4) >> 16) & 0xFFFF, "scale": (mod - 4) & 0xFFFF}
    elif typ in ("float4", "float8", "money"):
        f.type = "decimal"
    elif typ == "bool":
        f.type = "boolean"
    elif typ == "date":
        f.type, f.options = "date", {"format": "%Y-%m-%d"}
    elif typ == "timestamp":
        f.type, f.options = "datetime", {"format": TIMESTAMP_FORMAT}
    elif typ == "timestamptz":
        f.type, f.options = "datetime", {"format": TIMESTAMPTZ_FORMAT}
    elif row["typtype"] == "e" and enum_labels:
        f.type, f.choices = "enum", enum_labels
    elif typ in ("varchar", "bpchar"):
        f.options = {"collapse_spaces": False}
        if mod is not None and mod > 4:
            f.max_length = mod - 4
    elif typ == "uuid":
        f.pattern = UUID_PATTERN
    elif typ == "time":
        f.pattern = TIME_PATTERN
    else:  # text, json, inet, ...: passed through unchanged, PostgreSQL checks the rest
        f.options = {"collapse_spaces": False}
    return f


def table_schema(dsn: str | None, table: str | None) -> Schema:
    """Read TABLE's definition from the database at DSN and turn it into a csvprep schema."""
    if not dsn or not table:
        raise ConnectorError("the postgres connector needs --dsn DSN and --table TABLE (or --schema FILE "
                             "written by `csvprep schema from-postgres`)")
    import psycopg

    with connect(dsn) as conn, conn.cursor() as cur:
        try:
            return _read_table(cur, table)
        except psycopg.Error as exc:
            reason = (str(exc).strip().splitlines() or ["no reason given"])[0]
            raise ConnectorError(f"cannot read table {table!r}: {reason}")


def _read_table(cur: Any, table: str) -> Schema:
    """The schema of `table` through an open cursor."""
    cur.execute("SELECT to_regclass(%s)::oid", (table,))
    found = cur.fetchone()
    if not found or found[0] is None:
        raise ConnectorError(f"no table {table!r} in the database: check the name (schema.table, case-sensitive "
                             "names in double quotes)")
    oid = found[0]
    cur.execute(COLUMNS_SQL, (oid,))
    names = [d.name for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    enums: dict[int, list[str]] = {}
    for row in rows:
        if row["typtype"] == "e" and row["base_oid"] not in enums:
            cur.execute(ENUM_SQL, (row["base_oid"],))
            enums[row["base_oid"]] = [r[0] for r in cur.fetchall()]
    cur.execute(KEY_SQL, (oid,))
    key = [r[0] for r in cur.fetchall()]
    if not rows:
        raise ConnectorError(f"table {table!r} has no columns to load")
    fields = [f for f in (field_for(r, enums.get(r["base_oid"])) for r in rows) if f is not None]
    rules = [Rule("not_null", [r["attname"]], code="field.required",
                  message="NOT NULL column: an empty value would be loaded as NULL and fail")
             for r in rows if r["not_null"] and r["has_default"] and not r["generated"]]
    return Schema(object=table, connector="postgres", fields=fields, key=[k for k in key if k in
                  {f.name for f in fields}], rules=rules,
                  description=f"PostgreSQL table {table}; load with COPY {table} (columns of the clean "
                              "header) FROM STDIN (FORMAT csv, HEADER)",
                  output={"delimiter": ",", "line_ending": "LF"})
