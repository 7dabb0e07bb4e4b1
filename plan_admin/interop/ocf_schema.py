"""The official OCF 1.2.0 JSON schemas, read offline from settings.OCF_SCHEMA_DIR, and validation against them.

Every schema's `$id` is its canonical URL; a `referencing.Registry` maps each of them to its file, so that
validation never touches the network. Objects are validated one at a time against the schema of their
`object_type` (so that an export can stop at the first bad object, and an import can name every bad one); a file is
validated as its wrapper (file_type, items) plus each item, which is what the file schema's `items` says.

Two engines read the same files. `jsonschema` with the registry is the reference, and writes every message. A
100,000-issuance export cannot afford its ~0.6 ms per object, so `check_object()` first runs a validator that
`fastjsonschema` compiles from the same schema with its $refs inlined (~20 µs); only an object it refuses is run
through `jsonschema` to name the field. The tests validate every exported file with `jsonschema` alone.

Messages name the file, the object (its type and id) and the field: "Transactions.ocf.json: TX_STOCK_ISSUANCE
'abc' (item 3): quantity: is required".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import fastjsonschema
from django.conf import settings
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

OCF_VERSION = "1.2.0"
SCHEMA_BASE = f"https://schema.opencaptablecoalition.com/v/{OCF_VERSION}/"
MANIFEST_SCHEMA = SCHEMA_BASE + "files/OCFManifestFile.schema.json"


class OcfSchemaMissing(RuntimeError):
    """The schema directory is not where settings.OCF_SCHEMA_DIR says."""


@dataclass(frozen=True)
class Schemas:
    directory: Path
    registry: Registry
    by_id: dict[str, dict]
    object_schemas: dict[str, str]  # object_type -> schema $id
    file_schemas: dict[str, str]  # file_type -> schema $id
    file_item_types: dict[str, frozenset[str]]  # file_type -> the object types its items may be


def schema_dir() -> Path:
    return Path(_schema_dir(str(getattr(settings, "OCF_SCHEMA_DIR", "") or "")))


def _directory_key() -> str:
    return _schema_dir(str(getattr(settings, "OCF_SCHEMA_DIR", "") or ""))


@lru_cache(maxsize=8)
def _schema_dir(setting: str) -> str:
    """The resolved schema directory for a value of the setting (checked once; a missing one is not cached)."""
    directory = Path(setting)
    if not (directory / "objects" / "Issuer.schema.json").is_file():
        raise OcfSchemaMissing(
            f"The OCF {OCF_VERSION} schemas are not at {directory} (settings.OCF_SCHEMA_DIR, environment variable "
            "OCF_SCHEMA_DIR): point it at the schema/ folder of the official OCF 1.2.0 release "
            "(…/ocf-1.2.0/schema). Nothing can be exported or imported without them."
        )
    return str(directory.resolve())


def schemas() -> Schemas:
    return _load(_directory_key())


def _refs(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            found += _refs(value)
    elif isinstance(node, list):
        for value in node:
            found += _refs(value)
    return found


def _object_types(contents: dict) -> list[str]:
    """The object_type values a schema accepts: its const, or (for the equity compensation / plan security
    aliases of 1.2.0) its enum."""
    spec = contents.get("properties", {}).get("object_type", {})
    if "const" in spec:
        return [spec["const"]]
    return list(spec.get("enum", []))


@lru_cache(maxsize=4)
def _load(directory: str) -> Schemas:
    by_id: dict[str, dict] = {}
    for path in sorted(Path(directory).rglob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        by_id[contents["$id"]] = contents
    registry = Registry().with_resources(
        (uri, Resource.from_contents(contents, default_specification=DRAFT7)) for uri, contents in by_id.items()
    )
    object_schemas, file_schemas = {}, {}
    for uri, contents in by_id.items():
        if uri.startswith(SCHEMA_BASE + "objects/"):
            for object_type in _object_types(contents):
                object_schemas[object_type] = uri
        file_const = contents.get("properties", {}).get("file_type", {}).get("const")
        if file_const and uri.startswith(SCHEMA_BASE + "files/"):
            file_schemas[file_const] = uri
    file_item_types = {}
    for file_type, uri in file_schemas.items():
        items = by_id[uri].get("properties", {}).get("items", {}).get("items", {})
        types = {object_type for ref in _refs(items) if ref in by_id for object_type in _object_types(by_id[ref])}
        file_item_types[file_type] = frozenset(types)
    return Schemas(Path(directory), registry, by_id, object_schemas, file_schemas, file_item_types)


@lru_cache(maxsize=128)
def _validator(directory: str, uri: str) -> Draft7Validator:
    loaded = _load(directory)
    return Draft7Validator(loaded.by_id[uri], registry=loaded.registry, format_checker=Draft7Validator.FORMAT_CHECKER)


def validator(uri: str) -> Draft7Validator:
    return _validator(_directory_key(), uri)


def _field(error: ValidationError) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        return f"{path}.{missing}" if path else missing
    if error.validator == "additionalProperties" and "'" in error.message:
        extra = error.message.split("'")[1]
        return f"{path}.{extra}" if path else extra
    return path or "(the object)"


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return "is not a field of this OCF object"
    if error.validator == "const":
        return f"must be {json.dumps(error.validator_value)}"
    if error.validator == "enum":
        return f"{json.dumps(error.instance)} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "pattern":
        return f"{json.dumps(error.instance)} is not in the expected form"
    return error.message


def describe(error: ValidationError) -> str:
    """One sentence naming the field: "quantity: is required", "stakeholder_type: "PERSON" is not one of ..."."""
    if error.context:  # oneOf / anyOf: the branch that came closest says most
        deepest = best_match(error.context)
        if deepest is not None:
            error = deepest
    return f"{_field(error)}: {_message(error)}"


def object_errors(obj) -> list[str]:
    """Every schema error of one OCF object, each naming its field; [] when it is valid."""
    if not isinstance(obj, dict):
        return ["(the object): is not a JSON object"]
    object_type = obj.get("object_type")
    uri = schemas().object_schemas.get(object_type) if isinstance(object_type, str) else None
    if uri is None:
        return [f"object_type: {json.dumps(object_type)} is not an OCF {OCF_VERSION} object type"]
    errors = sorted(validator(uri).iter_errors(obj), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [describe(error) for error in errors]


def wrapper_errors(document: dict, *, expected_file_type: str | None = None) -> list[str]:
    """Errors of an OCF file's wrapper (its file_type and that it has an `items` list); items checked apart."""
    if not isinstance(document, dict):
        return ["(the file): is not a JSON object"]
    file_type = document.get("file_type")
    if expected_file_type and file_type != expected_file_type:
        return [f"file_type: must be {json.dumps(expected_file_type)}, not {json.dumps(file_type)}"]
    uri = schemas().file_schemas.get(file_type) if isinstance(file_type, str) else None
    if uri is None:
        return [f"file_type: {json.dumps(file_type)} is not an OCF {OCF_VERSION} file type"]
    shell = dict(document)
    if file_type != "OCF_MANIFEST_FILE":
        if not isinstance(shell.get("items"), list):
            return ["items: is required, a list of objects"]
        shell["items"] = []
    return [describe(error) for error in validator(uri).iter_errors(shell)]


def _inline(node, by_id: dict, seen: tuple = ()):
    """The schema with every $ref replaced by its target (OCF 1.2.0 has no recursive refs)."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"recursive $ref {ref}")
            target = _inline(by_id[ref], by_id, seen + (ref,))
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return {"allOf": [target, _inline(rest, by_id, seen)]} if rest else target
        return {
            key: _inline(value, by_id, seen) for key, value in node.items() if key not in ("$id", "$schema", "$comment")
        }
    if isinstance(node, list):
        return [_inline(value, by_id, seen) for value in node]
    return node


@lru_cache(maxsize=128)
def _fast(directory: str, uri: str):
    loaded = _load(directory)
    flat = _inline(loaded.by_id[uri], loaded.by_id)
    flat["$schema"] = "http://json-schema.org/draft-07/schema"
    return fastjsonschema.compile(flat)


def check_object(obj) -> list[str]:
    """object_errors(), fast when the object is valid (the usual case of an export)."""
    if isinstance(obj, dict) and isinstance(obj.get("object_type"), str):
        key = _directory_key()
        uri = _load(key).object_schemas.get(obj["object_type"])
        if uri is not None:
            try:
                _fast(key, uri)(obj)
                return []
            except fastjsonschema.JsonSchemaException as error:
                return object_errors(obj) or [f"{error.message.removeprefix('data.').removeprefix('data ')}"]
    return object_errors(obj)


def item_allowed(file_type: str, obj) -> bool:
    return isinstance(obj, dict) and obj.get("object_type") in schemas().file_item_types.get(file_type, ())


def name_of(obj, index: int | None = None) -> str:
    """How a message names an object: TX_STOCK_ISSUANCE 'abc' (item 3)."""
    if not isinstance(obj, dict):
        return f"item {index}" if index is not None else "an item"
    text = f"{obj.get('object_type', 'object')} {json.dumps(obj.get('id')) if 'id' in obj else '(no id)'}"
    return f"{text} (item {index})" if index is not None else text
