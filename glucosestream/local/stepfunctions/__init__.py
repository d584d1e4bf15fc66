"""A local interpreter of the Amazon States Language (ASL): Step Functions definitions in-process.

The deployed state machine is an ASL JSON document whose Task states name Lambda ARNs (or service
integrations). On one machine this module runs the same document, with each ``Resource`` string
looked up in a mapping of plain Python callables, following the semantics of the States Language
specification (states-language.net) and the Step Functions documentation:

* States: Task, Pass, Choice, Wait, Map (inline, ``Iterator`` or ``ItemProcessor``), Succeed, Fail.
* Input/output processing in AWS order: InputPath → Parameters → (task) → ResultSelector →
  ResultPath (merged into the *raw* state input; ``null`` discards the result) → OutputPath.
  Payload templates resolve keys ending in ``.$`` as a path (``$...`` on the state input,
  ``$$...`` on the context object) or an intrinsic function: ``States.Format``,
  ``States.StringToJson``, ``States.JsonToString``, ``States.Array``, ``States.ArrayLength``,
  ``States.ArrayGetItem``, ``States.MathAdd``.
* Paths: the JSONPath subset ASL needs — ``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``, and the
  same on the context object with ``$$`` (``$$.Execution.Input``, ``$$.State.Name``,
  ``$$.Map.Item.Value``, ...).
* Retry (ErrorEquals, IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds) and Catch
  (ErrorEquals, Next, ResultPath) on Task and Map states; ``States.ALL`` and ``States.TaskFailed``
  wildcards. Retry delays go through the injected ``sleep``. A Python exception raised by a task
  becomes Error = its ``error`` attribute if it has a string one, else its class name, and
  Cause = ``str(exception)``.
* Choice: every String*/Numeric*/Boolean*/Timestamp* comparison and its ``...Path`` variant,
  StringMatches with ``*`` wildcards, IsPresent/IsNull/IsNumeric/IsString/IsBoolean/IsTimestamp,
  And/Or/Not, Default, ``States.NoChoiceMatched``.
* Map: ItemsPath, ItemSelector (or the legacy Parameters), MaxConcurrency — iterations run in a
  thread pool when the effective concurrency is above 1; results keep the item order.
* Distributed Map (``ItemProcessor.ProcessorConfig.Mode = DISTRIBUTED``): items from the state
  input or from an ``ItemReader`` with ``Resource: arn:aws:states:::s3:listObjectsV2`` and
  ``Parameters {Bucket, Prefix}`` (a payload template; ``ReaderConfig.MaxItems``), listed by the
  callable bound to that resource, which returns ListObjectsV2's items (``Key``, ``Size``, ...)
  in key order; ``ItemSelector`` per item; ``ItemBatcher`` (``MaxItemsPerBatch``,
  ``MaxInputBytesPerBatch``, ``BatchInput`` — a payload template on the state input) giving each
  child execution ``{"Items": [...], "BatchInput": {...}}``; ``MaxConcurrency`` (0: as many as
  the constructor allows); ``ToleratedFailurePercentage``/``ToleratedFailureCount`` (default 0:
  the first failed child fails the Map with ``States.ExceedToleratedFailureThreshold`` and no
  further child starts). The output is the array of the child executions' outputs in item
  order, a tolerated failed child's entry being ``{"Error", "Cause"}``. Each child runs the
  ItemProcessor as its own execution: ``$$.Execution.Input`` is the child's input.
* The definition is validated before anything runs; problems raise :class:`AslError` naming the
  state.

Not supported (rejected by validation where they would change behaviour): Parallel states,
the distributed Map's ResultWriter, ItemReaders other than ``s3:listObjectsV2``, the ``...Path``
variants of its batching and tolerance fields, ``.waitForTaskToken``/``.sync`` callback
semantics (the callable's return value is the result), TimeoutSeconds/HeartbeatSeconds
enforcement, Retry ``JitterStrategy``, JSONata, JSONPath filters/wildcards,
and intrinsics other than those listed. ``States.Runtime`` errors (a path that does not resolve,
a non-list ItemsPath...) fail the execution and are never retried or caught, as in AWS.

The modules, by responsibility: ``errors`` (:class:`AslError`, :class:`StatesError`),
``placeholders`` (``${...}`` in the definition's text), ``paths`` (the JSONPath subset, InputPath,
ResultPath, OutputPath), ``intrinsics`` (intrinsic functions and payload templates), ``choice``
(Choice rules), ``validation`` (definition checks), ``distributed`` (a Distributed Map's child
inputs and tolerated failures) and ``machine`` (the interpreter: states, Retry/Catch, Map runs,
history).
"""

from __future__ import annotations

from glucosestream.local.stepfunctions.errors import AslError, StatesError
from glucosestream.local.stepfunctions.machine import Execution, StateMachine
from glucosestream.local.stepfunctions.placeholders import fill_placeholders
from glucosestream.local.stepfunctions.validation import S3_LIST_OBJECTS

__all__ = [
    "S3_LIST_OBJECTS",
    "AslError",
    "Execution",
    "StateMachine",
    "StatesError",
    "fill_placeholders",
]
