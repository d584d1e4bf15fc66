"""Avro single-object encoding of the event contract (``schemas/*.avsc``).

Wire format (Avro 1.11 specification, "Single-object encoding")::

    0xC3 0x01 | 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema | Avro binary body

Every record names its writer schema, so a reader resolves it against its own version of the same
schema (Avro schema resolution): new optional fields are ignored by old readers and defaulted for
new ones. Timestamps stay integers (UTC milliseconds): the decoder reads with a copy of each schema
whose ``logicalType`` annotations are removed, which keeps ``datetime`` objects off the hot path.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form
from fastavro.validation import validate

from glucosestream.resources import project_path

MAGIC = b"\xc3\x01"
HEADER_LENGTH = len(MAGIC) + 8
READING_SCHEMA = "io.glucosestream.GlucoseReading"
ALERT_SCHEMA = "io.glucosestream.GlucoseAlert"
TREATMENT_SCHEMA = "io.glucosestream.GlucoseTreatment"
ERASURE_SCHEMA = "io.glucosestream.GlucoseReadingErasure"
_SCHEMA_FILE = re.compile(r"^(?P<stem>[a-z0-9_]+)\.v(?P<version>\d+)\.avsc$")


class CodecError(ValueError):
    """Bytes that are not a valid record of a known schema, or a record that does not fit its
    schema. The message says what is wrong; it never contains the record's values."""


@dataclass(frozen=True)
class SchemaVersion:
    full_name: str
    version: int
    path: Path
    parsed: dict[str, Any]
    plain: dict[str, Any]
    """The same schema without logical types: timestamps read as int milliseconds."""
    fingerprint: bytes


def _strip_logical_types(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_strip_logical_types(item) for item in node]
    return node


def load_schema(path: Path) -> SchemaVersion:
    match = _SCHEMA_FILE.match(path.name)
    if match is None:
        raise CodecError(f"schema file name {path.name!r} is not <name>.v<N>.avsc")
    raw = json.loads(path.read_text())
    parsed = fastavro.parse_schema(copy.deepcopy(raw))
    plain = fastavro.parse_schema(_strip_logical_types(raw))
    if not isinstance(parsed, dict) or not isinstance(plain, dict):
        raise CodecError(f"{path.name} is not an Avro record schema")
    canonical = to_parsing_canonical_form(parsed)
    return SchemaVersion(
        full_name=parsed["name"],
        version=int(match["version"]),
        path=path,
        parsed=parsed,
        plain=plain,
        fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
    )


class Codec:
    """Encodes and decodes single-object Avro records against a set of known schema versions.

    Parameters
    ----------
    schemas
        Every schema version this codec knows. A record is decodable when its writer schema is
        among them; it is read as the newest known version of the same schema (the reader schema).
    read_as
        Pin the reader (and writer) version of a schema, e.g. a consumer not yet upgraded.
    """

    def __init__(
        self, schemas: Iterable[SchemaVersion], read_as: Mapping[str, int] | None = None
    ) -> None:
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        self._newest: dict[str, SchemaVersion] = {}
        for schema in schemas:
            self._by_fingerprint[schema.fingerprint] = schema
            newest = self._newest.get(schema.full_name)
            if newest is None or schema.version > newest.version:
                self._newest[schema.full_name] = schema
        for full_name, version in (read_as or {}).items():
            matches = [
                s
                for s in self._by_fingerprint.values()
                if s.full_name == full_name and s.version == version
            ]
            if not matches:
                raise CodecError(f"no version {version} of {full_name} to read as")
            self._newest[full_name] = matches[0]

    @classmethod
    def from_directory(cls, directory: Path) -> Codec:
        return cls(load_schema(path) for path in sorted(directory.glob("*.avsc")))

    def schema(self, full_name: str) -> SchemaVersion:
        try:
            return self._newest[full_name]
        except KeyError:
            raise CodecError(f"unknown schema {full_name}") from None

    def encode(
        self, record: dict[str, Any], full_name: str = READING_SCHEMA, *, validated: bool = False
    ) -> bytes:
        """Encode with the newest version of ``full_name``; raises CodecError if it does not fit.

        ``validated=True`` skips the schema check for records whose types are already checked
        (``GlucoseReading`` checks its own on construction): fastavro's writer alone would
        truncate a float into an int field and write an out-of-range int without a word.
        """
        schema = self.schema(full_name)
        if not validated:
            try:
                validate(record, schema.plain, raise_errors=True)
            except Exception as invalid:  # fastavro raises ValidationError, TypeError, ValueError
                raise CodecError(
                    f"record does not fit {full_name} v{schema.version}: {invalid}"
                ) from None
        body = io.BytesIO()
        body.write(MAGIC)
        body.write(schema.fingerprint)
        fastavro.schemaless_writer(body, schema.plain, record)
        return body.getvalue()

    def decode(self, data: bytes, expect: str | None = READING_SCHEMA) -> dict[str, Any]:
        """Decode one record; raises CodecError for anything that is not a whole valid record.

        ``expect`` names the schema the caller can handle (None accepts any known schema).
        """
        return self.decode_with_schema(data, expect)[0]

    def decode_with_schema(
        self, data: bytes, expect: str | None = READING_SCHEMA
    ) -> tuple[dict[str, Any], SchemaVersion]:
        if len(data) < HEADER_LENGTH:
            raise CodecError(f"record of {len(data)} bytes is shorter than the 10-byte header")
        if data[:2] != MAGIC:
            raise CodecError(f"wrong magic {data[:2].hex()}: not Avro single-object encoding")
        writer = self._by_fingerprint.get(data[2:HEADER_LENGTH])
        if writer is None:
            raise CodecError(f"unknown schema fingerprint {data[2:HEADER_LENGTH].hex()}")
        if expect is not None and writer.full_name != expect:
            raise CodecError(f"record is a {writer.full_name}, expected {expect}")
        reader = self._newest[writer.full_name]
        body = io.BytesIO(data)
        body.seek(HEADER_LENGTH)
        try:
            if reader is writer:
                record = fastavro.schemaless_reader(body, writer.plain, None)
            else:
                record = fastavro.schemaless_reader(body, writer.plain, reader.plain)
        except Exception as broken:  # EOFError, IndexError (bad enum), UnicodeDecodeError, ...
            reason = type(broken).__name__
            raise CodecError(
                f"{writer.full_name} v{writer.version} body is corrupt or truncated ({reason})"
            ) from None
        if body.tell() != len(data):
            raise CodecError(
                f"{len(data) - body.tell()} trailing bytes after a {writer.full_name} record"
            )
        if not isinstance(record, dict):
            raise CodecError(f"{writer.full_name} body did not decode to a record")
        return record, reader


_default: Codec | None = None


def default_codec() -> Codec:
    """The codec over the repository's ``schemas/`` directory (loaded once per process)."""
    global _default
    if _default is None:
        _default = Codec.from_directory(project_path("schemas"))
    return _default
