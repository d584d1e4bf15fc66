"""An alerts-feed message as the ``glucose_alert.v1`` alert it holds.

The alerts topic (SNS) delivers each alert to the dashboard's feed queue (SQS) as the JSON of
:func:`glucosestream.adapters.alert_topic.alert_message`, or wrapped in SNS's envelope when raw
message delivery is off. Everything that shows the feed (the demo console, the live dashboard)
reads a message here, so they show and refuse the same messages. The record is checked against
the schema itself (``schemas/glucose_alert.v1.avsc``, by fastavro): fields added to the schema
with a default (``repeat``, ``silenced``) take it when a message from before them lacks them;
fields this reader does not know are ignored, as an Avro reader schema ignores a newer writer's.
"""

from __future__ import annotations

import json
from typing import Any

from fastavro.validation import validate

from glucosestream.contract.codec import ALERT_SCHEMA, Codec, default_codec
from glucosestream.domain.alerts import Alert


class NotAnAlert(ValueError):
    """A feed message that holds no alert of the contract. The message says what is wrong (a
    missing field, the fields of the wrong type); it never contains the message's values."""


def alert_of_message(body: str, codec: Codec | None = None) -> Alert:
    """The alert a feed message's body holds (raw, or in an SNS envelope)."""
    document = _json_object(body)
    if "Message" in document and "kind" not in document:
        # An SNS envelope (raw message delivery off): the alert is its Message.
        message = document["Message"]
        if not isinstance(message, str):
            raise NotAnAlert("an SNS envelope whose Message is not text")
        document = _json_object(message)
    schema = (codec or default_codec()).schema(ALERT_SCHEMA)
    record: dict[str, Any] = {}
    for field in schema.plain["fields"]:
        name = field["name"]
        if name in document:
            record[name] = document[name]
        elif "default" in field:
            record[name] = field["default"]
        else:
            raise NotAnAlert(f"no {name}")
    if not validate(record, schema.plain, raise_errors=False):
        wrong = [
            field["name"]
            for field in schema.plain["fields"]
            if not validate(record[field["name"]], field["type"], raise_errors=False)
        ]
        raise NotAnAlert(f"{', '.join(wrong)} not as {ALERT_SCHEMA} v{schema.version} defines")
    return Alert.from_record(record)


def _json_object(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise NotAnAlert(f"not JSON ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise NotAnAlert(f"JSON {type(document).__name__}, not an object")
    return document
