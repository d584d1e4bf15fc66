"""The Firehose transform: Avro (single records or KPL aggregates) in, JSON for Parquet out.

One transform serves every raw table: readings (``raw_readings``), treatments
(``raw_treatments``, partitioned by ``treated_at``) and erasures (``raw_erasures``, partitioned
by the erased reading's ``measured_at``); the event's delivery stream says which
(:func:`raw_table_of`), and a record of another schema fails with kind ``avro``.

Shared by the transform Lambda (``consumers/firehose_transform/handler.py``) and the local
delivery worker (:mod:`glucosestream.local.firehose`), which calls this same function.

Input: Firehose's transformation event for a Kinesis source, records with base64 ``data`` and
``kinesisRecordMetadata``. Output: one record per input ``recordId`` (Firehose's rule):

* ``Ok`` — ``data`` is base64 of newline-terminated JSON, one object per reading, keys = the raw
  table's columns (:func:`~glucosestream.lake.raw_zone.schema.reading_columns`), timestamps as epoch
  milliseconds (Hive JSON SerDe, ``TimestampFormats = ["millis"]``), enums as their symbols;
  ``metadata.partitionKeys`` = ``{"dt": "YYYY-MM-DD", "hour": "HH"}`` of ``measured_at`` in UTC.
  ``ingested_at`` is the Kinesis approximate arrival time.
* ``ProcessingFailed`` — the record holds no valid reading. Firehose then writes the ORIGINAL bytes
  to the error prefix; ``data`` here carries ``{"errorKind", "errorMessage"}`` as JSON, which
  Firehose ignores and the local worker copies into its error records. Messages never quote a
  glucose value.

KPL aggregates. Firehose de-aggregates KPL records from a Kinesis source before it invokes the
transform, so in AWS every record is one reading. Handed an aggregate anyway (a direct test, a
misconfigured source), the transform emits all its readings as newline-delimited JSON in the one
output record — Firehose's JSON→Parquet conversion reads several objects per record — provided
they all fall in the same ``dt``/``hour`` partition, since partition keys belong to the record.
An aggregate spanning partitions is ``ProcessingFailed`` (kind ``partition``): splitting it is the
de-aggregation's job, and failing loudly keeps every reading in the partition of its event time.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, Literal

from glucosestream.contract.codec import Codec
from glucosestream.contract.records import (
    UndecodableRecord,
    decode_erasure_record,
    decode_record,
    decode_treatment_record,
)
from glucosestream.domain.reading import GlucoseReading
from glucosestream.lake.raw_zone.schema import (
    ERASURES,
    INGESTED_AT,
    RAW_TABLES,
    READINGS,
    TREATMENTS,
    RawTable,
    reading_columns,
)

Result = Literal["Ok", "ProcessingFailed", "Dropped"]
OK: Result = "Ok"
PROCESSING_FAILED: Result = "ProcessingFailed"
DROPPED: Result = "Dropped"

HOUR_MS = 3_600_000
DELIVERY_SUFFIX = "-delivery"
"""A delivery stream is ``gs-<env>-<dataset>-delivery`` (``ResourceNames``; the readings one is
``gs-<env>-raw-delivery``): one transform Lambda serves every delivery stream and picks the
table by the event's stream."""
_GLUCOSE_VALUE = re.compile(r"(glucose_mg_dl)\s+-?\d+")


@lru_cache(maxsize=4096)
def _partition_of_hour(hour_index: int) -> tuple[str, str]:
    moment = datetime.fromtimestamp(hour_index * 3600, UTC)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H")


def partition_of(epoch_ms: int) -> tuple[str, str]:
    """``(dt, hour)`` of a UTC epoch-millisecond time, e.g. ``("2026-01-05", "07")``."""
    # Floor division rounds towards minus infinity, so pre-1970 times fall in the right hour too.
    return _partition_of_hour(epoch_ms // HOUR_MS)


def redact(message: str) -> str:
    """The message with glucose values removed (contract violations quote them)."""
    return _GLUCOSE_VALUE.sub(r"\1 <redacted>", message)


def raw_row(event: Any, ingested_at_ms: int) -> dict[str, Any]:
    """The raw table row of a contract event (reading, treatment, erasure): its record's fields,
    then ``ingested_at``."""
    row: dict[str, Any] = event.to_record()
    row[INGESTED_AT.name] = ingested_at_ms
    return row


reading_row = raw_row
"""A reading's raw row (the name :func:`reading_json`'s equality is stated in)."""


_FAST_PATH_COLUMNS = (
    ("event_id", "string"),
    ("patient_id", "string"),
    ("device_id", "string"),
    ("session_id", "string"),
    ("measured_at", "timestamp"),
    ("utc_offset_minutes", "int"),
    ("glucose_mg_dl", "int"),
    ("status", "string"),
    ("trend", "string"),
    ("source", "string"),
    ("produced_at", "timestamp"),
    (INGESTED_AT.name, "timestamp"),
)
"""The columns :func:`reading_json`'s fast path was written for (schema v1 + ingested_at)."""


@lru_cache(maxsize=1)
def _fast_template() -> str | None:
    """A %-template of the JSON line, keys from the column list; ``None`` once the columns
    differ from :data:`_FAST_PATH_COLUMNS` (then the generic path serves, still correct)."""
    columns = reading_columns()
    if tuple((c.name, c.glue_type) for c in columns) != _FAST_PATH_COLUMNS:
        return None
    fields = (f"{json.dumps(c.name)}:{'%s' if c.glue_type == 'string' else '%d'}" for c in columns)
    return "{" + ",".join(fields) + "}"


def reading_json(reading: GlucoseReading, ingested_at_ms: int) -> str:
    """One JSON line (without the newline) as the transform emits it.

    Equal, byte for byte, to ``json.dumps(reading_row(...), separators=(",", ":"))`` (a test
    checks it); formatted from a template because this runs once per reading in the landing
    path, where ``json.dumps`` of a dict costs several times more.
    """
    template = _fast_template()
    if template is None:
        return contract_json(reading, ingested_at_ms)
    return template % (
        _quote(reading.event_id),
        _quote(reading.patient_id),
        _quote(reading.device_id),
        _quote(reading.session_id),
        reading.measured_at,
        reading.utc_offset_minutes,
        reading.glucose_mg_dl,
        _quote(reading.status.value),
        _quote(reading.trend.value),
        _quote(reading.source.value),
        reading.produced_at,
        ingested_at_ms,
    )


def contract_json(event: Any, ingested_at_ms: int) -> str:
    """One JSON line (without the newline) of a raw table other than readings."""
    return json.dumps(raw_row(event, ingested_at_ms), separators=(",", ":"))


@dataclass(frozen=True)
class _RowsOf:
    """How one raw table's Kinesis records become JSON lines, and the time that partitions them."""

    decode: Callable[[bytes, str, Codec | None], list[Any]]
    time_of: Callable[[Any], int]
    json_of: Callable[[Any, int], str]


_ROWS = {
    READINGS.table: _RowsOf(decode_record, lambda reading: reading.measured_at, reading_json),
    TREATMENTS.table: _RowsOf(
        decode_treatment_record, lambda treatment: treatment.treated_at, contract_json
    ),
    # An erasure lands in the partition of the reading it erases: the ELT rebuilds that dt.
    ERASURES.table: _RowsOf(
        decode_erasure_record, lambda erasure: erasure.measured_at, contract_json
    ),
}


def raw_table_of(event: Mapping[str, Any]) -> RawTable:
    """The raw table a transformation event is for, by its delivery stream's name
    (``…/gs-<env>-treatments-delivery`` → treatments; anything else → readings)."""
    stream_name = str(event.get("deliveryStreamArn") or "").rsplit("/", 1)[-1]
    for raw_table in RAW_TABLES:
        if raw_table is not READINGS and stream_name.endswith(
            f"-{raw_table.dataset}{DELIVERY_SUFFIX}"
        ):
            return raw_table
    return READINGS


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def failed_record(record_id: str, kind: str, message: str) -> dict[str, Any]:
    """A ``ProcessingFailed`` output record carrying the reason (redacted) as its data."""
    reason = {"errorKind": kind, "errorMessage": redact(message)}
    return {
        "recordId": record_id,
        "result": PROCESSING_FAILED,
        "data": _b64(json.dumps(reason).encode()),
    }


def failure_reason(output: Mapping[str, Any]) -> tuple[str, str]:
    """``(errorKind, errorMessage)`` of a ``ProcessingFailed`` output record.

    A record failed by some other transform, whose data is not our reason document, gets kind
    ``unknown``.
    """
    try:
        reason = json.loads(base64.b64decode(output.get("data") or b""))
        return str(reason["errorKind"]), str(reason["errorMessage"])
    except (ValueError, TypeError, KeyError, binascii.Error):
        return "unknown", "the transform gave no reason"


def _arrival_ms(record: Mapping[str, Any], metadata: Mapping[str, Any]) -> int:
    arrival = metadata.get("approximateArrivalTimestamp", record.get("approximateArrivalTimestamp"))
    return int(arrival) if arrival is not None else 0


def transform_record(
    record: Mapping[str, Any], codec: Codec | None = None, raw_table: RawTable = READINGS
) -> dict[str, Any]:
    """The output record for one input record of a Firehose transformation event."""
    record_id = str(record["recordId"])
    metadata = record.get("kinesisRecordMetadata") or {}
    try:
        data = binascii.a2b_base64(record["data"], strict_mode=True)
    except (binascii.Error, ValueError, TypeError):
        return failed_record(record_id, "base64", "record data is not valid base64")
    rows_of = _ROWS[raw_table.table]
    try:
        events = rows_of.decode(data, str(metadata.get("partitionKey") or "-"), codec)
    except UndecodableRecord as error:
        return failed_record(record_id, error.kind, str(error))
    times = [rows_of.time_of(event) for event in events]
    arrival = _arrival_ms(record, metadata)
    lines = "".join(rows_of.json_of(event, arrival) + "\n" for event in events)
    if not times:
        return failed_record(record_id, "aggregate", "aggregated record holds no user records")
    partition = partition_of(times[0])
    if len(times) > 1:
        partitions = {partition_of(moment) for moment in times}
        if len(partitions) > 1:
            return failed_record(
                record_id,
                "partition",
                f"KPL aggregate of {len(times)} records spans {len(partitions)} dt/hour "
                "partitions; Firehose must de-aggregate it before the transform",
            )
    return {
        "recordId": record_id,
        "result": OK,
        "data": _b64(lines.encode()),
        "metadata": {"partitionKeys": {"dt": partition[0], "hour": partition[1]}},
    }


def transform_event(event: Mapping[str, Any], codec: Codec | None = None) -> dict[str, Any]:
    """Firehose's transformation response for an event: ``{"records": [...]}``, one output
    record per input record, in input order.

    Parameters
    ----------
    event
        The Firehose data-transformation event (Kinesis source); its ``deliveryStreamArn``
        says which raw table the records are for (:func:`raw_table_of`).
    codec
        The contract codec; :func:`~glucosestream.contract.codec.default_codec` by default.

    Returns
    -------
    dict
        ``{"records": [{"recordId", "result", "data", "metadata"?}, ...]}``.
    """
    raw_table = raw_table_of(event)
    return {"records": [transform_record(record, codec, raw_table) for record in event["records"]]}
