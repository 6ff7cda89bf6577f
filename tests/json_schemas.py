"""Validate a document against the schema `shmtop schema NAME` prints, made strict."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import hidden
from jsonschema import Draft202012Validator


@cache
def schema_text(name: str) -> str:
    done = hidden.run(["schema", name], nobody=False)
    assert done.code == 0, done
    return done.stdout


def strict(node: Any) -> Any:
    """The schema with additionalProperties false on every object with properties: a field
    the schema does not name fails (the published schema lets readers meet new fields)."""
    if isinstance(node, dict):
        tight = {key: strict(value) for key, value in node.items()}
        if "properties" in tight:
            tight["additionalProperties"] = False
        return tight
    if isinstance(node, list):
        return [strict(value) for value in node]
    return node


def validate(name: str, document: Any) -> None:
    """Fails with the count of the errors jsonschema finds, and the first ten."""
    validator = Draft202012Validator(strict(json.loads(schema_text(name))))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == [], f"{len(errors)} errors, the first: {errors[:10]}"
