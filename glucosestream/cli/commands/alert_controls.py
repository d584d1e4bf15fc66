"""``glucosestream alerts settings`` and ``alerts ack``: a patient's alert settings and
acknowledgements, in the patient's state item (the same store the alerts consumer writes)."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import UTC, datetime
from typing import Any

from glucosestream.cli.commands.stack_check import require_running_stack
from glucosestream.cli.errors import UserError
from glucosestream.cli.types import source_patient_id
from glucosestream.settings import Settings

FLAGS = {
    "low_mg_dl": "--low",
    "high_mg_dl": "--high",
    "high_alerts": "--high-alerts",
    "quiet_hours": "--quiet-hours",
}


def cmd_alert_settings(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.domain.alerts.patient_settings import AlertSettings, InvalidAlertSettings

    changes = _changes(args)
    try:
        AlertSettings().updated(changes)  # refuse bad values before touching the stack
    except InvalidAlertSettings as error:
        flag = FLAGS.get(error.field, error.field)
        message = str(error).removeprefix(f"{error.field}: ")
        raise UserError(f"{flag}: {message}; nothing was changed") from None
    controls, patient = _controls(args, settings)
    try:
        current = (
            controls.update_settings(patient, changes) if changes else controls.settings(patient)
        )
    except InvalidAlertSettings as error:
        raise UserError(f"{error}; nothing was changed") from None
    print(json.dumps({"patient_id": patient, "settings": current.to_public_dict()}, indent=2))
    return 0


def cmd_alert_ack(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.domain.alerts.acknowledgement import UnknownAlert

    if len(args.alert_id) != 32 or not set(args.alert_id) <= set("0123456789abcdef"):
        raise UserError("alert_id must be the alert's 32 lowercase hex digits")
    controls, patient = _controls(args, settings)
    try:
        result = controls.acknowledge(patient, args.alert_id, args.by)
    except UnknownAlert:
        raise UserError(
            f"no alert {args.alert_id} for this patient (unknown, or older than the ~24 h kept)"
        ) from None
    ack = result.acknowledgement
    state = "acknowledged" if result.new else "already acknowledged"
    at = datetime.fromtimestamp(ack.acknowledged_at / 1000, tz=UTC).isoformat(timespec="seconds")
    print(f"{state}: alert {ack.alert_id} by {ack.by} at {at}")
    return 0


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the arguments change, as JSON values (validated by the domain, once)."""
    given = {
        "low_mg_dl": args.low,
        "high_mg_dl": args.high,
        "high_alerts": None if args.high_alerts is None else args.high_alerts == "on",
        "quiet_hours": args.quiet_hours,
    }
    return {name: value for name, value in given.items() if value is not None}


def _controls(args: argparse.Namespace, settings: Settings) -> tuple[Any, str]:
    """The composition root of both commands: the DynamoDB store of the mode's stack, and the
    patient's pseudonym (from ``--patient``, the source id, or ``--pseudonym`` as shown on the
    dashboard)."""
    from glucosestream.adapters.clients import aws_client
    from glucosestream.adapters.patient_state import PatientStateStore
    from glucosestream.alerts.patient_controls import PatientAlertControls
    from glucosestream.domain.identity import PSEUDONYM_PREFIX, pseudonymise

    if args.pseudonym is not None:
        if not args.pseudonym.startswith(PSEUDONYM_PREFIX) or len(args.pseudonym) != 34:
            raise UserError(f"--pseudonym must look like {PSEUDONYM_PREFIX} + 32 hex digits")
        patient = args.pseudonym
    else:
        patient = pseudonymise(args.patient, settings.pseudonym_key_bytes)
    require_running_stack(settings)
    store = PatientStateStore(aws_client("dynamodb", settings), settings.names.patient_state_table)
    return PatientAlertControls(store), patient


def add_patient_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", type=source_patient_id, help="the source patient id, as uploaded")
    who.add_argument("--pseudonym", help="the pseudonymous id (p_…), as the dashboard shows it")


def default_acknowledger() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a container
        return "cli"
