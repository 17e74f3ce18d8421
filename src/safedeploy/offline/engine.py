"""A small CodeDeploy for one Lambda deployment, emulated on a compressed clock.

What it does, and where each rule comes from (AWS CodeDeploy user guide):
- Lifecycle of an AWS Lambda deployment ("AppSpec 'hooks' section for an AWS Lambda deployment"):
  BeforeAllowTraffic hook -> AllowTraffic (shift) -> AfterAllowTraffic hook. A hook is a Lambda
  function that must call PutLifecycleEventHookExecutionStatus; `Failed` fails the deployment, and
  an event that gets no status fails after one hour. CodeDeploy invokes hooks asynchronously, so
  Lambda runs a hook that raised twice more, 1 and 2 minutes later (Lambda, "Asynchronous
  invocation"), then hands the event to its dead-letter queue (safedeploy_core.timing).
- Traffic shifting ("Deployment configurations on an AWS Lambda compute platform"): Canary moves X %
  and the rest after N minutes; Linear adds X % every N minutes; the alias carries the split as
  RoutingConfig.AdditionalVersionWeights (Lambda "alias routing configuration").
- Rollback ("Redeploy and roll back a deployment with CodeDeploy"; SAM sets DEPLOYMENT_FAILURE,
  DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST): a failed hook, an alarm of the deployment
  group in ALARM, or StopDeployment(autoRollbackEnabled) puts the alias back on the original version.
Alarms are evaluated as CloudWatch does (every 10 s below a 60-s period, every clock minute from 60 s,
over a sliding window: alarm_eval); CodeDeploy's alarm poll, undocumented, is taken to coincide
(`plan` counts the `--alarm-poll` figure at worst).
Hooks run in real time and their wall time is added to the simulated clock. When a metric becomes
visible is one figure for every reader, alarms and GetMetricData alike (visibility.py names its basis).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from safedeploy_core import step_gate
from safedeploy_core.appspec import render_appspec
from safedeploy_core.smoke import SmokeCase, api_gateway_event, decode_proxy_response, evaluate
from safedeploy_core.timing import (
    ASYNC_RETRY_DELAYS_S,
    DEAD_LETTER_REPORT_S,
    LIFECYCLE_LIMIT_S,
    STEP_LOOK_S,
    DeploymentConfig,
)

from safedeploy.iam.enforce import SERVICE_ROLE, AccessDenied
from safedeploy.offline import visibility
from safedeploy.offline.alarm_eval import AlarmModel
from safedeploy.offline.inprocess_lambda import LambdaContext, environment
from safedeploy.offline.metric_store import MetricStore, metric_data
from safedeploy.offline.service_overlay import ServiceError
from safedeploy.offline.traffic import Arrivals, CallLog, VirtualTime

TICK_S = 10
# Execution environments per version (the in-band breaker counts each one's calls apart): Little's
# law with an assumed 100 ms a call, at least one: ceil(the version's requests/s x 0.1 s).
ASSUMED_CALL_S = 0.1
# A rollback is a deployment of its own (the stopped one's RollbackInfo names it) that moves the alias
# back; its duration is not documented. Assumed: 10 s, during which the split still serves traffic.
ROLLBACK_DEPLOYMENT_S = 10.0


EventKind = Literal["deploy", "hook", "shift", "alarm", "judge", "rollback", "stop", "traffic", "done"]
DeploymentStatus = Literal["InProgress", "Succeeded", "Stopped", "Failed"]


@dataclass
class TimelineEvent:
    t_s: float
    kind: EventKind
    message: str


@dataclass
class HookRun:
    name: str
    handler: Callable[[Any, Any], Any]
    env: dict[str, str]
    timeout_s: float
    # The function has a DeadLetterQueue whose consumer reports Failed for an event it receives
    # (hooks/lost_reports.py); without one an unreported lifecycle event waits for CodeDeploy's hour.
    dead_letter: bool = False


@dataclass
class Outcome:
    status: DeploymentStatus = "InProgress"
    caught_by: str | None = None
    reason: str | None = None
    rollback_s: float | None = None


class Cloud(Protocol):
    """What the engine needs from the (emulated) account: the rehearsal's world implements it on moto,
    the engine's own tests with plain Python."""

    def invoke(self, function: str, qualifier: str, payload: str) -> tuple[bytes, dict[str, str]]:
        """Invoke `function:qualifier` as Lambda's Invoke does: payload and response headers
        (`x-amz-executed-version`, `x-amz-function-error`)."""
        ...

    def route(self, function: str, alias: str, version: str, weights: dict[str, float]) -> None:
        """UpdateAlias: `version` primary, `weights` as AdditionalVersionWeights."""
        ...

    def set_deployment_status(self, deployment_id: str, status: str) -> None: ...

    def put_metric_data(self, namespace: str, data: list[dict[str, Any]]) -> None: ...

    def set_alarm_state(self, name: str, state: str) -> None: ...


class Authorizer(Protocol):
    """IAM for the calls CodeDeploy makes with the deployment group's service role, and for the
    functions' own (safedeploy.iam.enforce.Account)."""

    def require(self, principal: str, service: str, operation: str, params: dict[str, Any]) -> None:
        """Raises AccessDenied when `principal` may not make the call."""
        ...

    def acting_as(self, principal: str) -> contextlib.AbstractContextManager[None]: ...


@dataclass
class Engine:
    cloud: Cloud
    function: str
    alias: str
    old_version: str
    new_version: str
    config: DeploymentConfig
    alarms: list[AlarmModel]
    pre_hook: HookRun | None
    post_hook: HookRun | None
    step_judge: HookRun | None
    function_module: Any
    speed: float = 60.0
    rps: float = 20.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    on_event: Callable[[TimelineEvent], None] = lambda e: None
    # what synthetic users send, and what a good answer looks like: the function's own smoke cases
    traffic: list[SmokeCase] = field(default_factory=list)
    # Assumed: a deployment starts at any second of a clock minute; the rehearsal takes the middle.
    # CloudWatch's periods start on clock boundaries, so this is where the first period begins.
    start_in_minute_s: float = 30.0
    # Who may call what (the rehearsal's IAM); None leaves every call unauthorized-checked, as in the
    # engine's own tests of timing and traffic.
    authorizer: Authorizer | None = None

    def __post_init__(self) -> None:
        # the metric delay in force when the rehearsal starts (--metric-delay), read once here for
        # every reader: hooks may call GetMetricData from threads that do not share the setting
        self.visibility_s = visibility.delay_s(n for a in self.alarms for n in a.namespaces())
        self.store = MetricStore(self.alias, clock_offset_s=self.start_in_minute_s, records_until_s=0.0)
        self.t_s = 0.0
        self.events: list[TimelineEvent] = []
        self.outcome = Outcome()
        self.deployment_id = ""
        self.epoch = datetime.now(UTC)
        self.lifecycle: dict[str, str | None] = {}
        self.stop_requested: str | None = None
        self.stopped_by = "step judge"  # who called StopDeployment (each caller has its own client)
        self.calls = CallLog(self.store, self.function, self.alias, self.new_version)
        self.arrivals = Arrivals(self.rng, self.rps)
        # The step judge: a scheduled run every minute from t = 60 s, each looking every `look_s`
        # while it has time for another look (safedeploy_core.step_gate).
        self.next_judge_s = 60.0
        self._judge_run_s = 60.0
        self._stdout: Any = None
        self.next_alarm_check_s = 0.0
        self._paused_wall_s = 0.0
        self.shifted = False  # has any traffic moved to the new version
        self._detected_s: float | None = None
        # The timeline as data (for pictures): the new version's share, alarm states, hook runs.
        self.share: list[tuple[float, float]] = [(0.0, 0.0)]
        self.alarm_states: dict[str, list[tuple[float, str]]] = {
            a.name: [(0.0, a.state)] for a in self.alarms
        }
        self.hook_runs: list[dict[str, Any]] = []

    # ------------------------------------------------------------ the CodeDeploy API moto lacks
    def appspec(self) -> str:
        hooks = {
            phase: h.name
            for phase, h in (("BeforeAllowTraffic", self.pre_hook), ("AfterAllowTraffic", self.post_hook))
            if h
        }
        return render_appspec(self.function, self.alias, self.old_version, self.new_version, hooks)

    def codedeploy_operations(
        self, caller: str = "step judge"
    ) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        def get_application_revision(params: dict[str, Any]) -> dict[str, Any]:
            return {
                "applicationName": params["applicationName"],
                "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": self.appspec()}},
            }

        def put_status(params: dict[str, Any]) -> dict[str, Any]:
            execution = params["lifecycleEventHookExecutionId"]
            if execution not in self.lifecycle:
                raise ServiceError("LifecycleEventHookExecutionIdNotFoundException", "unknown execution id")
            if self.lifecycle[execution] is not None:
                raise ServiceError("LifecycleEventAlreadyCompletedException", "already completed")
            self.lifecycle[execution] = params["status"]
            return {"lifecycleEventHookExecutionId": execution}

        def stop(params: dict[str, Any]) -> dict[str, Any]:
            if self.outcome.status != "InProgress":
                raise ServiceError("DeploymentAlreadyCompletedException", "deployment already completed")
            self.stop_requested = "rollback" if params.get("autoRollbackEnabled") else "stop"
            self.stopped_by = caller
            return {"status": "Pending", "statusMessage": "Stop requested"}

        def get_deployment_group(params: dict[str, Any]) -> dict[str, Any]:
            # moto leaves alarmConfiguration empty; the hooks read the gates from here
            return {
                "deploymentGroupInfo": {
                    "applicationName": params["applicationName"],
                    "deploymentGroupName": params["deploymentGroupName"],
                    "alarmConfiguration": {
                        "enabled": True,
                        "alarms": [{"name": a.name} for a in self.alarms],
                    },
                }
            }

        return {
            "GetApplicationRevision": get_application_revision,
            "GetDeploymentGroup": get_deployment_group,
            "PutLifecycleEventHookExecutionStatus": put_status,
            "StopDeployment": stop,
        }

    def cloudwatch_operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        def get_metric_data(params: dict[str, Any]) -> dict[str, Any]:
            # What CloudWatch holds now: requests older than the metric's visibility delay.
            return metric_data(
                self.store,
                params,
                self.epoch,
                lambda namespace: self.t_s - self.visibility_s,
            )

        return {"GetMetricData": get_metric_data}

    def environments(self, function: str, version: str) -> int:
        """How many execution environments serve `version` now (ASSUMED_CALL_S)."""
        pct = self.share[-1][1] if self.share else 0.0
        share = pct if version == self.new_version else 100.0 - pct
        return max(1, math.ceil(self.rps * share / 100 * ASSUMED_CALL_S))

    # ------------------------------------------------------------ helpers
    def emit(self, kind: EventKind, message: str) -> None:
        event = TimelineEvent(round(self.t_s, 1), kind, message)
        self.events.append(event)
        # An event can happen while a hook or the step judge runs with its output swallowed (an
        # alarm firing during the judge's wait): it is told on the output the run started with.
        with contextlib.redirect_stdout(self._stdout or sys.stdout):
            self.on_event(event)

    def _set_status(self, status: DeploymentStatus) -> None:
        self.cloud.set_deployment_status(self.deployment_id, status)

    def _weights(self, pct: float) -> None:
        self.shifted = self.shifted or pct > 0
        self.share.append((round(self.t_s, 1), pct))
        routing = {self.new_version: pct / 100} if 0 < pct < 100 else {}
        version = self.new_version if pct >= 100 else self.old_version
        self.cloud.route(self.function, self.alias, version, routing)

    def _rollback(self, caught_by: str, reason: str, status: DeploymentStatus = "Stopped") -> None:
        self._detected_s = round(self.t_s, 1)
        self._set_status(status)
        self.emit("rollback", f"{caught_by}: {reason} -> rollback deployment started")
        if self.shifted:
            self._traffic(self.t_s, ROLLBACK_DEPLOYMENT_S)  # the split serves until the rollback lands
            self.t_s += ROLLBACK_DEPLOYMENT_S
        self._weights(0)
        self.outcome = Outcome(status, caught_by, reason, self.t_s)
        self.emit("rollback", f"rollback deployment done: alias back on v{self.old_version}")

    def _stop_in_place(self, caught_by: str, reason: str) -> None:
        """StopDeployment without rollback: CodeDeploy stops shifting and leaves the alias as it is."""
        self._set_status("Stopped")
        self.outcome = Outcome("Stopped", caught_by, reason, None)
        self.emit("stop", f"{caught_by}: {reason} -> the traffic split stays as it was")

    def _as_codedeploy(self, service: str, operation: str, params: dict[str, Any]) -> None:
        """A call CodeDeploy makes with the deployment group's service role (AccessDenied if refused)."""
        if self.authorizer is not None:
            self.authorizer.require(SERVICE_ROLE, service, operation, params)

    def _acting(self, principal: str) -> contextlib.AbstractContextManager[None]:
        return self.authorizer.acting_as(principal) if self.authorizer else contextlib.nullcontext()

    def _denied(self, message: str) -> Outcome:
        """CodeDeploy fails a deployment whose service role is refused a call (an IAM permissions
        error); the automatic rollback follows (DEPLOYMENT_FAILURE)."""
        self.emit("deploy", f"CodeDeploy's service role: AccessDeniedException: {message}")
        self._rollback("IAM", f"AccessDeniedException: {message}", "Failed")
        return self.outcome

    def _run_hook(self, phase: str, hook: HookRun) -> str:
        """CodeDeploy invokes the hook asynchronously: an attempt that raises is retried by Lambda; one
        that ends without reporting leaves the lifecycle event open until the hour is up."""
        self._as_codedeploy("lambda", "Invoke", {"FunctionName": hook.name})
        execution = str(uuid.uuid4())
        self.lifecycle[execution] = None
        opened_s = self.t_s
        self.emit("hook", f"{phase}: invoking {hook.name}")
        raised = False
        reason = ""
        attempts = 0
        for delay in (0, *ASYNC_RETRY_DELAYS_S):
            attempts += 1
            if delay:
                self.emit("hook", f"{phase}: {hook.name} raised; Lambda retries in {delay:.0f} s")
                self._serve(delay)
            raised, reason = self._attempt(hook, execution)
            if self.lifecycle[execution] is not None or not raised or self.outcome.status != "InProgress":
                break
        status = self.lifecycle[execution]
        if status is None and raised and hook.dead_letter and self.outcome.status == "InProgress":
            self._serve(DEAD_LETTER_REPORT_S)
            status = self.lifecycle[execution] = "Failed"
            reason = f"{attempts} attempts raised; from the dead-letter queue its consumer reported Failed"
        elif status is None and self.outcome.status == "InProgress":
            self._serve(max(opened_s + LIFECYCLE_LIMIT_S - self.t_s, 0.0))
            status = self.lifecycle[execution] or "Failed (no status within one hour)"
        status = status or "Failed (no status reported)"
        self.emit("hook", f"{phase}: {status}" + (f" — {reason}" if reason else ""))
        self.hook_runs.append(
            {"phase": phase, "start_s": round(opened_s, 1), "end_s": round(self.t_s, 1), "status": status}
        )
        return status

    def _attempt(self, hook: HookRun, execution: str) -> tuple[bool, str]:
        """One invocation of the hook in-process; its wall time advances the clock. (raised?, reason)"""
        event = {"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": execution}
        context = LambdaContext(
            hook.name,
            "$LATEST",
            f"arn:aws:lambda:us-east-1:123456789012:function:{hook.name}",
            256,
            hook.timeout_s,
        )
        started = time.monotonic()
        self._paused_wall_s = 0.0
        raised, reason = False, ""
        with environment(hook.env), contextlib.redirect_stdout(io.StringIO()):
            try:
                with self._acting(hook.name):
                    result = hook.handler(event, context)
                reason = str(result.get("reason", "")) if isinstance(result, dict) else ""
            except Exception as exc:  # Lambda records a function error and retries the event
                raised, reason = True, f"hook raised {type(exc).__name__}: {exc}"
        self.t_s += time.monotonic() - started - self._paused_wall_s  # pauses advanced the clock already
        return raised, reason

    def pause(self, seconds: float) -> None:
        """A hook's wait (for metrics to become visible): users, alarms and the step judge carry on for
        `seconds` simulated seconds, as they do on AWS while a hook runs."""
        started, until = time.monotonic(), self.t_s + seconds
        self._serve(seconds)
        self.t_s = max(self.t_s, until)  # the wait takes its time even once the deployment has ended
        self._paused_wall_s += time.monotonic() - started

    def _serve(self, duration_s: float) -> None:
        """Synthetic users for `duration_s` simulated seconds, alarms and the step judge on the way."""
        end = self.t_s + duration_s
        while self.t_s < end - 1e-9 and self.outcome.status == "InProgress":
            tick_started = time.monotonic()
            # land on the next alarm check and the judge's next scheduled run, as AWS keeps both
            due = [x - self.t_s for x in (self.next_alarm_check_s, self.next_judge_s) if x - self.t_s > 1e-9]
            dt = min(TICK_S, end - self.t_s, *due)
            stopped_at = self._traffic(self.t_s, dt, until_stop=True)
            # a StopDeployment made by a call (the in-band breaker) takes effect at that call's time,
            # not at the end of the tick it fell in
            self.t_s = stopped_at if stopped_at is not None else self.t_s + dt
            if self.t_s >= self.next_alarm_check_s - 1e-9:
                # alarms are checked every TICK_S on a fixed grid from the deployment's start, however
                # finely a hook's or the judge's waits cut the clock
                self.next_alarm_check_s = (math.floor(self.t_s / TICK_S + 1e-9) + 1) * TICK_S
                self._check_alarms()
            if (
                self.outcome.status == "InProgress"
                and self.step_judge
                and self.t_s >= self.next_judge_s - 1e-9
            ):
                self._step_judge_look()
            if self.stop_requested == "rollback" and self.outcome.status == "InProgress":
                self._rollback(self.stopped_by, "StopDeployment(autoRollbackEnabled) after a FAIL verdict")
            elif self.stop_requested == "stop" and self.outcome.status == "InProgress":
                self._stop_in_place("StopDeployment", "stopped without rollback")
            time.sleep(max(dt / self.speed - (time.monotonic() - tick_started), 0.0))

    @property
    def requests(self) -> dict[str, int]:
        return self.calls.counts()

    @property
    def first_bad_s(self) -> float | None:
        return self.calls.first_bad_s

    def _traffic(self, start: float, dt: float, until_stop: bool = False) -> float | None:
        """Serve [start, start + dt); with `until_stop`, only until a call requests StopDeployment:
        then the time of that call."""
        clock = VirtualTime()
        stopped_at: float | None = None
        # the function's own `time` (if it imports one) sleeps on the simulated clock
        real_time = getattr(self.function_module, "time", None)
        if real_time is not None:
            self.function_module.time = clock
        try:
            for i, t in self.arrivals.between(start, start + dt):
                case = self.traffic[i % len(self.traffic)]
                event = api_gateway_event(case.request) if case.request is not None else case.event
                clock.slept_ms = 0.0
                began = time.perf_counter()
                sink = io.StringIO()  # the call's log: its EMF metrics carry the call's own second
                with contextlib.redirect_stdout(sink):
                    payload, headers = self.cloud.invoke(self.function, self.alias, json.dumps(event))
                duration = (time.perf_counter() - began) * 1000 + clock.slept_ms
                self.calls.collect_emf(sink.getvalue(), t)
                version = headers["x-amz-executed-version"]
                # Lambda's Errors metric counts unhandled errors only; a 5xx answer is a success to it
                error = "x-amz-function-error" in headers
                bad = False
                if version == self.new_version:
                    fmt = case.request.payload_format if case.request else "1.0"
                    status, body = decode_proxy_response(json.loads(payload), fmt)
                    bad = error or not evaluate(case, status, body, duration).passed
                if self.calls.record(t, version, error, duration, bad):
                    self.emit("traffic", f"first faulty answer from v{version}")
                if until_stop and self.stop_requested and self.outcome.status == "InProgress":
                    stopped_at = t
                    break
        finally:
            if real_time is not None:
                self.function_module.time = real_time
        data = self.calls.unpublished(stopped_at if stopped_at is not None else start + dt)
        if data:
            self.cloud.put_metric_data("AWS/Lambda", data)
        return stopped_at

    def _check_alarms(self) -> None:
        """CloudWatch evaluates an alarm with a period under a minute every 10 s, one of a minute or
        more every minute (CloudWatch guide, "Evaluating an alarm"), here at the clock minute;
        CodeDeploy's poll is taken to coincide (the plan counts it at worst)."""
        fetch = self.store.fetch
        grid = math.floor(self.t_s / TICK_S + 1e-9) * TICK_S
        on_minute = abs((grid + self.store.clock_offset_s) % 60) < 1e-6
        for alarm in self.alarms:
            if alarm.period >= 60 and not on_minute:
                continue
            before = alarm.state
            state = alarm.evaluate(fetch, int(self.t_s), self.visibility_s, self.store.clock_offset_s)
            if state != before:
                self.alarm_states[alarm.name].append((round(self.t_s, 1), state))
                self.cloud.set_alarm_state(alarm.name, state)
                self.emit("alarm", f"{alarm.name}: {before} -> {state}")
            if state == "ALARM" and self.outcome.status == "InProgress":
                self._rollback(f"alarm {alarm.name}", "gate alarm in ALARM (DEPLOYMENT_STOP_ON_ALARM)")
                return

    def now(self) -> datetime:
        """The simulated clock as a datetime (what the hooks and the judge read as "now")."""
        return self.epoch + timedelta(seconds=self.t_s)

    def _judge_timing(self) -> tuple[float, float]:
        """(look interval, what a run keeps in reserve) of the judge as its environment sets them."""
        assert self.step_judge is not None
        look = float(self.step_judge.env.get("STEP_LOOK_S") or STEP_LOOK_S)
        return look, step_gate.RESERVE_S

    def _step_judge_look(self) -> None:
        """One look of the step judge. A scheduled run (rate(1 minute), its Timeout) looks every
        `look` seconds while at least a look and the reserve are left; the real run sleeps between its
        looks while CodeDeploy, users and alarms go on, so here each look is its own call of the
        handler, given just the time for one look (its loop then ends after it). What a run keeps
        between looks is only a cache, so each look sees what the run's look would."""
        assert self.step_judge is not None
        look, reserve = self._judge_timing()
        context = LambdaContext(
            self.step_judge.name,
            "$LATEST",
            "arn:aws:lambda:::function:step-judge",
            256,
            look + reserve - 0.001,
            clock=lambda: self.t_s,
        )
        with (
            environment(self.step_judge.env),
            contextlib.redirect_stdout(io.StringIO()),
            self._acting(self.step_judge.name),
        ):
            result = self.step_judge.handler(
                {"source": "aws.events", "detail-type": "Scheduled Event"}, context
            )
        for action in result.get("actions", []):
            if action.get("action") != "watching":
                self.emit("judge", f"step judge: {action['verdict']} -> {action['action']}")
        following = self.next_judge_s + look
        if following - self._judge_run_s > self.step_judge.timeout_s - look - reserve + 1e-9:
            self._judge_run_s += 60  # this run is done; the schedule starts the next
            following = self._judge_run_s
        self.next_judge_s = following

    # ------------------------------------------------------------ the deployment
    def run(self, create_deployment: Callable[[], str]) -> Outcome:
        self._stdout = sys.stdout
        self.deployment_id = create_deployment()
        self._set_status("InProgress")
        self.emit(
            "deploy",
            f"deployment {self.deployment_id[:8]}: v{self.old_version} -> v{self.new_version} "
            f"({self.config.name})",
        )
        try:
            # CodeDeploy reads the alias and the group's alarms before it starts
            self._as_codedeploy("lambda", "GetAlias", {"FunctionName": self.function, "Name": self.alias})
            if self.alarms:
                self._as_codedeploy(
                    "cloudwatch", "DescribeAlarms", {"AlarmNames": [a.name for a in self.alarms]}
                )
            return self._deploy()
        except AccessDenied as exc:
            return self._denied(str(exc))

    def _deploy(self) -> Outcome:
        alarming = [a.name for a in self.alarms if a.state == "ALARM"]
        if alarming:  # CodeDeploy stops on its first alarm check, a fix included (SAM issue 716)
            self._rollback(f"alarm {alarming[0]}", "already in ALARM when the deployment started")
            return self.outcome
        if self.pre_hook:
            status = self._run_hook("BeforeAllowTraffic", self.pre_hook)
            if status != "Succeeded":
                self._rollback("pre-traffic hook", f"BeforeAllowTraffic {status}", "Failed")
                return self.outcome
        shift_started = self.t_s
        for index, step in enumerate(self.config.steps):
            self._serve(max(shift_started + step.at_s - self.t_s, 0.0))
            if self.outcome.status != "InProgress":
                return self.outcome
            self._as_codedeploy("lambda", "UpdateAlias", {"FunctionName": self.function, "Name": self.alias})
            self._weights(step.percent)
            self.emit("shift", f"{step.percent:.0f} % of traffic on v{self.new_version}")
            if index == len(self.config.steps) - 1:
                self._serve(TICK_S)  # some traffic at 100 % before the post-traffic hook
        if self.outcome.status != "InProgress":
            return self.outcome
        if self.post_hook:
            status = self._run_hook("AfterAllowTraffic", self.post_hook)
            if self.outcome.status != "InProgress":  # an alarm fired while the hook waited
                return self.outcome
            if status != "Succeeded":
                self._rollback("post-traffic hook", f"AfterAllowTraffic {status}", "Failed")
                return self.outcome
        self.outcome = Outcome("Succeeded")
        self._set_status("Succeeded")
        self.emit("done", f"deployment succeeded: v{self.new_version} serves 100 %")
        return self.outcome

    def summary(self) -> dict[str, Any]:
        detection = None
        if self.outcome.rollback_s is not None and self.first_bad_s is not None:
            detection = round(self.outcome.rollback_s - self.first_bad_s, 1)
        return {
            **asdict(self.outcome),
            "deployment_id": self.deployment_id,
            "function": self.function,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "deployment_type": self.config.name,
            "requests": dict(self.requests),
            "first_bad_request_s": self.first_bad_s,
            "detection_s": detection,
            "simulated_s": round(self.t_s, 1),
            "timeline": {
                "new_version_share": [{"t_s": t, "percent": pct} for t, pct in self.share],
                "alarms": {
                    name: [{"t_s": t, "state": state} for t, state in changes]
                    for name, changes in self.alarm_states.items()
                },
                "hooks": list(self.hook_runs),
                "detected_s": self._detected_s,
            },
        }
