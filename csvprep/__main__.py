"""`python -m csvprep`: the command line."""
from .cli import cli

cli(prog_name="csvprep")
