"""JSON Schemas (draft 2020-12) generated from the event models, and the compatibility rule.

`schemas/{id}.v{version}.json` is the published contract. A model change that would break an
existing consumer — a removed field, a field whose type changed, a new required field — must
come with a new major version instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from attrition.contracts.wire import SCHEMA_IDS

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generated_schemas() -> dict[str, dict[str, Any]]:
    """File name → schema, for every event model."""
    out: dict[str, dict[str, Any]] = {}
    for model, (schema_id, version) in SCHEMA_IDS.items():
        schema = model.model_json_schema(mode="serialization")
        schema = {
            "$schema": DIALECT,
            "$id": f"https://attrition.dev/schemas/{schema_id}.v{version}.json",
            **schema,
        }
        out[f"{schema_id}.v{version}.json"] = schema
    return out


def render(schema: dict[str, Any]) -> bytes:
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generated_schemas().items():
        path = directory / name
        path.write_bytes(render(schema))
        written.append(path)
    return written


def drift(directory: Path) -> list[str]:
    """Files whose content differs from what the models generate (or that are missing)."""
    problems = []
    for name, schema in generated_schemas().items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name}: missing (run `attrition schemas export`)")
        elif path.read_bytes() != render(schema):
            problems.append(f"{name}: differs from the model (run `attrition schemas export`)")
    return problems


def _type_of(prop: dict[str, Any]) -> Any:
    """A comparable description of a property's type, ignoring prose."""
    keep = ("type", "anyOf", "$ref", "items", "enum", "format", "const")
    return orjson.dumps({k: prop[k] for k in keep if k in prop}, option=orjson.OPT_SORT_KEYS)


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """What in `new` would break a consumer of `old`."""
    problems = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for field, prop in old_props.items():
        if field not in new_props:
            problems.append(f"{path}{field}: removed")
        elif _type_of(prop) != _type_of(new_props[field]):
            problems.append(f"{path}{field}: type changed")
    for field in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{path}{field}: newly required")
    for name, old_def in old.get("$defs", {}).items():
        new_def = new.get("$defs", {}).get(name)
        if new_def is None:
            problems.append(f"$defs.{name}: removed")
            continue
        if "enum" in old_def:
            removed = set(old_def["enum"]) - set(new_def.get("enum", []))
            problems.extend(f"$defs.{name}: value {v!r} removed" for v in sorted(removed))
        problems.extend(breaking_changes(old_def, new_def, f"$defs.{name}."))
    return problems


def check(directory: Path) -> list[str]:
    """Breaking changes of the models against the published schemas in `directory`."""
    problems: list[str] = []
    for name, schema in generated_schemas().items():
        path = directory / name
        if path.exists():
            published = orjson.loads(path.read_bytes())
            problems.extend(f"{name}: {p}" for p in breaking_changes(published, schema))
    return problems
