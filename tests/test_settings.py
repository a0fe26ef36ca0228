"""Every bad setting is refused before any data is read: exit 2 and one line from the CLI, a
CsvprepError subclass from the library, never a traceback or an "internal error"."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.errors import CsvprepError
from csvprep.options import Options

BASE = """connector: custom
object: thing
fields:
  - {name: Email, type: email}
"""
DATA = "Email,When,Amount,Phone\nanna@example.com,2024-05-31T10:00,1.5,2025550123\n"

# (case id, YAML text of a schema, a word the message must contain)
BAD_SCHEMAS = [
    ("zone-mars", BASE + "  - {name: When, type: datetime, timezone: Mars/Base}\n", "Mars/Base"),
    ("zone-localtime", BASE + "  - {name: When, type: datetime, timezone: localtime}\n", "localtime"),
    ("zone-factory", BASE + "  - {name: When, type: datetime, timezone: Factory}\n", "Factory"),
    ("zone-number", BASE + "  - {name: When, type: datetime, timezone: 5}\n", "zone"),
    ("date-format", BASE + '  - {name: When, type: date, format: "%Q"}\n', "%Q"),
    ("datetime-format", BASE + '  - {name: When, type: datetime, format: "%Q"}\n', "%Q"),
    ("date-input-format", BASE + '  - {name: When, type: date, input_formats: ["%Q"]}\n', "%Q"),
    ("date-input-not-list", BASE + '  - {name: When, type: date, input_formats: "%Y"}\n', "input_formats"),
    ("date-order", BASE + "  - {name: When, type: date, date_order: YMD}\n", "date_order"),
    ("min-above-max", BASE + "  - {name: Amount, type: integer, min: 10, max: 1}\n", "min"),
    ("min-text", BASE + "  - {name: Amount, type: integer, min: ten}\n", "min"),
    ("precision-below-scale", BASE + "  - {name: Amount, type: decimal, precision: 2, scale: 4}\n", "precision"),
    ("precision-text", BASE + "  - {name: Amount, type: decimal, precision: big}\n", "precision"),
    ("required-text", BASE + '  - {name: Amount, type: text, required: "no"}\n', "required"),
    ("required-number", BASE + "  - {name: Amount, type: text, required: 1}\n", "required"),
    ("choices-bool", BASE + "  - {name: Amount, type: enum, choices: yes}\n", "choices"),
    ("choices-text", BASE + "  - {name: Amount, type: enum, choices: a b c}\n", "choices"),
    ("enum-no-choices", BASE + "  - {name: Amount, type: enum}\n", "choices"),
    ("aliases-text", BASE + "  - {name: Amount, type: text, aliases: Sum}\n", "aliases"),
    ("unknown-top-key", BASE.replace("fields:", "fields:") + "feilds: []\n", "feilds"),
    ("unknown-type-option", BASE + "  - {name: Amount, type: decimal, scael: 2}\n", "scael"),
    ("unknown-type", BASE + "  - {name: Amount, type: money}\n", "money"),
    ("option-kind", BASE + '  - {name: Amount, type: text, collapse_spaces: "no"}\n', "collapse_spaces"),
    ("smtputf8-kind", BASE.replace("type: email}", "type: email, allow_smtputf8: maybe}"), "allow_smtputf8"),
    ("shared-alias", BASE + "  - {name: Work, type: text, aliases: [Mail]}\n  - {name: Home, type: text, aliases: [mail]}\n",
     "Mail"),
    ("alias-is-other-field", BASE + "  - {name: Work, type: text, aliases: [Email]}\n", "Email"),
    ("phone-region", BASE + "  - {name: Phone, type: phone, region: XX}\n", "XX"),
    ("phone-format", BASE + "  - {name: Phone, type: phone, format: LOCAL}\n", "format"),
    ("boolean-token", BASE + "  - {name: Amount, type: boolean, true: [a, b]}\n", "true"),
    ("boolean-same-tokens", BASE + "  - {name: Amount, type: boolean, true: x, false: x}\n", "differ"),
    ("min-length-above-max", BASE + "  - {name: Amount, type: text, min_length: 5, max_length: 2}\n", "min_length"),
    ("unknown-rule-option", BASE + "rules:\n  - {type: same_domain, fields: [Email, Email], colour: red}\n", "colour"),
    ("unknown-rule", BASE + "rules:\n  - {type: same_colour, fields: [Email]}\n", "same_colour"),
]


def one_line_exit_2(result) -> str:
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert "\n" not in err and err.startswith("Error: "), err
    assert "Traceback" not in result.output and "internal error" not in result.output
    return err


@pytest.fixture
def data(tmp_path: Path) -> Path:
    p = tmp_path / "data.csv"
    p.write_text(DATA, encoding="utf-8")
    return p


@pytest.mark.parametrize("case,text,word", BAD_SCHEMAS, ids=[c[0] for c in BAD_SCHEMAS])
def test_bad_schema_is_refused_by_cli_and_library(case: str, text: str, word: str, tmp_path: Path,
                                                  data: Path) -> None:
    schema = tmp_path / f"{case}.yaml"
    schema.write_text(text, encoding="utf-8")
    for command in (["check", str(data), "--schema", str(schema)],
                    ["clean", str(data), "--schema", str(schema), "-o", str(tmp_path / "out.csv")]):
        err = one_line_exit_2(CliRunner().invoke(cli, command))
        assert word.lower() in err.lower()
    assert not (tmp_path / "out.csv").exists()
    with pytest.raises(CsvprepError, match="(?i)" + __import__("re").escape(word)):
        csvprep.check(data, schema=schema)


def test_the_base_schema_is_fine(tmp_path: Path, data: Path) -> None:
    schema = tmp_path / "ok.yaml"
    schema.write_text(BASE + "  - {name: When, type: datetime, timezone: Europe/Zurich}\n"
                      "  - {name: Amount, type: decimal, precision: 4, scale: 2}\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["check", str(data), "--schema", str(schema)]).exit_code == 0


BAD_OPTIONS = [
    (["--region", "XX"], {"region": "XX"}, "XX"),
    (["--region", "44"], {"region": "44"}, "44"),
    (["--region", ""], {"region": ""}, "region"),
    (["--phone-format", "foo"], {"phone_format": "foo"}, "foo"),
    (["--chunk-size", "0"], {"chunk_bytes": 0}, "size"),
    (["-e", "nosuch"], {"encoding": "nosuch"}, "nosuch"),
    (["-e", "utf-16"], {"encoding": "utf-16"}, "byte-order"),
    (["-e", "utf-32"], {"encoding": "utf-32"}, "byte-order"),
]


@pytest.mark.parametrize("args,settings,word", BAD_OPTIONS, ids=[" ".join(a) for a, _, _ in BAD_OPTIONS])
def test_bad_option_is_refused_by_cli_and_library(args: list[str], settings: dict, word: str, data: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(data), "-O", "contact", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output and "internal error" not in result.output
    assert word.lower() in result.output.lower()
    one_line_exit_2(result)
    with pytest.raises(CsvprepError, match="(?i)" + __import__("re").escape(word)):
        csvprep.check(data, "contact", **settings)


def test_options_refuse_bad_values_when_built() -> None:
    with pytest.raises(CsvprepError):
        Options(phone_format="foo")
    with pytest.raises(CsvprepError):
        Options(region="ZZ")
    assert Options(region="gb").region == "GB"


@pytest.mark.parametrize("column", [pl.Series("Email", [["a@b.com"]]), pl.Series("Email", [{"a": 1}]),
                                    pl.Series("Email", [b"a@b.com"])], ids=["list", "struct", "binary"])
def test_a_frame_with_nested_columns_is_refused(column: pl.Series) -> None:
    frame = pl.DataFrame([column])
    with pytest.raises(CsvprepError, match="Email"):
        csvprep.clean(frame, "contact")


def test_yaml_booleans_as_the_boolean_tokens(tmp_path: Path) -> None:
    schema = tmp_path / "b.yaml"
    schema.write_text("object: b\nfields:\n  - {name: Opt, type: boolean, true: yes, false: no, required: yes}\n"
                      "  - {name: Kind, type: enum, choices: [Yes, No, Maybe]}\n", encoding="utf-8")
    data = tmp_path / "b.csv"
    data.write_text("Opt,Kind\ntrue,no\nN,maybe\n", encoding="utf-8")
    result = csvprep.clean(data, schema=schema)
    assert result.clean.to_dicts() == [{"Opt": "yes", "Kind": "No"}, {"Opt": "no", "Kind": "Maybe"}]
