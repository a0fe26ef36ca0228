"""The library's Options and the checks made when a schema loads, before any data is read."""
from __future__ import annotations

import pytest

import csvprep
from csvprep import Options, SchemaError, SettingsError
from csvprep.schema import parse_schema

from conftest import write

FIELDS = [{"name": "a"}, {"name": "b"}]


def test_options_and_keywords_give_the_same_run(tmp_path):
    src = write(tmp_path, "c.csv", "C_EmailAddress,C_BusPhone\nann@example.com,020 7946 0958\n")
    by_options = csvprep.check(src, object="contact", options=Options(region="GB"))
    by_keyword = csvprep.check(src, object="contact", region="GB")
    assert by_options.as_rows() == by_keyword.as_rows()
    assert by_keyword.as_rows() != csvprep.check(src, object="contact").as_rows()  # US: not a valid number


def test_keywords_win_over_options(tmp_path):
    src = write(tmp_path, "c.csv", "C_EmailAddress,C_BusPhone\nann@example.com,020 7946 0958\n")
    assert (csvprep.check(src, object="contact", options=Options(region="US"), region="GB").as_rows()
            == csvprep.check(src, object="contact", region="GB").as_rows())


def test_bad_settings_are_refused_before_reading(tmp_path):
    missing = tmp_path / "does-not-exist.csv"  # never opened: the settings fail first
    with pytest.raises(SettingsError, match="unknown phone format 'foo'"):
        csvprep.check(missing, object="contact", phone_format="foo")
    with pytest.raises(TypeError, match="unknown option"):
        csvprep.check(missing, object="contact", regoin="GB")
    with pytest.raises(SettingsError):
        Options(chunk_bytes=0)


@pytest.mark.parametrize("rule, message", [
    ({"type": "requires", "fields": ["a"], "feild": "b"}, "unknown option(s) feild"),
    ({"type": "requires", "fields": ["a"]}, "needs the option `field`"),
    ({"type": "requires", "fields": ["a"], "field": "c"}, "names unknown field 'c'"),
    ({"type": "local_time", "fields": ["a"], "zone": "nope"}, "names unknown field 'nope'"),
    ({"type": "same_domain", "fields": ["a", "b"], "extra": 1}, "unknown option(s) extra"),
])
def test_rule_options_are_checked_when_the_schema_loads(rule, message):
    with pytest.raises(SchemaError) as exc:
        parse_schema({"object": "x", "fields": FIELDS, "rules": [rule]})
    assert message in str(exc.value)


def test_yaml_true_false_keys_are_the_options_named_true_and_false():
    import yaml

    data = yaml.safe_load("object: x\nfields:\n  - {name: a, type: boolean, true: Y, false: N}\n")
    f = parse_schema(data).field("a")
    assert f.options == {"true": "Y", "false": "N"}
