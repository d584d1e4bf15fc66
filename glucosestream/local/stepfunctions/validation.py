"""Checks of a definition before anything runs: what is invalid, or not supported locally, raises
:class:`~glucosestream.local.stepfunctions.errors.AslError` naming the state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glucosestream.local.stepfunctions.choice import is_number, rule_operator
from glucosestream.local.stepfunctions.errors import AslError
from glucosestream.local.stepfunctions.paths import parse_path

S3_LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"
"""The ItemReader resource of a Distributed Map over the objects under a prefix."""
MAX_CHILD_INPUT_BYTES = 256 * 1024
"""A child execution's input, like any state payload, is at most 256 KiB."""

_STATE_TYPES = frozenset(["Task", "Pass", "Choice", "Wait", "Map", "Succeed", "Fail"])
_NEEDS_TRANSITION = frozenset(["Task", "Pass", "Wait", "Map"])


def _validate_rule(state: str, rule: Any, top_level: bool) -> None:
    if not isinstance(rule, dict):
        raise AslError(f"state {state!r}: a Choice rule must be an object")
    if not top_level and "Next" in rule:
        raise AslError(f"state {state!r}: nested Choice rules cannot have Next")
    if "And" in rule or "Or" in rule:
        subs = rule.get("And", rule.get("Or"))
        if not isinstance(subs, list) or not subs:
            raise AslError(f"state {state!r}: And/Or needs a non-empty list of rules")
        for sub in subs:
            _validate_rule(state, sub, top_level=False)
        return
    if "Not" in rule:
        _validate_rule(state, rule["Not"], top_level=False)
        return
    operator = rule_operator(rule)
    if operator is None:
        raise AslError(
            f"state {state!r}: Choice rule needs exactly one comparison operator: {rule}"
        )
    if "Variable" not in rule:
        raise AslError(f"state {state!r}: Choice rule without Variable: {rule}")
    parse_path(rule["Variable"])
    if operator.endswith("Path"):
        parse_path(rule[operator])


def _validate_paths(name: str, state: Mapping[str, Any]) -> None:
    for key in ("InputPath", "OutputPath", "ResultPath", "ItemsPath", "SecondsPath"):
        value = state.get(key)
        if value is not None:
            try:
                parse_path(value)
            except AslError as exc:
                raise AslError(f"state {name!r}: {key}: {exc}") from exc


def validate_machine(
    definition: Mapping[str, Any], resources: Mapping[str, Any], where: str = "state machine"
) -> None:
    if not isinstance(definition, Mapping):
        raise AslError(f"{where}: the definition must be a JSON object")
    states = definition.get("States")
    if not isinstance(states, Mapping) or not states:
        raise AslError(f"{where}: 'States' must be a non-empty object")
    start = definition.get("StartAt")
    if start not in states:
        raise AslError(f"{where}: StartAt {start!r} is not a state")

    def check_next(name: str, target: Any, what: str = "Next") -> None:
        if target not in states:
            raise AslError(f"state {name!r}: {what} {target!r} is not a state in {where}")

    for name, state in states.items():
        if not isinstance(state, Mapping):
            raise AslError(f"state {name!r}: must be an object")
        kind = state.get("Type")
        if kind == "Parallel":
            raise AslError(f"state {name!r}: Parallel states are not supported locally")
        if kind not in _STATE_TYPES:
            raise AslError(f"state {name!r}: unknown state Type {kind!r}")
        _validate_paths(name, state)
        if kind in _NEEDS_TRANSITION:
            has_next, has_end = "Next" in state, state.get("End") is True
            if has_next == has_end:
                raise AslError(f"state {name!r}: needs exactly one of Next or End: true")
            if has_next:
                check_next(name, state["Next"])
        elif "Next" in state or "End" in state:
            raise AslError(f"state {name!r}: a {kind} state cannot have Next or End")
        if kind == "Task":
            resource = state.get("Resource")
            if resource not in resources:
                raise AslError(f"state {name!r}: unknown Resource {resource!r}")
        if kind in ("Task", "Map"):
            for retrier in state.get("Retry", []):
                errors = retrier.get("ErrorEquals")
                if not isinstance(errors, list) or not errors:
                    raise AslError(f"state {name!r}: Retry needs a non-empty ErrorEquals")
                if retrier.get("JitterStrategy", "NONE") != "NONE":
                    raise AslError(f"state {name!r}: Retry JitterStrategy is not supported")
            for catcher in state.get("Catch", []):
                errors = catcher.get("ErrorEquals")
                if not isinstance(errors, list) or not errors:
                    raise AslError(f"state {name!r}: Catch needs a non-empty ErrorEquals")
                check_next(name, catcher.get("Next"), "Catch Next")
        elif "Retry" in state or "Catch" in state:
            raise AslError(f"state {name!r}: a {kind} state cannot have Retry or Catch")
        if kind == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                raise AslError(f"state {name!r}: Choices must be a non-empty list")
            for rule in choices:
                _validate_rule(name, rule, top_level=True)
                check_next(name, rule.get("Next"), "Choice Next")
            if "Default" in state:
                check_next(name, state["Default"], "Default")
        if kind == "Wait":
            keys = [
                k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state
            ]
            if len(keys) != 1:
                raise AslError(
                    f"state {name!r}: needs exactly one of Seconds, SecondsPath, Timestamp, "
                    "TimestampPath"
                )
        if kind == "Map":
            _validate_map(name, state, resources)
            processor = state.get("ItemProcessor", state.get("Iterator"))
            if processor is None:
                raise AslError(f"state {name!r}: Map needs an ItemProcessor or Iterator")
            validate_machine(processor, resources, where=f"the iterator of Map {name!r}")


_DISTRIBUTED_ONLY = (
    "ItemReader",
    "ItemBatcher",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
    "Label",
)
_UNSUPPORTED_MAP_FIELDS = (
    "ResultWriter",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
)


def map_mode(state: Mapping[str, Any]) -> str:
    processor = state.get("ItemProcessor") or {}
    mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
    return str(mode)


def _non_negative_int(name: str, key: str, value: Any, maximum: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise AslError(f"state {name!r}: {key} must be an integer >= 0, got {value!r}")
    if maximum is not None and value > maximum:
        raise AslError(f"state {name!r}: {key} must be <= {maximum}, got {value}")


def _validate_map(name: str, state: Mapping[str, Any], resources: Mapping[str, Any]) -> None:
    mode = map_mode(state)
    if mode not in ("INLINE", "DISTRIBUTED"):
        raise AslError(f"state {name!r}: ProcessorConfig.Mode must be INLINE or DISTRIBUTED")
    for unsupported in _UNSUPPORTED_MAP_FIELDS:
        if unsupported in state:
            raise AslError(f"state {name!r}: {unsupported} is not supported locally")
    if mode == "INLINE":
        for field_name in _DISTRIBUTED_ONLY:
            if field_name in state:
                raise AslError(f"state {name!r}: {field_name} needs a DISTRIBUTED ItemProcessor")
    if "MaxConcurrency" in state:
        _non_negative_int(name, "MaxConcurrency", state["MaxConcurrency"])
    if "ToleratedFailurePercentage" in state:
        value = state["ToleratedFailurePercentage"]
        if not is_number(value) or not 0 <= value <= 100:
            raise AslError(f"state {name!r}: ToleratedFailurePercentage must be in 0..100")
    if "ToleratedFailureCount" in state:
        _non_negative_int(name, "ToleratedFailureCount", state["ToleratedFailureCount"])
    reader = state.get("ItemReader")
    if reader is not None:
        if "ItemsPath" in state:
            raise AslError(f"state {name!r}: ItemsPath and ItemReader exclude each other")
        if reader.get("Resource") != S3_LIST_OBJECTS:
            raise AslError(
                f"state {name!r}: ItemReader Resource {reader.get('Resource')!r} is not supported "
                f"locally (only {S3_LIST_OBJECTS})"
            )
        if S3_LIST_OBJECTS not in resources:
            raise AslError(f"state {name!r}: no binding for the ItemReader {S3_LIST_OBJECTS}")
        parameters = reader.get("Parameters")
        if not isinstance(parameters, Mapping) or not (
            "Bucket" in parameters or "Bucket.$" in parameters
        ):
            raise AslError(f"state {name!r}: ItemReader Parameters need a Bucket")
        config = reader.get("ReaderConfig") or {}
        if set(config) - {"MaxItems"}:
            raise AslError(f"state {name!r}: ReaderConfig {sorted(config)}: only MaxItems here")
        if "MaxItems" in config:
            _non_negative_int(name, "ReaderConfig.MaxItems", config["MaxItems"], 100_000_000)
    batcher = state.get("ItemBatcher")
    if batcher is not None:
        known = {"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}
        if set(batcher) - known:
            raise AslError(
                f"state {name!r}: ItemBatcher fields {sorted(set(batcher) - known)} are not "
                "supported locally"
            )
        if "MaxItemsPerBatch" not in batcher and "MaxInputBytesPerBatch" not in batcher:
            raise AslError(f"state {name!r}: ItemBatcher needs MaxItemsPerBatch or ...Bytes...")
        for key in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
            if key in batcher:
                _non_negative_int(name, f"ItemBatcher.{key}", batcher[key])
                if batcher[key] == 0:
                    raise AslError(f"state {name!r}: ItemBatcher.{key} must be > 0")
        if "MaxInputBytesPerBatch" in batcher and batcher["MaxInputBytesPerBatch"] > (
            MAX_CHILD_INPUT_BYTES
        ):
            raise AslError(f"state {name!r}: MaxInputBytesPerBatch is at most 256 KiB")
        if "BatchInput" in batcher and not isinstance(batcher["BatchInput"], Mapping):
            raise AslError(f"state {name!r}: ItemBatcher.BatchInput must be a JSON object")
