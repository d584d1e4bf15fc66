"""SNS adapter: publish alerts with filterable message attributes.

``kind``, ``severity``, ``alert_id``, ``repeat`` (a number) and ``silenced`` ("true"/"false"):
a subscription that pages a person filters on ``silenced = false`` so the patient's quiet hours
hold, while the dashboard's feed queue receives every alert.
"""

from __future__ import annotations

import json
from typing import Any

from glucosestream.domain.alerts import Alert


def alert_message(alert: Alert) -> str:
    """The ``glucose_alert.v1`` record rendered as JSON (times as UTC epoch ms)."""
    return json.dumps(alert.to_record(), separators=(",", ":"), sort_keys=True)


class AlertTopic:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self.client = client
        self.topic_arn = topic_arn

    def publish(self, alert: Alert) -> str:
        response = self.client.publish(
            TopicArn=self.topic_arn,
            Message=alert_message(alert),
            Subject=f"GlucoseStream {alert.kind.value}",
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": alert.kind.value},
                "severity": {"DataType": "String", "StringValue": alert.severity.value},
                "alert_id": {"DataType": "String", "StringValue": alert.alert_id},
                "repeat": {"DataType": "Number", "StringValue": str(alert.repeat)},
                "silenced": {"DataType": "String", "StringValue": str(alert.silenced).lower()},
            },
        )
        return str(response["MessageId"])
