"""Salesforce Service Cloud: built-in objects, header mapping, formats and limits."""
from __future__ import annotations

import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli

from conftest import SAMPLE, write


@pytest.mark.parametrize("obj", ["Contact", "Account", "Case", "Lead"])
def test_objects_load_with_bulk_defaults(obj: str) -> None:
    s = csvprep.load_schema(obj, "salesforce")
    assert s.object == obj and s.connector == "salesforce"
    assert s.output["max_rows"] == 10000 and s.output["max_bytes"] == "10MB"


def test_contact_limits_and_required() -> None:
    s = csvprep.load_schema("contact", "salesforce")
    lengths = {f.name: f.max_length for f in s.fields}
    assert (lengths["Email"], lengths["Phone"], lengths["FirstName"], lengths["LastName"], lengths["Title"]) == (
        80, 40, 40, 80, 128)
    assert [f.name for f in s.fields if f.required] == ["LastName"]


def test_sample_contact_maps_human_headers_and_normalises() -> None:
    result = csvprep.clean(SAMPLE / "salesforce-contact.csv", "Contact", connector="salesforce")
    assert result.clean.columns[:4] == ["LastName", "FirstName", "Salutation", "Email"]
    assert "MobilePhone" in result.clean.columns and "HasOptedOutOfEmail" in result.clean.columns
    first = result.clean.row(0, named=True)
    assert first["Email"] == "norm.smith@acme.com"
    assert first["Birthdate"] == "1980-03-14"
    assert first["HasOptedOutOfEmail"] == "true"
    assert first["Salutation"] == "Mr."
    assert first["EmailBouncedDate"] == "2024-05-01T13:30:00.000Z"
    assert result.clean.row(1, named=True)["HasOptedOutOfEmail"] == "false"
    rows = result.report.as_rows()
    assert [4, "Last Name", "field.required"] in rows
    assert [5, "Email", "email.invalid"] in rows
    assert [5, "Email Opt Out", "boolean.invalid"] in rows
    assert [6, "Last Name", "field.too_long"] in rows
    assert [6, "Email Bounced Date", "datetime.invalid"] in rows
    assert result.report.rejected == 3


def test_case_picklists_and_relationship_column(tmp_path) -> None:
    p = write(tmp_path, "case.csv", "Subject,Priority,Origin,Contact Email,Escalated\n"
              "Printer on fire,high,email,ann@example.com,Y\nNo toner,urgent,Fax,bob@,1\n")
    result = csvprep.clean(p, "case", connector="salesforce")
    assert result.clean.to_dicts() == [{"Subject": "Printer on fire", "Priority": "High", "Origin": "Email",
                                        "Contact.Email": "ann@example.com", "IsEscalated": "true"}]
    codes = {c for _, _, c in result.report.as_rows()}
    assert {"field.choices", "email.invalid"} <= codes


def test_cli_clean_salesforce(tmp_path) -> None:
    out = tmp_path / "contact.csv"
    r = CliRunner().invoke(cli, ["clean", str(SAMPLE / "salesforce-contact.csv"), "-c", "salesforce",
                                 "-O", "Contact", "-o", str(out), "-q"])
    assert r.exit_code == 1, r.output
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.height == 2 and frame["LastName"].to_list() == ["Smith", "Doe"]


def test_objects_lists_salesforce() -> None:
    r = CliRunner().invoke(cli, ["objects", "--connector", "salesforce"])
    assert r.exit_code == 0
    assert [line.split()[1] for line in r.output.splitlines()] == ["Account", "Case", "Contact", "Lead"]
