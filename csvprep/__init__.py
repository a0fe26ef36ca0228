"""csvprep: pre-flight checks and cleanup for CSV files headed to bulk APIs."""
from .api import Result, check, clean, clean_file, default_rejects_path, resolve_schema, write_report
from .errors import (ConnectorError, CsvprepError, EncodingError, HubError, InputError, OutputError, SchemaError,
                     SettingsError, UnknownObjectError)
from .options import Options
from .report import Report
from .schema import Field, Rule, Schema, list_connectors, list_objects, load_schema, map_header
from .signature import verify_signature

__all__ = [
    "ConnectorError", "CsvprepError", "EncodingError", "Field", "HubError", "InputError", "Options", "OutputError",
    "Report", "Result", "Rule", "Schema", "SchemaError", "SettingsError", "UnknownObjectError", "check", "clean",
    "clean_file", "default_rejects_path", "list_connectors", "list_objects", "load_schema", "map_header",
    "resolve_schema", "verify_signature",
    "write_report",
]
__version__ = "0.1.0"
