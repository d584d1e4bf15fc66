"""Read CGM readings from CSV in the iglu convention: ``id,time,gl``.

``time`` is ISO 8601 (``2026-01-05T07:30:00Z``, ``2026-01-05 08:30:00+01:00``, or naive, taken
in ``tz``); ``gl`` is glucose in mg/dL, or in mmol/L when the caller says so (converted to whole
mg/dL, × 18.016, as every importer converts). A mg/dL file whose values are all at most
:data:`MAX_MMOL_LOOKING_FILE` is refused: it is mmol/L, and read as mg/dL every metric, episode
and alert of it would be absurd. Optional columns: ``device_id`` and
``utc_offset_minutes`` (as ``glucosestream simulate --out`` writes them). Any bad row stops the
read with ``file:line: reason`` — nothing is skipped silently.

Times with an offset (or ``Z``) are used as they are. A naive time with a ``utc_offset_minutes``
value is read in that offset. Other naive times are wall-clock times in ``tz``, converted per
patient and device in file order by :func:`glucosestream.domain.local_time.resolve_wall_times`,
so that the repeated hour of a daylight-saving change is not merged into the first and the
skipped hour is not lost; what it had to decide is in :attr:`CsvInput.local_times`.

How it reads: as columns. pyarrow's CSV reader splits the file into string columns
(:mod:`.csv_table`, which says why pyarrow and not DuckDB), numpy reads the common shapes of
time, glucose and offset (:mod:`.text_columns`), and the readings come back as an Arrow table
(:attr:`CsvInput.columns`) that ``glucosestream metrics`` loads as it is; the per-reading
objects (:attr:`CsvInput.rows`) are built only for callers that ask. Exactness comes first:
every value outside those shapes is read by the same per-row code as always (:func:`_row`),
which accepts it or names its line and reason, and a file the columnar reader cannot read
exactly as Python's :mod:`csv` module does (a quoted line break, a lone ``\r``, a short or long
row, bad UTF-8…) is read row by row from the start. Wall-clock times whose hours all have the
same UTC offset in ``tz`` (any time in UTC; a zone outside its changes) are converted by
arithmetic, which is what :func:`~glucosestream.domain.local_time.resolve_wall_times` does for
them; others go through it.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from glucosestream.domain.conflicts import ConflictReport, find_conflicts_in_arrays
from glucosestream.domain.local_time import LocalTimeReport, resolve_wall_times, uniform_offset
from glucosestream.domain.reading import MG_DL_PER_MMOL_L
from glucosestream.ingest.files.csv_table import read_string_table
from glucosestream.ingest.files.text_columns import (
    PLAIN_DECIMAL,
    WHOLE_NUMBER,
    iso_times,
    plain_numbers,
)
from glucosestream.ingest.units import (
    MAX_MMOL_LOOKING_MG_DL,
    MAX_PLAUSIBLE_MMOL_L,
    Unit,
    UnitError,
    to_mg_dl,
)

REQUIRED = ("id", "time", "gl")
OPTIONAL = ("device_id", "utc_offset_minutes")

READINGS_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("device_id", pa.string()),
        ("measured_at", pa.int64()),
        ("glucose_mg_dl", pa.float64()),
        ("utc_offset_minutes", pa.int64()),
        ("line", pa.int64()),
    ]
)
"""The columns of :attr:`CsvInput.columns`: ``measured_at`` in UTC epoch milliseconds, ``line``
the file line of the reading."""

MAX_MMOL_LOOKING_FILE = MAX_MMOL_LOOKING_MG_DL
"""A file of mg/dL whose every value is at most this is mmol/L (the rule the vendor exports'
columns follow too)."""

MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
US_PER_MINUTE = 60_000_000
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


class CsvInputError(ValueError):
    """The CSV cannot be read as readings; the message names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class CsvReading:
    patient_id: str
    measured_at: int
    """UTC epoch milliseconds."""
    glucose_mg_dl: float
    utc_offset_minutes: int
    device_id: str


@dataclass(frozen=True, slots=True)
class _ParsedRow:
    patient_id: str
    device_id: str
    moment: datetime
    """Aware when the source gave an offset; naive (wall clock in ``tz``) otherwise."""
    offset_column: int | None
    glucose_mg_dl: float
    line: int


@dataclass
class CsvInput:
    """The readings of a CSV, in file order, and what reading them decided."""

    columns: pa.Table
    """The readings as :data:`READINGS_SCHEMA`."""
    local_times: LocalTimeReport = field(default_factory=LocalTimeReport)
    conflicts: ConflictReport = field(default_factory=lambda: ConflictReport(0, None))

    @property
    def count(self) -> int:
        return int(self.columns.num_rows)

    @cached_property
    def rows(self) -> list[CsvReading]:
        """The readings as objects, for callers that take them one by one."""
        c = self.columns
        return [
            CsvReading(*values)
            for values in zip(
                c["patient_id"].to_pylist(),
                c["measured_at"].to_pylist(),
                c["glucose_mg_dl"].to_pylist(),
                c["utc_offset_minutes"].to_pylist(),
                c["device_id"].to_pylist(),
                strict=True,
            )
        ]

    @property
    def lines(self) -> list[int]:
        """The file line of each reading."""
        return self.columns["line"].to_pylist()  # type: ignore[no-any-return]

    def phrases(self) -> list[str]:
        """What was resolved or found, for a command's summary line."""
        return input_phrases(self.local_times, self.conflicts)


def input_phrases(local_times: LocalTimeReport, conflicts: ConflictReport) -> list[str]:
    """What reading a file's times decided, and its conflicts, as summary-line phrases."""
    conflict = conflicts.phrase()
    return [*local_times.phrases(), *([conflict] if conflict else [])]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CsvInputError(f"unknown time zone {name!r}") from None


def read_readings_csv(path: Path, tz: str = "UTC", unit: Unit = "mg/dL") -> list[CsvReading]:
    """The readings of an ``id,time,gl`` CSV (see :func:`read_csv_input`)."""
    return read_csv_input(path, tz, unit).rows


def read_csv_input(path: Path, tz: str = "UTC", unit: Unit = "mg/dL") -> CsvInput:
    """Read and convert a whole ``id,time,gl`` CSV whose ``gl`` is in ``unit``; the readings are
    in mg/dL. Raises :class:`CsvInputError`."""
    zone_info = zone(tz)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CsvInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CsvInputError(f"{path}: is a directory") from None
    return _converted(_in_mg_dl(_parsed(data, path), unit, path), zone_info, path)


def _in_mg_dl(parsed: _Parsed, unit: Unit, path: Path) -> _Parsed:
    """The rows with ``gl`` in mg/dL: mg/dL as given (refused when the whole file looks like
    mmol/L), mmol/L converted to whole mg/dL as every importer converts it."""
    glucose = parsed.glucose
    if unit == "mg/dL":
        highest = float(glucose.max()) if len(glucose) else math.inf
        if highest <= MAX_MMOL_LOOKING_FILE:
            raise CsvInputError(
                f"{path}: every gl value is at most {highest:g}: the file looks like mmol/L, "
                "not mg/dL; pass --units mmol/L to convert it"
            )
        return parsed
    # np.rint rounds half to even as round() in mmol_l_to_mg_dl does, on the same product.
    mg_dl = np.rint(glucose * MG_DL_PER_MMOL_L)
    unconvertible = np.flatnonzero((glucose > MAX_PLAUSIBLE_MMOL_L) | (mg_dl < 1))
    if len(unconvertible):
        first = int(unconvertible[0])
        try:
            to_mg_dl(float(glucose[first]), "mmol/L")
        except UnitError as error:  # the importers' own reason, e.g. "… is it mg/dL?"
            raise CsvInputError(f"{path}:{parsed.lines[first]}: {error}") from None
    return dataclasses.replace(parsed, glucose=mg_dl)


@dataclass(frozen=True)
class _Parsed:
    """Every row's values; each time either final (it had an offset, or ``utc_offset_minutes``)
    or a wall-clock time still to resolve in ``tz`` (``wall``)."""

    patient_id: pa.StringArray
    device_id: pa.StringArray
    glucose: np.ndarray
    lines: np.ndarray
    measured_at: np.ndarray
    """int64 UTC epoch ms, where not ``wall``."""
    offset: np.ndarray
    """int64 minutes, where not ``wall``."""
    wall_us: np.ndarray
    """int64 microseconds since 1970-01-01 of the wall-clock time, where ``wall``."""
    wall: np.ndarray
    """bool"""


def _parsed(data: bytes, path: Path) -> _Parsed:
    reader = csv.DictReader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    try:
        header = reader.fieldnames
        if not header:
            raise CsvInputError(f"{path}: empty file (expected a header id,time,gl)")
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise CsvInputError(
                f"{path}:1: missing column(s) {', '.join(missing)} (found {', '.join(header)})"
            )
        # A header on one line: the records may be read as columns (None: not exactly).
        columnar = _columnar(data, list(header), path) if reader.line_num == 1 else None
        if columnar is not None:
            return columnar
        rows = [_row(row, path, reader.line_num) for row in reader]
    except UnicodeDecodeError as error:
        raise CsvInputError(f"{path}: not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise CsvInputError(f"{path}:{reader.line_num}: {error}") from None
    if not rows:
        raise CsvInputError(f"{path}: no readings after the header")
    return _parsed_rows(rows)


def _columnar(data: bytes, header: list[str], path: Path) -> _Parsed | None:
    """The rows read as columns, or ``None`` when the file must be read row by row; raises the
    row-by-row reader's error for the first bad row."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    table = read_string_table(data, header, REQUIRED + OPTIONAL)
    if table is None:
        return None
    count = table.num_rows
    columns = table.columns
    patient_id, has_id = _stripped(columns["id"])
    device_id = (
        _stripped(columns["device_id"])[0]
        if "device_id" in columns
        else pc.take(pa.array([""], pa.string()), np.zeros(count, np.int64))
    )
    times = iso_times(columns["time"])
    glucose, plain_glucose = plain_numbers(columns["gl"], PLAIN_DECIMAL, pa.float64())
    offset_column = np.zeros(count, np.int64)
    has_offset_column = np.zeros(count, bool)
    plain_offset = np.ones(count, bool)
    if "utc_offset_minutes" in columns:
        text = columns["utc_offset_minutes"]
        # An empty value means no offset (the row-by-row reader tests the text's truth).
        has_offset_column = pc.binary_length(text).to_numpy() > 0
        offset_column, plain_offset = plain_numbers(text, WHOLE_NUMBER, pa.int64())
        plain_offset |= ~has_offset_column
    read_here = has_id & times.read & plain_glucose & (glucose > 0) & plain_offset
    # A time with an offset, or naive with utc_offset_minutes: to UTC as the row-by-row reader
    # computes it (float seconds, rounded to the millisecond).
    instant_us = times.wall_us - np.where(
        times.aware, times.offset_us, offset_column * US_PER_MINUTE
    )
    parsed = _Parsed(
        patient_id=patient_id,
        device_id=device_id,
        glucose=glucose.astype(np.float64),
        lines=table.lines,
        measured_at=np.rint(instant_us / 1e6 * 1000).astype(np.int64),
        offset=np.where(
            has_offset_column,
            offset_column,
            np.where(times.aware, np.floor_divide(times.offset_us, US_PER_MINUTE), 0),
        ),
        wall_us=times.wall_us,
        wall=~times.aware & ~has_offset_column,
    )
    # The rest, in file order, as the row-by-row reader reads them: the first bad one raises.
    names = list(columns)
    for index in np.flatnonzero(~read_here).tolist():
        values = {name: columns[name][index].as_py() for name in names}
        _set_row(parsed, index, _row(values, path, int(table.lines[index])))
    return parsed


def _stripped(column: pa.StringArray) -> tuple[pa.StringArray, np.ndarray]:
    """The values stripped as Python strips them (each distinct value once), and where they
    are not empty."""
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    stripped = [value.strip() for value in values]
    indices = encoded.indices.to_numpy()
    non_empty = np.array([bool(value) for value in stripped], bool)
    if stripped == values:  # the usual case: nothing to strip, the column is its own result
        return column, non_empty[indices]
    return pc.take(pa.array(stripped, pa.string()), encoded.indices), non_empty[indices]


def _parsed_rows(rows: list[_ParsedRow]) -> _Parsed:
    count = len(rows)
    parsed = _Parsed(
        patient_id=pa.array([r.patient_id for r in rows], pa.string()),
        device_id=pa.array([r.device_id for r in rows], pa.string()),
        glucose=np.zeros(count, np.float64),
        lines=np.array([r.line for r in rows], np.int64),
        measured_at=np.zeros(count, np.int64),
        offset=np.zeros(count, np.int64),
        wall_us=np.zeros(count, np.int64),
        wall=np.zeros(count, bool),
    )
    for index, row in enumerate(rows):
        _set_row(parsed, index, row)
    return parsed


def _set_row(parsed: _Parsed, index: int, row: _ParsedRow) -> None:
    """One row's glucose and time, converted as ever (``patient_id``/``device_id`` are set)."""
    parsed.glucose[index] = row.glucose_mg_dl
    moment = row.moment
    if moment.tzinfo is None and row.offset_column is None:
        parsed.wall[index] = True
        parsed.wall_us[index] = (moment - _EPOCH) // _MICROSECOND
        return
    parsed.wall[index] = False
    if moment.tzinfo is None:  # naive, in the row's own utc_offset_minutes
        moment = moment.replace(tzinfo=UTC) - _minutes(row.offset_column)
    parsed.measured_at[index] = round(moment.timestamp() * 1000)
    given = moment.utcoffset() if row.moment.tzinfo is not None else None
    parsed.offset[index] = (
        row.offset_column
        if row.offset_column is not None
        else int(given.total_seconds() // 60)
        if given is not None
        else 0
    )


def _converted(parsed: _Parsed, tz: ZoneInfo, path: Path) -> CsvInput:
    """UTC instants for every row: given offsets as they are, wall-clock times resolved."""
    measured_at = parsed.measured_at.copy()
    offset = parsed.offset.copy()
    streams = _stream_codes(parsed.patient_id, parsed.device_id)
    wall_rows = np.flatnonzero(parsed.wall)
    report = LocalTimeReport()
    if len(wall_rows):
        measured_at[wall_rows], offset[wall_rows], report = _resolved_walls(
            streams[wall_rows], parsed.wall_us[wall_rows], tz
        )
        # Report positions are indices into wall_rows: name them by their file lines.
        for positions in (
            report.ambiguous_undecided,
            report.nonexistent_shifted,
            report.clock_not_switched,
        ):
            positions[:] = parsed.lines[wall_rows[positions]].tolist()
    columns = pa.table(
        [
            parsed.patient_id,
            parsed.device_id,
            pa.array(measured_at, pa.int64()),
            pa.array(parsed.glucose, pa.float64()),
            pa.array(offset, pa.int64()),
            pa.array(parsed.lines, pa.int64()),
        ],
        schema=READINGS_SCHEMA,
    )
    conflicts = find_conflicts_in_arrays(
        streams,
        measured_at,
        parsed.glucose,
        lambda i: (
            f"{parsed.patient_id[i].as_py()} at {iso_utc_seconds(int(measured_at[i]))}, "
            f"{path}:{parsed.lines[i]}"
        ),
    )
    return CsvInput(columns, report, conflicts)


def _stream_codes(patient_id: pa.StringArray, device_id: pa.StringArray) -> np.ndarray:
    """One int64 per (patient, device): equal exactly when both are."""
    patients = pc.dictionary_encode(patient_id)
    devices = pc.dictionary_encode(device_id)
    patient_codes = patients.indices.to_numpy().astype(np.int64)
    device_codes: np.ndarray = devices.indices.to_numpy().astype(np.int64)
    codes: np.ndarray = patient_codes * len(devices.dictionary) + device_codes
    return codes


def _resolved_walls(
    streams: np.ndarray, wall_us: np.ndarray, tz: ZoneInfo
) -> tuple[np.ndarray, np.ndarray, LocalTimeReport]:
    """UTC ms and offsets of wall-clock times, as :func:`resolve_wall_times` gives them."""
    wall_ms = np.floor_divide(wall_us, 1000)
    single = uniform_offset((_EPOCH + timedelta(hours=hour) for hour in _hours(wall_ms)), tz)
    if single is not None:
        return wall_ms - single * MS_PER_MINUTE, np.full(len(wall_ms), single), LocalTimeReport()
    walls = wall_us.astype("datetime64[us]").tolist()
    resolved, report = resolve_wall_times(streams.tolist(), walls, tz)
    utc_ms = np.array([r.utc_ms for r in resolved], np.int64)
    offsets = np.array([r.offset_minutes for r in resolved], np.int64)
    return utc_ms, offsets, report


def _hours(wall_ms: np.ndarray) -> list[int]:
    """The wall-clock hours to look up for one UTC offset: every hour from the first to the
    last reading's when they are fewer than the readings (a zone's offset changes only with
    time, so one offset over the whole span is one offset over the readings' hours: the check
    is the same, without sorting the readings), else the readings' distinct hours."""
    first, last = int(wall_ms.min()) // MS_PER_HOUR, int(wall_ms.max()) // MS_PER_HOUR
    if last - first < len(wall_ms):
        return list(range(first, last + 1))
    return np.unique(np.floor_divide(wall_ms, MS_PER_HOUR)).tolist()  # type: ignore[no-any-return]


def iso_utc_seconds(epoch_ms: int) -> str:
    """``2026-01-05T07:30:00Z``: a UTC epoch-ms instant as the import messages write it."""
    return f"{datetime.fromtimestamp(epoch_ms / 1000, UTC):%Y-%m-%dT%H:%M:%SZ}"


def _minutes(value: int | None) -> timedelta:
    return timedelta(minutes=value or 0)


def _row(row: dict[str, str | None], path: Path, line: int) -> _ParsedRow:
    where = f"{path}:{line}"
    if None in row or any(row.get(c) is None for c in REQUIRED):
        raise CsvInputError(f"{where}: wrong number of fields")
    patient = (row["id"] or "").strip()
    if not patient:
        raise CsvInputError(f"{where}: empty id")
    text = (row["time"] or "").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CsvInputError(f"{where}: time {text!r} is not ISO 8601") from None
    raw_gl = (row["gl"] or "").strip()
    try:
        glucose = float(raw_gl)
    except ValueError:
        raise CsvInputError(f"{where}: gl {raw_gl!r} is not a number") from None
    if not math.isfinite(glucose) or glucose <= 0:
        raise CsvInputError(f"{where}: gl {raw_gl!r} is not a positive glucose value")
    offset_minutes: int | None = None
    if row.get("utc_offset_minutes"):
        try:
            offset_minutes = int(str(row["utc_offset_minutes"]))
        except ValueError:
            raise CsvInputError(f"{where}: utc_offset_minutes is not a whole number") from None
    return _ParsedRow(
        patient_id=patient,
        device_id=(row.get("device_id") or "").strip(),
        moment=moment,
        offset_column=offset_minutes,
        glucose_mg_dl=glucose,
        line=line,
    )
