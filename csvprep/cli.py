"""The `csvprep` command: a thin click layer over the library."""
from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from . import api, connectors
from .errors import CsvprepError
from .options import Options
from .report import Report
from .schema import list_objects, load_schema


def _fail(message: str, code: int = 2) -> click.ClickException:
    exc = click.ClickException(message)
    exc.exit_code = code
    return exc


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library exceptions into one-line messages with exit code 2, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CsvprepError as exc:
            raise _fail(str(exc), exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # the reader of stdout went away (`| head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            raise _fail("interrupted")
        except MemoryError:
            raise _fail("out of memory: try a smaller --chunk-size")
        except Exception as exc:  # noqa: BLE001 - the CLI promises no traceback
            if os.environ.get("CSVPREP_DEBUG"):
                raise
            raise _fail(f"internal error ({type(exc).__name__}: {exc}); set CSVPREP_DEBUG=1 for details")
    return wrapper


def emit(text: str) -> None:
    """Print data to stdout; a closed pipe (`| head`) silences it instead of failing."""
    try:
        click.echo(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def emit_json(report: Report) -> None:
    """The JSON report on stdout, written a slice of issues at a time; `| head` as in `emit`."""
    try:
        out = sys.stdout.buffer
        report.write_json(out)
        out.write(b"\n")
        out.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def input_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by check and clean."""
    for opt in reversed([
        click.option("--object", "-O", "object_", metavar="NAME", help="Object to validate against (see `csvprep objects`)."),
        click.option("--connector", "-c", metavar="NAME", help="Connector of the object (default: marketing)."),
        click.option("--schema", "-s", "schema_path", type=click.Path(dir_okay=False), help="Use this schema YAML file."),
        click.option("--dsn", metavar="DSN", help="postgres: connection string of the target database."),
        click.option("--table", metavar="TABLE", help="postgres: the target table (its definition is the schema)."),
        click.option("--hub", metavar="HUB", help="Bulk API hub (e.g. marketing, helpdesk, db); with --connector hub "
                     "the schema is read from the hub's metadata of --object."),
        click.option("--base-url", metavar="URL", help="Bulk API base URL (default: $CSVPREP_BASE_URL, else "
                     "https://api.cloud-elements.com/elements/api-v2)."),
        click.option("--encoding", "-e", help="Input encoding (default: detected)."),
        click.option("--delimiter", "-d", help="Input delimiter, e.g. ',' or '\\t' (default: detected)."),
        click.option("--no-header", "-H", is_flag=True,
                     help="The file has no header row: columns are column_1..N, --columns, or a schema's fields in order."),
        click.option("--columns", metavar="A,B,C", help="Column names (with -H; without it, instead of the header's)."),
        click.option("--skip-lines", type=click.IntRange(min=0), default=0, metavar="N",
                     help="Lines at the start that are not read at all (a preamble above the header)."),
        click.option("--null", "null_values", multiple=True, metavar="VALUE",
                     help="A cell equal to VALUE counts as empty, e.g. --null N/A --null NULL (repeatable)."),
        click.option("--seen", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
                     help="An earlier clean file: rows repeating its keys are key.duplicate (repeatable)."),
        click.option("--region", help="Default phone region, e.g. US, GB (overrides the schema)."),
        click.option("--phone-format", metavar="E164|INTERNATIONAL|NATIONAL",
                     help="Phone output format (overrides the schema)."),
        click.option("--strict", is_flag=True, help="Warnings also make the exit code 1."),
        click.option("--escape-formulas", is_flag=True,
                     help="Prefix cells starting with = + - @ tab or CR with ' so spreadsheets show them as text."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary on stderr."),
        click.option("--chunk-size", default="12MB", show_default=True, metavar="SIZE",
                     help="Bytes read per batch; memory use grows with it."),
    ]):
        fn = opt(fn)
    return fn


def report_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--report (repeatable, format by suffix) and --report-rows, shared by check and clean."""
    fn = click.option("--report-rows", type=click.IntRange(min=1), default=1000, show_default=True, metavar="N",
                      help="HTML report: the grid holds the first N lines of each issue code (the JSON report has all).")(fn)
    return click.option("--report", "report_paths", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
                        help="Write the report here: .html/.htm is the HTML report, anything else JSON. "
                             "Repeatable.")(fn)


def wants_html(paths: tuple[str, ...]) -> bool:
    """True when one of the --report files is HTML (then the run keeps the cells of the problem lines)."""
    from .html_report import report_format

    return any(report_format(p) == "html" for p in paths)


def parse_size(text: str) -> int:
    """'32MB' -> bytes."""
    from .writer import size_bytes

    return size_bytes(text)


@contextlib.contextmanager
def progress_bar(quiet: bool) -> Iterator[api.Progress | None]:
    """A rich progress bar on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    with Progress(TextColumn("reading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("csv", total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def exit_code(report: Report, strict: bool) -> int:
    """0 clean, 1 data errors (or warnings with --strict)."""
    if report.errors or (strict and report.warnings):
        return 1
    return 0


def build_options(o: dict[str, Any], progress: api.Progress | None = None, **more: Any) -> Options:
    """The library's Options from the shared command-line options (built once per command)."""
    return Options(encoding=o["encoding"], delimiter=o["delimiter"], region=o["region"],
                   phone_format=o["phone_format"], chunk_bytes=parse_size(o["chunk_size"]),
                   escape_formulas=o.get("escape_formulas", False), progress=progress,
                   connector_options={"dsn": o.get("dsn"), "table": o.get("table"), "hub": o.get("hub"),
                                      "base_url": o.get("base_url")},
                   no_header=o["no_header"], columns=o["columns"], skip_lines=o["skip_lines"],
                   null_values=o["null_values"], seen=o["seen"], **more)


def target(o: dict[str, Any]) -> dict[str, Any]:
    """The object, schema and connector named on the command line."""
    return dict(object=o["object_"], schema=o["schema_path"], connector=o["connector"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="csvprep")
def cli() -> None:
    """Pre-flight checks and cleanup for CSV files headed to a bulk API.

    \b
    Example:
        csvprep check contacts.csv --object contact
        csvprep clean contacts.csv --object contact -o clean.csv
    """
    # the modules' objects never become garbage: the cyclic collector need not walk them on
    # each of its runs during a file (a few % of a big file's CPU time)
    gc.freeze()


@cli.command()
@click.argument("file", type=click.Path(allow_dash=True))
@input_options
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: human summary; json: the full report.")
@report_options
@handle_errors
def check(file: str, fmt: str, report_paths: tuple[str, ...], report_rows: int, **o: Any) -> None:
    """Check FILE and report issues; writes no files but the --report files.

    FILE '-' reads standard input. Exit code: 0 no errors, 1 data errors found, 2 could not run.

    \b
    Example:
        csvprep check sample-data/contact.tsv --object contact
        csvprep check export.csv -O contact --format json > report.json
        csvprep check export.csv -O contact --report report.html --report report.json
    """
    with progress_bar(o["quiet"] or fmt == "json") as progress:
        options = build_options(o, progress, report_rows=report_rows if wants_html(report_paths) else None)
        report = api.check(file, **target(o), options=options)
    for path in report_paths:
        api.write_report(report, path, max_rows_per_code=report_rows)
    if fmt == "json":
        emit_json(report)
    else:
        emit(report.to_text())
    sys.exit(exit_code(report, o["strict"]))


@cli.command()
@click.argument("file", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--output", "-o", required=True, type=click.Path(allow_dash=True),
              help="Clean CSV to write ('-': standard output, then give --rejects; --engine ray: a folder).")
@click.option("--rejects", "-r", type=click.Path(dir_okay=False), help="Rejected rows (default: OUT.rejects.csv).")
@click.option("--engine", type=click.Choice(["single", "ray"]), default="single", show_default=True,
              help="ray: check SOURCE... (files or folders) on a Ray cluster, into the folder OUT "
              "(pip install 'csvprep[ray]').")
@click.option("--ray-address", metavar="ADDRESS", help="--engine ray: the cluster to use (default: a local Ray).")
@click.option("--format", "-f", "output_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="jsonl: one JSON object per clean row (google-calendar: one Calendar API event).")
@click.option("--out-delimiter", metavar="NAME", help="Clean file delimiter: COMMA, TAB, PIPE, SEMICOLON, CARET, "
              "BACKQUOTE or one character (default: from the schema, else COMMA).")
@click.option("--line-ending", type=click.Choice(["LF", "CRLF"], case_sensitive=False),
              help="Clean file line ending (default: from the schema, else LF).")
@click.option("--max-rows", type=click.IntRange(min=1), metavar="N",
              help="Split the clean file into OUT.part-NNN parts of at most N records (default: from the schema).")
@click.option("--max-bytes", metavar="SIZE",
              help="Split the clean file into parts of at most SIZE bytes, e.g. 10MB (default: from the schema).")
@report_options
@input_options
@handle_errors
def clean(file: tuple[str, ...], output: str, rejects: str | None, engine: str, ray_address: str | None,
          report_paths: tuple[str, ...], report_rows: int, output_format: str, out_delimiter: str | None,
          line_ending: str | None, max_rows: int | None, max_bytes: str | None, **o: Any) -> None:
    """Write a clean copy of FILE for the bulk endpoint, plus rejected rows.

    The clean file is UTF-8, comma-separated, with the target field names as header.
    Rejected rows keep their original values, with `_line` and `_reasons` columns.

    \b
    Example:
        csvprep clean sample-data/contact.tsv --object contact -o out/contact.csv
        csvprep clean export.csv -O contact -o clean.csv --rejects bad.csv --report report.json
        csvprep clean export.csv -O contact -o clean.csv --report report.json --report report.html
        csvprep clean leads.csv -c salesforce -O Lead -o lead.csv --max-rows 10000 --max-bytes 10MB
        csvprep clean events.csv -c google-calendar -O events -o events.jsonl --format jsonl
        csvprep clean exports/ big.csv -O contact -o out/ --engine ray
    """
    if engine == "ray":
        from . import ray as ray_engine

        if rejects:
            raise _fail("--rejects: with --engine ray each source's rejects are written in the output folder")
        if "-" in file or output == "-":
            raise _fail("--engine ray reads files and writes a folder: standard input and output are not for it")
        options = build_options(o, None, out_delimiter=out_delimiter, line_ending=line_ending, max_rows=max_rows,
                                max_bytes=parse_size(max_bytes) if max_bytes else None,
                                output_format=output_format, report_rows=report_rows)
        report = ray_engine.clean(list(file), **target(o), output=output, options=options, address=ray_address)
        for path in report_paths:
            api.write_report(report, path, max_rows_per_code=report_rows)
        if not o["quiet"]:
            click.echo(report.to_text(limit=10), err=True)
        sys.exit(exit_code(report, o["strict"]))
    if len(file) > 1:
        raise _fail("several sources need --engine ray: one process cleans one FILE")
    with progress_bar(o["quiet"]) as progress:
        # the HTML grid's lines are collected only for an HTML report
        options = build_options(o, progress, out_delimiter=out_delimiter, line_ending=line_ending,
                                max_rows=max_rows, max_bytes=parse_size(max_bytes) if max_bytes else None,
                                output_format=output_format,
                                report_rows=report_rows if wants_html(report_paths) else None)
        report = api.clean_file(file[0], output, **target(o), rejects=rejects, report_path=list(report_paths),
                                options=options)
    if not o["quiet"]:
        click.echo(report.to_text(limit=10), err=True)
    sys.exit(exit_code(report, o["strict"]))


@cli.command("report")
@click.argument("report_json", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--report-rows", type=click.IntRange(min=1), default=1000, show_default=True, metavar="N",
              help="The grid holds the first N lines of each issue code.")
@handle_errors
def report_cmd(report_json: str, output: str, report_rows: int) -> None:
    """Turn a JSON report (of check, clean or push) into the HTML report.

    The grid shows the cells the issues name (column and value): the JSON report holds no
    other cells. `--report FILE.html` on check or clean shows every cell of the lines.

    \b
    Example:
        csvprep check export.csv -O contact --format json > report.json
        csvprep report report.json -o report.html
    """
    from .html_report import read_json_report, write_html

    write_html(read_json_report(report_json), output, max_rows_per_code=report_rows)


@cli.command()
@click.option("--connector", "-c", metavar="NAME", help="Only this connector.")
@handle_errors
def objects(connector: str | None) -> None:
    """List the built-in objects of every connector.

    \b
    Example:
        csvprep objects
        csvprep objects --connector marketing
    """
    rows = list_objects(connector) + connectors.dynamic_objects(connector)
    if not rows:
        raise _fail(f"no objects for connector {connector!r}: run `csvprep objects` to see all")
    for conn, obj, desc in rows:
        click.echo(f"{conn:<16} {obj:<16} {desc}")


@cli.group()
def schema() -> None:
    """Show and create schemas.

    \b
    Example:
        csvprep schema show contact
    """


@schema.command("show")
@click.argument("object_name", metavar="OBJECT")
@click.option("--connector", "-c", metavar="NAME", help="Connector of the object (default: marketing).")
@click.option("--schema", "-s", "schema_path", type=click.Path(dir_okay=False), help="Show this schema file instead.")
@handle_errors
def schema_show(object_name: str, connector: str | None, schema_path: str | None) -> None:
    """Print the fields of OBJECT's schema as a table.

    \b
    Example:
        csvprep schema show contact
        csvprep schema show Contact --connector salesforce
    """
    s = load_schema(path=schema_path) if schema_path else load_schema(object_name, connector)
    click.echo(f"{s.connector}/{s.object}" + (f": {s.description}" if s.description else ""))
    if s.key:
        click.echo(f"key: {', '.join(s.key)}")
    head = ("field", "type", "req", "max", "aliases / options")
    rows = []
    for f in s.fields:
        extra = ", ".join(f.aliases)
        opts = " ".join(f"{k}={v}" for k, v in f.options.items())
        if f.choices:
            opts = (opts + " choices=" + "|".join(f.choices)).strip()
        rows.append((f.name, f.type, "yes" if f.required else "", str(f.max_length or ""),
                     "; ".join(x for x in (extra, opts) if x)))
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    for r in [head, *rows]:
        click.echo("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    for r in s.rules:
        click.echo(f"rule: {r.type}({', '.join(r.fields)}) -> {r.severity}")


def emit_schema(s: Any, output: str | None) -> None:
    """Write a generated schema as YAML to OUTPUT, or to stdout."""
    import yaml

    from .writer import write_text

    text = yaml.safe_dump(s.to_dict(), sort_keys=False, allow_unicode=True, width=120)
    if output:
        write_text(output, text)
        click.echo(f"wrote {output}: {s.connector}/{s.object}, {len(s.fields)} fields", err=True)
    else:
        click.echo(text, nl=False)


@schema.command("from-postgres")
@click.argument("dsn")
@click.argument("table")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the schema YAML here (default: stdout).")
@handle_errors
def schema_from_postgres(dsn: str, table: str, output: str | None) -> None:
    """Write a schema for TABLE, read from the live PostgreSQL database at DSN.

    Column types, NOT NULL, varchar(n), numeric(p,s), booleans, dates, timestamps, enums and the
    primary key become fields, limits and the key. The clean file then loads with
    COPY TABLE (columns of its header) FROM STDIN (FORMAT csv, HEADER).

    \b
    Example:
        csvprep schema from-postgres postgresql://postgres@127.0.0.1/test people -o people.yaml
        csvprep clean people.csv --schema people.yaml -o clean.csv
        csvprep clean people.csv -c postgres --dsn postgresql://postgres@127.0.0.1/test --table people -o clean.csv
    """
    from .connectors.postgres import table_schema

    emit_schema(table_schema(dsn, table), output)


@schema.command("from-wufoo")
@click.argument("fields_json", metavar="FIELDS.json", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the schema YAML here (default: stdout).")
@click.option("--object", "-O", "object_", metavar="NAME", help="Object name (default: the file name).")
@handle_errors
def schema_from_wufoo(fields_json: str, output: str | None, object_: str | None) -> None:
    """Write a schema for a Wufoo form from its fields definition (GET /forms/ID/fields.json).

    Headers are the Field{N} ids; the field titles are accepted as aliases.

    \b
    Example:
        csvprep schema from-wufoo sample-data/wufoo-fields.json -o form.yaml
        csvprep clean entries.csv --schema form.yaml -o clean.csv
    """
    from .connectors.wufoo import form_schema

    emit_schema(form_schema(fields_json, object_), output)


# -- the bulk API: hub objects, schema from-hub, push, verify-signature (issue 14) ----------------

def hub_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--hub and --base-url (credentials come only from the environment)."""
    fn = click.option("--base-url", metavar="URL", help="Bulk API base URL (default: $CSVPREP_BASE_URL, else "
                      "https://api.cloud-elements.com/elements/api-v2).")(fn)
    return click.option("--hub", metavar="HUB", help="Hub of the object, e.g. marketing, helpdesk, db "
                        "(default: the connector's `hub:`).")(fn)


@cli.group("hub")
def hub_group() -> None:
    """Ask the bulk API hub what it offers.

    Credentials: CSVPREP_USER_SECRET, CSVPREP_ELEMENT_TOKEN (and CSVPREP_ORG_SECRET) in the environment.

    \b
    Example:
        csvprep hub objects --hub marketing
    """


@hub_group.command("objects")
@hub_options
@click.option("--connector", "-c", metavar="NAME", help="Use this connector's hub (default: marketing).")
@handle_errors
def hub_objects(hub: str | None, base_url: str | None, connector: str | None) -> None:
    """List the objects the hub offers (GET /hubs/{hub}/objects).

    \b
    Example:
        csvprep hub objects --hub marketing --base-url https://api.cloud-elements.com/elements/api-v2
    """
    from .connectors import hub as bulk

    with bulk.client(hub, connector, base_url) as c:
        for name in c.objects():
            click.echo(name)


@schema.command("from-hub")
@click.argument("object_name", metavar="OBJECT")
@hub_options
@click.option("--connector", "-c", metavar="NAME", help="Use this connector's hub (default: marketing).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the schema YAML here (default: stdout).")
@handle_errors
def schema_from_hub(object_name: str, hub: str | None, base_url: str | None, connector: str | None,
                    output: str | None) -> None:
    """Write a schema for OBJECT from the hub's field metadata.

    vendorPath names a field, vendorDisplayName is an alias, vendorRequired makes it required;
    read-only fields are left out and types guessed from names are marked, as YAML comments.

    \b
    Example:
        csvprep schema from-hub contact --hub marketing -o contact.yaml
        csvprep clean contacts.csv --schema contact.yaml -o clean.csv
    """
    from .connectors import hub as bulk
    from .writer import write_text

    with bulk.client(hub, connector, base_url) as c:
        made = bulk.schema_from_hub(c.metadata(object_name), object_name, c.hub)
    if output:
        write_text(output, made.to_yaml())
        click.echo(f"wrote {output}: {c.hub}/{object_name}, {len(made.schema.fields)} fields", err=True)
    else:
        click.echo(made.to_yaml(), nl=False)


@cli.command("verify-signature")
@click.argument("body", required=False, default="-", metavar="[BODY|-]")
@click.option("--signature", required=True, metavar="'sha256=...'", help="The Elements-Webhook-Signature header value.")
@click.option("--key-env", metavar="NAME", help="Environment variable holding the Callback Notification Signature Key.")
@click.option("--key-file", type=click.Path(dir_okay=False), help="File holding the key (a final newline is ignored).")
@handle_errors
def verify_signature_cmd(body: str, signature: str, key_env: str | None, key_file: str | None) -> None:
    """Check a callback's signature over its raw BODY (a file; - or nothing: stdin).

    Exit code: 0 valid, 1 invalid, 2 usage (no key, unreadable body).

    \b
    Example:
        CSVPREP_CALLBACK_KEY=... csvprep verify-signature --key-env CSVPREP_CALLBACK_KEY \\
            --signature 'sha256=jHdbRx5EZAsOfTwAPJOGkNUzQMVVdu5VJlxcsk+G6jQ=' body.json
    """
    from .signature import verify_signature

    if bool(key_env) == bool(key_file):
        raise _fail("give the key with exactly one of --key-env NAME or --key-file FILE")
    if key_env:
        key: bytes = os.environb.get(key_env.encode(), b"")
        if not key:
            raise _fail(f"the environment variable {key_env} is not set or empty: export the signature key in it")
    else:
        try:
            with open(key_file, "rb") as fh:  # type: ignore[arg-type]
                key = fh.read().rstrip(b"\r\n")
        except OSError as exc:
            raise _fail(f"{key_file}: cannot read the key file ({exc.strerror})")
        if not key:
            raise _fail(f"{key_file}: the key file is empty")
    try:
        if body == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(body, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise _fail(f"{body}: cannot read the body ({exc.strerror})")
    if verify_signature(data, signature, key):
        click.echo("valid", err=True)
        sys.exit(0)
    click.echo("invalid: the signature does not match this body and key", err=True)
    sys.exit(1)


def push_exit_code(report: Any, strict: bool, wait: bool, dry_run: bool) -> int:
    """0 every row accepted (dry run / --no-wait: nothing rejected so far), 1 some rows rejected."""
    if strict and report.warnings:
        return 1
    if dry_run or not wait:
        return 1 if report.errors or report.rejected else 0
    return 0 if report.accepted_all() else 1


@cli.command()
@click.argument("file", required=False, type=click.Path(allow_dash=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Keep the clean file here (default: a "
              "temporary folder, removed when every job is settled).")
@click.option("--rejects", "-r", type=click.Path(dir_okay=False), help="Rejected rows (default: OUT.rejects.csv).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="The push report, rewritten after every state change (needed for --resume).")
@click.option("--format", "-f", "output_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="Upload format: csv, or jsonl (metaData format json).")
@click.option("--out-delimiter", metavar="NAME", help="Clean file delimiter (default: from the schema, else COMMA).")
@click.option("--line-ending", type=click.Choice(["LF", "CRLF"], case_sensitive=False),
              help="Clean file line ending (default: from the schema, else LF).")
@click.option("--max-rows", type=click.IntRange(min=1), metavar="N", help="At most N records per part (one job each).")
@click.option("--max-bytes", metavar="SIZE", help="At most SIZE bytes per part (one job each), e.g. 10MB.")
@click.option("--mode", type=click.Choice(["create", "upsert"]), default="create", show_default=True,
              help="metaData action; upsert needs --id-field (or a one-field schema key).")
@click.option("--id-field", metavar="FIELD", help="The upsert match field (identifierFieldName); also the key "
              "target errors are matched on.")
@click.option("--callback-url", metavar="URL", help="Sent as Elements-Async-Callback-Url: the hub calls it when a "
              "job ends.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Poll each job to its end and fetch its errors.")
@click.option("--timeout", default="2h", show_default=True, metavar="DURATION", help="Give up waiting after this "
              "(e.g. 90m); the jobs go on, --resume picks them up.")
@click.option("--poll-interval", default="5s", show_default=True, metavar="DURATION", help="Time between status polls.")
@click.option("--dry-run", is_flag=True, help="Clean and compare the columns with the hub's metadata; upload nothing.")
@click.option("--resume", "resume_path", type=click.Path(dir_okay=False), metavar="REPORT",
              help="Poll the jobs of an earlier push's report and map their errors; never uploads again.")
@input_options
@handle_errors
def push(file: str | None, output: str | None, rejects: str | None, report_path: str | None, output_format: str,
         out_delimiter: str | None, line_ending: str | None, max_rows: int | None, max_bytes: str | None, mode: str,
         id_field: str | None, callback_url: str | None, wait: bool, timeout: str, poll_interval: str, dry_run: bool,
         resume_path: str | None, **o: Any) -> None:
    """Clean FILE, upload it to the bulk API (one job per part, in order) and account for every row.

    Each row ends as rejected before upload, accepted by the target, rejected by the target (with
    its source line) or sent with an unknown outcome; the report says which. Credentials:
    CSVPREP_USER_SECRET, CSVPREP_ELEMENT_TOKEN (and CSVPREP_ORG_SECRET) in the environment.

    Exit code: 0 every row accepted, 1 some rows rejected (before or by the target), 2 could not run.

    \b
    Example:
        csvprep push contacts.csv --object contact --report push.json
        csvprep push leads.csv -c salesforce -O Lead --max-rows 10000 --report push.json
        csvprep push people.csv --connector hub --object people --hub db --mode upsert --id-field id
        csvprep push --resume push.json
    """
    from . import push as pushing

    def event(message: str) -> None:  # progress on a terminal only: a failure stays one line in logs
        if not o["quiet"] and sys.stderr.isatty():
            click.echo(message, err=True)

    if resume_path:
        if file or dry_run:
            raise _fail("--resume takes no FILE and no --dry-run: it only follows the jobs in its report")
        report = pushing.resume(resume_path, base_url=o.get("base_url"), wait=wait, timeout=timeout,
                                poll_interval=poll_interval, on_event=event)
    else:
        if not file:
            raise _fail("give the FILE to push (or --resume REPORT)")
        with progress_bar(o["quiet"]) as progress:
            options = build_options(o, progress, out_delimiter=out_delimiter, line_ending=line_ending,
                                    max_rows=max_rows, max_bytes=parse_size(max_bytes) if max_bytes else None,
                                    output_format=output_format)
            report = pushing.push(file, **target(o), hub=o.get("hub"), base_url=o.get("base_url"), output=output,
                                  mode=mode, id_field=id_field, callback_url=callback_url, wait=wait,
                                  timeout=timeout, poll_interval=poll_interval, report_path=report_path,
                                  dry_run=dry_run, on_event=event, rejects=rejects, options=options)
    if not o["quiet"]:
        click.echo(report.to_text(limit=10), err=True)
    sys.exit(push_exit_code(report, o["strict"], wait, dry_run))
