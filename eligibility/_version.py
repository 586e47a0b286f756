"""The version of the tool (pyproject.toml's; tests/test_records.py checks they agree)."""

__version__ = "0.1.0"
