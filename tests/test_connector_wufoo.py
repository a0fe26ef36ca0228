"""Wufoo: schemas from a form's fields definition, entries with Field{N} headers."""
from __future__ import annotations

import polars as pl
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.connectors.wufoo import form_schema

from conftest import SAMPLE, write


def test_fields_json_becomes_a_schema() -> None:
    s = form_schema(SAMPLE / "wufoo-fields.json")
    f = {x.name: x for x in s.fields}
    assert list(f) == ["Field1", "Field2", "Field218", "Field220", "Field221", "Field217", "Field106", "Field222",
                       "Field108", "Field109", "Field209", "Field4", "Field5", "Field107"]
    assert f["Field1"].required and f["Field2"].required and f["Field218"].required
    assert f["Field218"].type == "email" and f["Field218"].aliases == ["Email"]
    assert (f["Field217"].type, f["Field217"].options) == ("date", {"format": "%Y%m%d"})
    assert (f["Field108"].type, f["Field108"].options) == ("checkbox", {"label": "Webinars"})
    assert f["Field209"].choices == ["Free", "Pro", "Enterprise"]
    assert f["Field4"].choices == ["Strongly Disagree", "Disagree", "Agree", "Strongly Agree"]
    assert "Satisfaction - Wufoo is Fun" in f["Field4"].aliases
    assert s.output["max_rows"] == 5000


def test_builtin_example_matches_the_generator() -> None:
    built_in = csvprep.load_schema("contact-form", "wufoo")
    assert built_in.to_dict() == form_schema(SAMPLE / "wufoo-fields.json", "contact-form").to_dict()


def test_entries_clean_with_titles_as_headers() -> None:
    r = csvprep.clean(SAMPLE / "wufoo-entries.csv", "contact-form", connector="wufoo")
    assert r.clean.to_dicts() == [{
        "Field1": "Ann", "Field2": "Smith", "Field218": "ann@example.com", "Field220": "+12015550123",
        "Field221": "https://example.com", "Field217": "20250314", "Field106": "12", "Field222": "1200.00",
        "Field108": "Webinars", "Field109": None, "Field209": "Pro", "Field4": "Agree",
        "Field107": "Two lines\nof text"}]
    rows = r.report.as_rows()
    assert [4, "Preferred Date", "date.invalid"] in rows and [4, "Name Last", "field.required"] in rows
    assert [4, "Plan", "field.choices"] in rows and [5, "Email", "email.invalid"] in rows
    assert [5, "Satisfaction - Wufoo is Fun", "enum.case_fixed"] in rows


def test_cli_from_wufoo_and_clean(tmp_path) -> None:
    yaml_path = tmp_path / "form.yaml"
    r = CliRunner().invoke(cli, ["schema", "from-wufoo", str(SAMPLE / "wufoo-fields.json"), "-o", str(yaml_path)])
    assert r.exit_code == 0, r.output
    src = write(tmp_path, "e.csv", "Field1,Field2,Field218\nAnn,Lee,ann@example.com\n")
    out = tmp_path / "clean.csv"
    r = CliRunner().invoke(cli, ["clean", str(src), "--schema", str(yaml_path), "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert pl.read_csv(out).row(0) == ("Ann", "Lee", "ann@example.com")


def test_bad_fields_files_are_one_line_errors(tmp_path) -> None:
    cases = {"broken.json": '{"Fields": [', "nofields.json": '{"Forms": []}', "system.json":
             '{"Fields": [{"Title": "Entry Id", "Type": "text", "ID": "EntryId"}]}'}
    for name, text in cases.items():
        r = CliRunner().invoke(cli, ["schema", "from-wufoo", str(write(tmp_path, name, text))])
        assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    r = CliRunner().invoke(cli, ["schema", "from-wufoo", str(tmp_path / "missing.json")])
    assert r.exit_code == 2 and "no such file" in r.output
    r = CliRunner().invoke(cli, ["schema", "from-wufoo", str(tmp_path / "broken.json")])
    assert "not valid JSON (line 1" in r.output


def test_checkbox_values_become_the_label(tmp_path) -> None:
    src = write(tmp_path, "e.csv", "Field1,Field2,Field218,Field108\n" + "".join(
        f"A,B,a{i}@x.com,{v}\n" for i, v in enumerate(["Webinars", "webinars", "yes", "X", "", "no", "maybe"])))
    r = csvprep.clean(src, "contact-form", connector="wufoo")
    assert r.clean["Field108"].to_list() == ["Webinars", "Webinars", "Webinars", "Webinars", None, None]
    assert r.report.as_rows()[-1] == [8, "Field108", "checkbox.invalid"]
