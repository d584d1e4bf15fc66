"""Measure the scale model's parameters on the local code (no AWS): ``docs/scale_parameters.json``.

    python scripts/scale_parameters.py [--patients 100] [--days 2] [--elt-patients 60]
        [--elt-days 15] [--out docs/scale_parameters.json]

Every figure comes from the project's own code paths on a simulated cohort
(``stream.simulator``: physiology, sensor sessions, warm-ups, gaps, the transport's late,
reordered and duplicated deliveries), and says how it was measured:

* **Avro and partition-key bytes** — each reading encoded by the contract codec
  (``glucosestream.contract.codec``) as the producer encodes it; the key is the pseudonymous
  ``patient_id``.
* **KPL aggregation** — the same entries packed by ``glucosestream.contract.kpl.aggregate`` at the
  producer's aggregate size (``DEFAULT_AGGREGATE_BYTES``) and at Kinesis' 1 MiB record limit.
* **Raw-zone Parquet** — readings through the Firehose transform (``transform_record``: Avro in,
  JSON lines out), converted by the raw schema (``table_from_json_lines``) and written by
  ``parquet_bytes``, the writer of the local Firehose stand-in, with SNAPPY (what Terraform
  configures for Firehose's Parquet conversion) and zstd (the local worker's default). One file
  holds what one Firehose buffer holds: the readings of ``rows`` distinct patients within one
  60-second buffer interval (a 5-minute cadence gives each patient at most one reading in a
  buffer), so the figure is measured for several file sizes; the model interpolates.
* **Curated Parquet and the Athena bytes a run scans** — a lake of ``--elt-patients`` ×
  ``--elt-days`` written through the same transform and writer (SNAPPY), a full ELT run
  (``run_elt`` over ``local_lake``: DuckDB running the pipeline's Athena SQL), then one more
  day and an incremental run, during which every Parquet file a statement binds is counted
  (bytes of whole files: Athena bills only the columns it reads, so this is an upper bound).
* **DynamoDB patient state** — the alerts consumer's core (``AlertConsumer``) with the DynamoDB
  adapter (``PatientStateStore``) against moto's DynamoDB, fed the cohort's deliveries in
  arrival order in batches of one second (the mapping's batching window) of at most 1,000
  records; every DynamoDB call is counted by a botocore event hook, every item written is
  sized by DynamoDB's rules.
* **Alerts** — what that consumer raised and published, per patient-day.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from glucosestream.contract.codec import default_codec  # noqa: E402
from glucosestream.contract.entries import MAX_BYTES_PER_RECORD, Entry  # noqa: E402
from glucosestream.contract.kpl import DEFAULT_AGGREGATE_BYTES, aggregate  # noqa: E402
from glucosestream.domain.identity import pseudonymise  # noqa: E402
from glucosestream.domain.reading import GlucoseReading  # noqa: E402
from glucosestream.lake.raw_zone.files import parquet_bytes, table_from_json_lines  # noqa: E402
from glucosestream.lake.raw_zone.transform import transform_record  # noqa: E402
from stream.simulator import Delivery, simulate  # noqa: E402
from stream.simulator.config import DEFAULT_PSEUDONYM_KEY, CohortConfig  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "scale_parameters.json"
FILE_ROWS = (200, 2_000, 20_000, 200_000)
"""Rows per raw Parquet file measured: one 60 s Firehose buffer at 1k, 10k, 100k and 1M
patients on a 5-minute cadence (3.3, 33, 333 and 3,333 readings/s)."""
BUFFER_SECONDS = 60
BATCH_WINDOW_MS = 1_000
BATCH_SIZE = 1_000
"""The alerts mapping's batching window and batch size (terraform/modules/alerting)."""
PERIOD_DAYS = 14


# ------------------------------------------------------------------------------ the cohort


def cohort(patients: int, days: float, seed: int) -> list[Delivery]:
    """The simulated cohort's deliveries, in arrival order."""
    return list(simulate(CohortConfig(patients=patients, days=days, seed=seed)))


def encoded(readings: Iterable[GlucoseReading]) -> Iterator[tuple[GlucoseReading, bytes]]:
    encode = default_codec().encode
    for reading in readings:
        yield reading, encode(reading.to_record(), validated=True)


# ------------------------------------------------------------------------- Avro and the KPL


def avro_and_kpl(deliveries: Sequence[Delivery]) -> dict[str, Any]:
    pairs = list(encoded(d.reading for d in deliveries))
    avro = [len(data) for _, data in pairs]
    keys = [len(r.patient_id.encode()) for r, _ in pairs]
    entries = [(Entry(data, r.patient_id), r) for r, data in pairs]
    found: dict[str, Any] = {
        "avro_bytes_per_reading": _param(
            statistics.fmean(avro),
            "B",
            "mean length of the contract codec's single-object Avro encoding (10-byte header "
            f"included) of {len(avro):,} simulated readings",
            min=min(avro),
            max=max(avro),
        ),
        "partition_key_bytes": _param(
            statistics.fmean(keys),
            "B",
            "the partition key is the pseudonymous patient_id ('p_' + 32 hex digits)",
        ),
    }
    for name, limit in (("producer", DEFAULT_AGGREGATE_BYTES), ("1mib", MAX_BYTES_PER_RECORD)):
        packed = list(aggregate(iter(entries), limit))
        full = packed[:-1] or packed  # the last aggregate is whatever was left over
        per_record = statistics.fmean(len(payloads) for _, payloads in full)
        record_bytes = statistics.fmean(entry.size for entry, _ in full)
        found[f"kpl_readings_per_record_{name}"] = _param(
            per_record,
            "readings",
            f"glucosestream.contract.kpl.aggregate of the same entries into records of at most "
            f"{limit:,} B (data + partition key), one shard; mean over {len(full):,} full records",
            record_bytes=round(record_bytes, 1),
            bytes_per_reading=round(record_bytes / per_record, 2),
        )
    return found


# ----------------------------------------------------------------------- raw-zone Parquet


def transform_lines(readings: Iterable[GlucoseReading], arrival_ms: int) -> bytes:
    """The Firehose transform's output (JSON lines) for one record per reading."""
    out = []
    for number, (reading, data) in enumerate(encoded(readings)):
        record = {
            "recordId": str(number),
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": arrival_ms,
            "kinesisRecordMetadata": {
                "partitionKey": reading.patient_id,
                "approximateArrivalTimestamp": arrival_ms,
            },
        }
        result = transform_record(record)
        if result["result"] != "Ok":
            raise RuntimeError(f"transform failed: {result}")
        out.append(base64.b64decode(result["data"]))
    return b"".join(out)


def buffer_readings(base: Sequence[GlucoseReading], rows: int, seed: int) -> list[GlucoseReading]:
    """``rows`` readings of ``rows`` distinct patients in one 60 s buffer interval: the base
    cohort's readings (values, statuses, trends, offsets) under new pseudonymous patients, each
    measured at a random second of the interval, in measurement order."""
    rng = np.random.default_rng(seed)
    start = (base[0].measured_at // 60_000) * 60_000
    offsets = np.sort(rng.integers(0, BUFFER_SECONDS * 1000, rows))
    jitter = rng.integers(-10, 11, rows)
    # Patients arrive in no particular order: their ids are not in sequence in a file.
    numbers = rng.permutation(rows)
    out = []
    for i in range(rows):
        source = base[i % len(base)]
        patient = pseudonymise(f"scale-{numbers[i]:07d}", DEFAULT_PSEUDONYM_KEY)
        device = f"scale-{numbers[i]:07d}-cgm5"
        out.append(
            dataclasses.replace(
                source,
                patient_id=patient,
                device_id=device,
                session_id=f"{device}-s{int(rng.integers(1, 40)):04d}",
                measured_at=start + int(offsets[i]),
                glucose_mg_dl=int(np.clip(source.glucose_mg_dl + jitter[i], 40, 400)),
                produced_at=start + int(offsets[i]) + 1_000,
                event_id="",
            )
        )
    return out


def raw_parquet(deliveries: Sequence[Delivery]) -> dict[str, Any]:
    base = [d.reading for d in deliveries if d.reading.status.value == "OK"]
    sizes = []
    json_bytes = []
    transform_seconds = []
    for rows in FILE_ROWS:
        readings = buffer_readings(base, rows, seed=rows)
        started = time.process_time()
        lines = transform_lines(readings, readings[-1].measured_at + 2_000)
        transform_seconds.append((time.process_time() - started) / rows)
        json_bytes.append(len(lines) / rows)
        table = table_from_json_lines(lines)
        sizes.append(
            {
                "rows_per_file": rows,
                "snappy": round(len(parquet_bytes(table, compression="snappy")) / rows, 2),
                "zstd": round(len(parquet_bytes(table, compression="zstd")) / rows, 2),
            }
        )
        print(f"  raw Parquet, {rows:>7,} rows a file: {sizes[-1]}", file=sys.stderr)
    return {
        "transform_cpu_seconds_per_reading": _param(
            statistics.median(transform_seconds),
            "s",
            "CPU time of this machine's one core to Avro-encode a reading and run the Firehose "
            "transform on it (median over the file sizes; the encode is the producer's share, so "
            "this is an upper bound of the transform Lambda's work)",
        ),
        "firehose_json_bytes_per_reading": _param(
            statistics.fmean(json_bytes),
            "B",
            "mean length of the Firehose transform's JSON line per reading (what Firehose "
            "buffers and converts)",
        ),
        "raw_parquet_bytes_per_reading": _param(
            sizes[-1]["snappy"],
            "B",
            "Firehose transform → raw schema → parquet_bytes (SNAPPY, Terraform's Firehose "
            "setting); each file = one 60 s buffer of distinct patients (value: the largest "
            "file; by_file_rows: every size measured; zstd for comparison)",
            by_file_rows=sizes,
        ),
    }


# ------------------------------------------------------------------- ELT: curated, Athena


def write_raw_zone(lake_raw: Path, deliveries: Iterable[Delivery], name: str) -> int:
    """The deliveries as raw-zone files, one per (dt, hour), through the transform (SNAPPY)."""
    by_hour: dict[int, list[GlucoseReading]] = {}
    for delivery in deliveries:
        by_hour.setdefault(delivery.reading.measured_at // 3_600_000, []).append(delivery.reading)
    written = 0
    for hour, readings in sorted(by_hour.items()):
        stamp = datetime.fromtimestamp(hour * 3600, UTC)
        directory = lake_raw / f"dt={stamp:%Y-%m-%d}" / f"hour={stamp:%H}"
        directory.mkdir(parents=True, exist_ok=True)
        lines = transform_lines(readings, (hour + 1) * 3_600_000)
        table = table_from_json_lines(lines)
        (directory / f"{name}.parquet").write_bytes(parquet_bytes(table, compression="snappy"))
        written += table.num_rows
    return written


def athena_partitions(statement: Any, key: str, parameters: Sequence[Any]) -> set[str] | None:
    """The values of partition ``key`` Athena's partition projection would read for a statement:
    the union of its ``key IN (...)`` / ``key = ...`` predicates (literals and parameters, none
    under an OR), or None (every partition). The local engine prunes only single-table
    statements when it binds; Athena prunes a join's tables too."""
    from sqlglot import exp

    from glucosestream.local.athena import _text_order

    placeholders = list(statement.find_all(exp.Placeholder, bfs=False))
    if len(placeholders) != len(parameters):
        return None
    value_of = {id(node): parameters[rank] for node, rank in _text_order(statement, placeholders)}
    values: set[str] = set()
    for node in statement.find_all(exp.In, exp.EQ):
        if not isinstance(node.this, exp.Column) or node.this.name != key:
            continue
        if node.find_ancestor(exp.Or) is not None:
            return None
        operands = node.expressions if isinstance(node, exp.In) else [node.expression]
        for operand in operands:
            if isinstance(operand, exp.Cast) and isinstance(operand.this, exp.Placeholder):
                operand = operand.this
            if isinstance(operand, exp.Placeholder):
                values.add(str(value_of[id(operand)]))
            elif isinstance(operand, exp.Literal) and operand.is_string:
                values.add(operand.this)
            else:
                return None
    return values or None


def column_bytes(path: Path, columns: set[str] | None) -> int:
    """Compressed bytes of these columns' chunks in a Parquet file (every column when None)."""
    metadata = pq.ParquetFile(path).metadata
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if columns is None or chunk.path_in_schema in columns:
                total += chunk.total_compressed_size
    return total


@dataclasses.dataclass
class Scanned:
    """What the statements of a run would make Athena read, by table."""

    files: Counter[str] = dataclasses.field(default_factory=Counter)
    """Bytes of whole files (an upper bound)."""
    columns: Counter[str] = dataclasses.field(default_factory=Counter)
    """Bytes of the column chunks of the columns a statement names (Athena's measure)."""
    statements: int = 0
    largest: int = 0
    """Column bytes of the statement that reads the most (what the workgroup's cutoff meets)."""


@contextlib.contextmanager
def counting_scans() -> Iterator[Scanned]:
    """Counts, for every statement the local Athena runs, the Parquet it would read on Athena:
    the files of the partitions its predicates select (:func:`athena_partitions`), whole and
    by the columns it names."""
    from sqlglot import exp

    from glucosestream.local.athena import LocalAthena

    scanned = Scanned()
    original = LocalAthena._bind_read_tables

    def bind(self: LocalAthena, statement: Any, parameters: Sequence[Any]) -> None:
        scanned.statements += 1
        before = sum(scanned.columns.values())
        named = {c.name for c in statement.find_all(exp.Column)}
        star = any(True for _ in statement.find_all(exp.Star))
        for table in {t.name for t in statement.find_all(exp.Table)}:
            lake = self.lake_tables.get(table)
            if lake is None or table == "" or not lake.location.is_dir():
                continue
            files = sorted(lake.location.rglob("*.parquet"))
            if lake.partitioned_by:
                wanted = athena_partitions(statement, lake.partition_names[0], parameters)
                if wanted is not None:
                    files = [
                        f for d in sorted(wanted)
                        for f in sorted(lake.partition_directory_prefix(d).rglob("*.parquet"))
                    ]  # fmt: skip
            files = [f for f in files if not any(p.startswith(".") for p in f.parts)]
            scanned.files[table] += sum(f.stat().st_size for f in files)
            scanned.columns[table] += sum(column_bytes(f, None if star else named) for f in files)
        scanned.largest = max(scanned.largest, sum(scanned.columns.values()) - before)
        original(self, statement, parameters)

    LocalAthena._bind_read_tables = bind  # type: ignore[method-assign]
    try:
        yield scanned
    finally:
        LocalAthena._bind_read_tables = original  # type: ignore[method-assign]


def parquet_rows_and_bytes(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*.parquet") if not any(s.startswith(".") for s in p.parts)]
    return sum(pq.ParquetFile(p).metadata.num_rows for p in files), sum(
        p.stat().st_size for p in files
    )


def elt(patients: int, days: int) -> dict[str, Any]:
    from glucosestream.elt.refresh import run_elt
    from glucosestream.local.lake import local_lake
    from glucosestream.settings import load_settings

    deliveries = cohort(patients, days + 1, seed=7)
    last_day = (deliveries[0].reading.measured_at // 86_400_000) + days
    with tempfile.TemporaryDirectory(prefix="gs-scale-params-") as state:
        settings = load_settings(state_dir=Path(state), env="scale")
        raw = settings.lake_dir / settings.names.raw_readings_prefix
        history = [d for d in deliveries if d.reading.measured_at // 86_400_000 < last_day]
        new = [d for d in deliveries if d.reading.measured_at // 86_400_000 >= last_day]
        write_raw_zone(raw, history, "history")
        run_elt(local_lake(settings))
        write_raw_zone(raw, new, "new")
        run_day = date.fromordinal(date(1970, 1, 1).toordinal() + int(last_day))
        with counting_scans() as scanned:
            report = run_elt(local_lake(settings), run_day)
        curated = settings.lake_dir / settings.names.curated_prefix / "readings"
        curated_rows, curated_bytes = parquet_rows_and_bytes(curated)
        _, marts_bytes = parquet_rows_and_bytes(settings.lake_dir / settings.names.marts_prefix)
        window_rows = 0
        first = run_day.toordinal() - PERIOD_DAYS + 1
        for partition in curated.glob("dt=*"):
            if date.fromisoformat(partition.name[3:]).toordinal() >= first:
                window_rows += parquet_rows_and_bytes(partition)[0]
        raw_rows, raw_bytes = parquet_rows_and_bytes(raw)
    columns = sum(scanned.columns.values())
    whole = sum(scanned.files.values())
    patient_days = patients * (days + 1)
    return {
        "curated_parquet_bytes_per_reading": _param(
            curated_bytes / curated_rows,
            "B",
            f"curated readings written by the local ELT (run_elt over a lake of {patients} "
            f"simulated patients x {days + 1} days, raw through the Firehose transform, SNAPPY): "
            "bytes of curated/readings Parquet / its rows",
            curated_rows=curated_rows,
            raw_rows=raw_rows,
            raw_bytes_per_reading_hourly_files=round(raw_bytes / raw_rows, 2),
        ),
        "marts_bytes_per_patient_day": _param(
            marts_bytes / patient_days,
            "B",
            "every mart's Parquet (daily, period, AGP, episodes) after the two runs / "
            "patient-days of the lake",
        ),
        "athena_bytes_scanned_per_window_reading": _param(
            columns / window_rows,
            "B",
            f"an incremental pipeline run (one new day) on that lake ({scanned.statements} "
            "statements): for each statement, the compressed column chunks it names in the "
            "Parquet files of the partitions its predicates select (as partition projection "
            "prunes), / readings in the "
            f"{PERIOD_DAYS}-day window of the period marts",
            whole_files=round(whole / window_rows, 2),
            largest_statement=round(scanned.largest / window_rows, 2),
            by_table={n: round(b / window_rows, 2) for n, b in sorted(scanned.columns.items())},
            window_readings=window_rows,
            run_curated_partitions=report.curated_partitions,
        ),
    }


# ----------------------------------------------------------------------- DynamoDB state


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in its wire form: attribute names plus values (strings as
    UTF-8; numbers about one byte per two significant digits plus one)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        (kind, raw), *_ = value.items()
        if kind == "S":
            size += len(raw.encode())
        elif kind == "N":
            digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
            size += math.ceil(len(digits) / 2) + 1
        else:
            size += len(json.dumps(raw))
    return size


def dynamodb_state(deliveries: Sequence[Delivery], patients: int, days: float) -> dict[str, Any]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    import boto3
    from moto import mock_aws

    from glucosestream.adapters.patient_state import PatientStateStore
    from glucosestream.alerts.consumer import AlertConsumer, InboundRecord
    from glucosestream.domain.alerts import Alert

    class CountingTopic:
        def __init__(self) -> None:
            self.published = 0

        def publish(self, alert: Alert) -> str:
            self.published += 1
            return str(self.published)

    calls: Counter[str] = Counter()
    items_read = 0
    sizes: list[int] = []

    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        nonlocal items_read
        calls[model.name] += 1
        if model.name == "BatchGetItem":
            items_read += sum(len(t["Keys"]) for t in params["RequestItems"].values())
        elif model.name == "GetItem":
            items_read += 1
        elif model.name == "PutItem":
            sizes.append(item_size(params["Item"]))

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="patient-state",
            KeySchema=[{"AttributeName": "patient_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "patient_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.meta.events.register("before-parameter-build.dynamodb", hook)
        now = [0.0]
        topic = CountingTopic()
        consumer = AlertConsumer(
            PatientStateStore(client, "patient-state"), topic, clock=lambda: now[0]
        )
        readings = writes = alerts = batches = 0
        pairs = list(encoded(d.reading for d in deliveries))
        sequence = 0
        for window in _batches(deliveries):
            records = []
            for delivery in window:
                reading, data = pairs[sequence]
                sequence += 1
                records.append(
                    InboundRecord(str(sequence), reading.patient_id, data, delivery.arrival_at)
                )
            now[0] = window[-1].arrival_at / 1000 + 0.5
            outcome = consumer.process(records)
            if outcome.first_failed is not None:
                raise RuntimeError(f"batch failed: {outcome.reason}")
            readings += outcome.readings
            writes += outcome.state_writes
            alerts += len(outcome.alerts)
            batches += 1
    write_units = [math.ceil(s / 1024) for s in sizes]
    return {
        "dynamodb_writes_per_reading": _param(
            calls["PutItem"] / readings,
            "writes",
            "AlertConsumer + PatientStateStore against moto DynamoDB, the cohort's deliveries "
            f"in arrival order in {batches:,} batches (1 s windows, <= {BATCH_SIZE:,} records): "
            "PutItem calls (state advance + outbox clear after a publish) / readings",
            readings=readings,
            calls=dict(sorted(calls.items())),
            consumer_state_writes=writes,
        ),
        "dynamodb_reads_per_reading": _param(
            items_read / readings,
            "strongly consistent item reads",
            "items requested by BatchGetItem (ConsistentRead) and GetItem / readings; each item "
            "is under 4 KB, so one read unit each",
            batch_get_calls_per_reading=round(calls["BatchGetItem"] / readings, 4),
        ),
        "dynamodb_item_bytes": _param(
            statistics.fmean(sizes),
            "B",
            "size of every item PutItem wrote (attribute names + values, DynamoDB's rules)",
            p50=int(np.percentile(sizes, 50)),
            p99=int(np.percentile(sizes, 99)),
            max=max(sizes),
        ),
        "dynamodb_write_units_per_write": _param(
            statistics.fmean(write_units),
            "WCU",
            "mean of ceil(item bytes / 1 KB) over those writes",
        ),
        "alerts_per_patient_day": _param(
            alerts / (patients * days),
            "alerts",
            f"alerts the consumer raised for {patients} simulated patients over {days} days "
            "(default alert settings)",
            sns_publishes_per_alert=round(topic.published / max(alerts, 1), 3),
        ),
        "readings_per_patient_day_simulated": _param(
            readings / (patients * days),
            "readings",
            "the simulated cohort (60 % 5-minute, 40 % 15-minute sensors, warm-ups, gaps, "
            "duplicates); the model assumes a uniform cadence instead",
        ),
    }


def _batches(deliveries: Sequence[Delivery]) -> Iterator[list[Delivery]]:
    window: list[Delivery] = []
    for delivery in deliveries:
        if window and (
            delivery.arrival_at // BATCH_WINDOW_MS != window[0].arrival_at // BATCH_WINDOW_MS
            or len(window) == BATCH_SIZE
        ):
            yield window
            window = []
        window.append(delivery)
    if window:
        yield window


# ------------------------------------------------------------------------------ plumbing


def _param(value: float, unit: str, how: str, **detail: Any) -> dict[str, Any]:
    return {"value": float(f"{value:.6g}"), "unit": unit, "how": how, **detail}


def measure(args: argparse.Namespace, step: Callable[[str], None]) -> dict[str, Any]:
    step(f"simulating {args.patients} patients x {args.days} days")
    deliveries = cohort(args.patients, args.days, seed=20)
    parameters: dict[str, Any] = {}
    step("Avro, partition keys, KPL aggregation")
    parameters.update(avro_and_kpl(deliveries))
    step("raw-zone Parquet through the Firehose transform")
    parameters.update(raw_parquet(deliveries))
    step("DynamoDB patient state (moto) and alerts")
    parameters.update(dynamodb_state(deliveries, args.patients, args.days))
    step(f"ELT on {args.elt_patients} patients x {args.elt_days + 1} days")
    parameters.update(elt(args.elt_patients, args.elt_days))
    return parameters


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--elt-patients", type=int, default=60)
    parser.add_argument("--elt-days", type=int, default=15, help="history before the new day")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def step(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {text}", file=sys.stderr)

    parameters = measure(args, step)
    document = {
        "measured_on": datetime.now(UTC).date().isoformat(),
        "command": "python scripts/scale_parameters.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in {"out"}
        ),
        "parameters": parameters,
    }
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    step(f"wrote {args.out}")


if __name__ == "__main__":
    main()
