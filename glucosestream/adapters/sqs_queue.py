"""SQS adapter: drain a queue (receive, then delete what was handled), or send to one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_MESSAGES_PER_RECEIVE = 10
"""SQS ReceiveMessage returns at most 10 messages a call."""
MAX_ENTRIES_PER_BATCH = 10
"""SQS DeleteMessageBatch takes at most 10 entries a call."""


@dataclass(frozen=True, slots=True)
class QueueMessage:
    body: str
    receipt_handle: str


class SqsQueue:
    """One queue, found by name (``GetQueueUrl`` once, on first use)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The queue's URL (resolved by name on first use: raises if the queue is missing)."""
        if self._url is None:
            self._url = str(self.client.get_queue_url(QueueName=self.name)["QueueUrl"])
        return self._url

    def receive(
        self, max_messages: int = MAX_MESSAGES_PER_RECEIVE, wait_s: int = 0
    ) -> list[QueueMessage]:
        """Up to ``max_messages`` messages; they come back after the visibility timeout unless
        :meth:`delete` is called."""
        response = self.client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=min(max_messages, MAX_MESSAGES_PER_RECEIVE),
            WaitTimeSeconds=wait_s,
        )
        return [
            QueueMessage(body=m["Body"], receipt_handle=m["ReceiptHandle"])
            for m in response.get("Messages", [])
        ]

    def delete(self, message: QueueMessage) -> None:
        self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)

    def delete_many(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        """Deletes handled messages, ten a request (``DeleteMessageBatch``), and returns those
        SQS did not delete (an expired receipt handle, say): they come back after the
        visibility timeout, as at-least-once delivery allows."""
        failed: list[QueueMessage] = []
        for start in range(0, len(messages), MAX_ENTRIES_PER_BATCH):
            chunk = messages[start : start + MAX_ENTRIES_PER_BATCH]
            response = self.client.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message.receipt_handle}
                    for index, message in enumerate(chunk)
                ],
            )
            failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
        return failed

    def send(self, body: str) -> str:
        """Sends one message; returns its id."""
        response = self.client.send_message(QueueUrl=self.url, MessageBody=body)
        return str(response["MessageId"])
