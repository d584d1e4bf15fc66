"""Argument types: each turns a command-line word into a value or refuses it in a few words
(argparse prefixes the argument's name)."""

from __future__ import annotations

import argparse
import math
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glucosestream.ingest.units import Unit


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def port_or_off(text: str) -> int:
    return 0 if text.strip() == "0" else port(text)


def port(text: str) -> int:
    value = _whole_number(text)
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port within 1024-65535")
    return value


def time_zone(text: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {text!r}") from None
    return text


def non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def iso_instant(text: str) -> int:
    """ISO 8601 instant as UTC epoch milliseconds; a naive time is taken as UTC."""
    return round(iso_datetime(text).timestamp() * 1000)


def iso_datetime(text: str) -> datetime:
    """ISO 8601 instant, aware (a naive time is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def source_patient_id(text: str) -> str:
    """A source patient id as uploaded: any non-blank text (it is only ever pseudonymised)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the source patient id is empty")
    return text


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    value = _number(text)
    # One reason for every refused number: 0, negatives, inf and nan alike.
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a positive finite number")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text)
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number >= 0")
    return value


def glucose_unit(text: str) -> Unit:
    """``mg/dL`` or ``mmol/L`` (any case)."""
    from glucosestream.ingest.units import UnitError, parse_unit

    try:
        return parse_unit(text)
    except UnitError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
