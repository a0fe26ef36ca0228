"""csvprep: pre-flight checks and cleanup for CSV files headed to bulk APIs."""
from .api import Result, check, clean, clean_file, default_rejects_path, write_report
from .errors import (ConnectorError, CsvprepError, EncodingError, InputError, OutputError, SchemaError,
                     UnknownObjectError)
from .report import Report
from .schema import Field, Rule, Schema, list_connectors, list_objects, load_schema, map_header

__all__ = [
    "ConnectorError", "CsvprepError", "EncodingError", "Field", "InputError", "OutputError", "Report",
    "Result", "Rule", "Schema", "SchemaError", "UnknownObjectError", "check", "clean", "clean_file",
    "default_rejects_path", "list_connectors", "list_objects", "load_schema", "map_header", "write_report",
]
__version__ = "0.1.0"
