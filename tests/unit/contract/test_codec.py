"""Avro single-object encoding: round trips, evolution, and rejection of anything else."""

from __future__ import annotations

import contextlib
import json
import struct
from pathlib import Path

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.contract.codec import (
    ALERT_SCHEMA,
    HEADER_LENGTH,
    MAGIC,
    READING_SCHEMA,
    Codec,
    CodecError,
    default_codec,
    load_schema,
)
from glucosestream.domain.reading import GlucoseReading, ReadingStatus
from glucosestream.resources import project_path
from tests.factories import reading, trace

SCHEMAS = project_path("schemas")


@pytest.fixture(scope="module")
def codec() -> Codec:
    return default_codec()


def test_round_trip_gives_the_same_reading(codec: Codec) -> None:
    for original in trace(3, 50):
        decoded = GlucoseReading.from_record(codec.decode(codec.encode(original.to_record())))
        assert decoded == original


def test_header_is_magic_then_little_endian_crc64_fingerprint(codec: Codec) -> None:
    data = codec.encode(reading().to_record())
    assert data[:2] == MAGIC
    # Independent check of the fingerprint: the Avro spec's CRC-64-AVRO (Rabin) over the
    # parsing canonical form, written little-endian.
    canonical = fastavro.schema.to_parsing_canonical_form(
        fastavro.parse_schema(json.loads((SCHEMAS / "glucose_reading.v1.avsc").read_text()))
    ).encode()
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in canonical:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    assert data[2:HEADER_LENGTH] == struct.pack("<Q", fp)


def test_body_is_plain_avro_binary_readable_by_any_avro_library(codec: Codec) -> None:
    original = reading(glucose_mg_dl=63)
    data = codec.encode(original.to_record())
    schema = fastavro.parse_schema(json.loads((SCHEMAS / "glucose_reading.v1.avsc").read_text()))
    import io

    record = fastavro.schemaless_reader(io.BytesIO(data[HEADER_LENGTH:]), schema, None)
    assert record["glucose_mg_dl"] == 63
    assert int(record["measured_at"].timestamp() * 1000) == original.measured_at


def test_timestamps_decode_as_integer_milliseconds(codec: Codec) -> None:
    record = codec.decode(codec.encode(reading().to_record()))
    assert isinstance(record["measured_at"], int)
    assert isinstance(record["produced_at"], int)


def test_alert_schema_round_trip(codec: Codec) -> None:
    alert = {
        "alert_id": "a" * 32,
        "patient_id": reading().patient_id,
        "kind": "URGENT_LOW",
        "severity": "CRITICAL",
        "measured_at": 1_767_571_200_000,
        "utc_offset_minutes": 60,
        "glucose_mg_dl": 51,
        "episode_start": 1_767_570_900_000,
        "rate_mg_dl_per_min": -1.8,
        "projected_mg_dl": None,
        "raised_at": 1_767_571_201_000,
    }
    # Written before repeat and silenced existed: they decode with their defaults.
    data = codec.encode(alert, ALERT_SCHEMA)
    assert codec.decode(data, expect=ALERT_SCHEMA) == {**alert, "repeat": 0, "silenced": False}
    repeat = {**alert, "alert_id": "b" * 32, "repeat": 2, "silenced": False}
    assert codec.decode(codec.encode(repeat, ALERT_SCHEMA), expect=ALERT_SCHEMA) == repeat
    with pytest.raises(CodecError, match=r"expected io\.glucosestream\.GlucoseReading"):
        codec.decode(data)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[:5], "shorter than the 10-byte header"),
        (lambda d: b"\x00\x01" + d[2:], "wrong magic"),
        (lambda d: d[:2] + b"\xff" * 8 + d[10:], "unknown schema fingerprint"),
        (lambda d: d[:-3], "corrupt or truncated"),
        (lambda d: d + b"\x00", "trailing bytes"),
        (lambda d: d[:HEADER_LENGTH], "corrupt or truncated"),
    ],
)
def test_malformed_bytes_raise_codec_error(codec: Codec, mutate, message: str) -> None:
    data = codec.encode(reading().to_record())
    with pytest.raises(CodecError, match=message):
        codec.decode(mutate(data))


def test_bad_enum_index_is_a_codec_error(codec: Codec) -> None:
    ok = codec.encode(reading().to_record())
    calibration = codec.encode(reading(status=ReadingStatus.CALIBRATION).to_record())
    (position,) = [i for i, (a, b) in enumerate(zip(ok, calibration, strict=True)) if a != b]
    data = bytearray(ok)
    data[position] = 0x7E  # symbol 63: out of range for a 5-symbol enum
    with pytest.raises(CodecError, match="corrupt or truncated"):
        codec.decode(bytes(data))


@pytest.mark.parametrize(
    ("field", "value"),
    [("glucose_mg_dl", "112"), ("status", "GOOD"), ("measured_at", None), ("trend", 3)],
)
def test_encoding_a_record_that_does_not_fit_raises(codec: Codec, field: str, value) -> None:
    record = reading().to_record()
    record[field] = value
    with pytest.raises(CodecError, match="does not fit"):
        codec.encode(record)


def test_missing_field_is_rejected_on_encode(codec: Codec) -> None:
    record = reading().to_record()
    del record["device_id"]
    with pytest.raises(CodecError, match="does not fit"):
        codec.encode(record)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_codec_error(data: bytes) -> None:
    codec = default_codec()
    with contextlib.suppress(CodecError):
        codec.decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=80), st.integers(min_value=0, max_value=120))
def test_corrupted_valid_records_never_raise_anything_but_codec_error(
    noise: bytes, offset: int
) -> None:
    codec = default_codec()
    data = bytearray(codec.encode(reading().to_record()))
    start = min(offset, len(data))
    data[start : start + len(noise)] = noise
    try:
        record = codec.decode(bytes(data))
    except CodecError:
        return
    # What survives corruption is still a record of the contract's shape (it may be a different,
    # valid reading: Avro has no checksum; the domain validates values).
    assert set(record) == set(reading().to_record())


# --- evolution -------------------------------------------------------------------------------


def _write_v2(directory: Path) -> None:
    v1 = json.loads((SCHEMAS / "glucose_reading.v1.avsc").read_text())
    v2 = dict(v1)
    v2["fields"] = [
        *v1["fields"],
        {"name": "transmitter_id", "type": ["null", "string"], "default": None},
    ]
    (directory / "glucose_reading.v2.avsc").write_text(json.dumps(v2))


@pytest.fixture
def v1_and_v2(tmp_path: Path) -> tuple[Codec, Codec]:
    _write_v2(tmp_path)
    v1 = load_schema(SCHEMAS / "glucose_reading.v1.avsc")
    v2 = load_schema(tmp_path / "glucose_reading.v2.avsc")
    assert v1.fingerprint != v2.fingerprint
    old_reader = Codec([v1, v2], read_as={READING_SCHEMA: 1})  # knows v2, reads as v1
    new_reader = Codec([v1, v2])
    return old_reader, new_reader


def test_v1_reader_reads_a_v2_record_ignoring_the_new_field(v1_and_v2) -> None:
    old_reader, new_reader = v1_and_v2
    record = {**reading().to_record(), "transmitter_id": "8RK2QF"}
    data = new_reader.encode(record)
    decoded = old_reader.decode(data)
    assert "transmitter_id" not in decoded
    assert decoded == reading().to_record()


def test_v2_reader_reads_a_v1_record_with_the_default(v1_and_v2) -> None:
    old_reader, new_reader = v1_and_v2
    data = old_reader.encode(reading().to_record())
    decoded = new_reader.decode(data)
    assert decoded["transmitter_id"] is None
    assert {k: v for k, v in decoded.items() if k != "transmitter_id"} == reading().to_record()


def test_reader_without_the_writer_schema_refuses_clearly(v1_and_v2) -> None:
    _, new_reader = v1_and_v2
    data = new_reader.encode({**reading().to_record(), "transmitter_id": None})
    with pytest.raises(CodecError, match="unknown schema fingerprint"):
        default_codec().decode(data)


def test_schema_file_names_carry_the_version(tmp_path: Path) -> None:
    bad = tmp_path / "glucose_reading.avsc"
    bad.write_text((SCHEMAS / "glucose_reading.v1.avsc").read_text())
    with pytest.raises(CodecError, match=r"not <name>\.v<N>\.avsc"):
        load_schema(bad)
