"""Exceptions meaning "csvprep cannot proceed"; data problems are issues, not exceptions."""
from __future__ import annotations


class CsvprepError(Exception):
    """csvprep could not run."""

    exit_code = 2  # the CLI's exit code for this error

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class InputError(CsvprepError):
    """The input file cannot be read."""


class EncodingError(InputError):
    """The input file is not in the detected or given encoding."""


class SchemaError(CsvprepError):
    """The schema file is invalid."""


class UnknownObjectError(CsvprepError):
    """No built-in schema has that name."""


class OutputError(CsvprepError):
    """An output file cannot be written."""


def working_files_error(exc: OSError) -> OutputError:
    """A temporary working file (issues, key index) could not be written: where, and what to do."""
    import tempfile

    return OutputError(f"cannot write csvprep's working files in {tempfile.gettempdir()} ({exc.strerror or exc}): "
                       "free some space there or set TMPDIR to a folder with room")


class ConnectorError(CsvprepError):
    """A connector (database, form definition) could not be read."""


class SettingsError(CsvprepError):
    """A setting (option, schema value) is invalid."""


class HubError(ConnectorError):
    """The bulk API could not be used."""


class HubCredentialsError(HubError):
    """Credentials for the bulk API are missing or refused: set CSVPREP_USER_SECRET and CSVPREP_ELEMENT_TOKEN."""


class HubResponseError(HubError):
    """The bulk API gave an answer csvprep cannot read."""


class JobFailedError(HubError):
    """A bulk job ended badly."""


class PushTimeoutError(HubError):
    """The bulk jobs did not end in time."""


class EngineError(CsvprepError):
    """The Ray engine is not installed: pip install 'csvprep[ray]' (or pip install 'ray[data]')."""
