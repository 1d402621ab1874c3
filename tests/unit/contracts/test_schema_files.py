"""schemas/ is generated from the models: a test fails on drift, and the compatibility rule
catches what would break a consumer."""

from __future__ import annotations

import copy
from pathlib import Path

from attrition.contracts import schema_files

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_committed_schemas_match_the_models() -> None:
    assert schema_files.drift(SCHEMAS) == []


def test_committed_schemas_are_compatible_with_the_models() -> None:
    assert schema_files.check(SCHEMAS) == []


def test_every_event_type_has_a_versioned_draft_2020_12_schema() -> None:
    names = set(schema_files.generated_schemas())
    assert {
        "loss-event.v1.json",
        "delta-event.v1.json",
        "alert-event.v1.json",
        "dead-letter.v1.json",
        "raw-document.v1.json",
    } <= names
    for schema in schema_files.generated_schemas().values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_removed_field_retyped_field_and_new_required_field_are_breaking() -> None:
    old = schema_files.generated_schemas()["loss-event.v1.json"]
    new = copy.deepcopy(old)
    del new["properties"]["label"]
    new["properties"]["total"] = {"type": "string"}
    new["properties"]["region"] = {"type": "string"}
    new["required"] = [*new["required"], "region"]
    problems = schema_files.breaking_changes(old, new)
    assert "label: removed" in problems
    assert "total: type changed" in problems
    assert "region: newly required" in problems


def test_new_optional_field_is_compatible() -> None:
    old = schema_files.generated_schemas()["delta-event.v1.json"]
    new = copy.deepcopy(old)
    new["properties"]["note"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert schema_files.breaking_changes(old, new) == []


def test_removed_enum_value_is_breaking() -> None:
    old = schema_files.generated_schemas()["loss-event.v1.json"]
    new = copy.deepcopy(old)
    new["$defs"]["Category"]["enum"].remove("tanks")
    assert "$defs.Category: value 'tanks' removed" in schema_files.breaking_changes(old, new)
