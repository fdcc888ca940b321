"""What several of the suite's own test modules share."""

import json
from pathlib import Path

import pytest

from dlspec import report

TESTS = Path(__file__).parent.parent
"""The tests folder: the conformance modules that nested sessions run."""


def validated(document):
    """The report, checked against its published schema (``dlspec/report/schema.json``)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(report.SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)
    return document
