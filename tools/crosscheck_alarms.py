"""Cross-check the rehearsal's alarm decision against LocalStack's CloudWatch alarm evaluator.

Every pattern of breaching / not-breaching / missing datapoints over the evaluation range, for
EvaluationPeriods 1..5, every DatapointsToAlarm, every TreatMissingData and every current state, is
decided twice: by `safedeploy.offline.alarm_eval.decide` and by LocalStack's
`localstack.services.cloudwatch.alarm_scheduler.calculate_alarm_state` (localstack-core, run with its
data fetch and state update replaced by this script, nothing else). Each disagreement must fall in a
class listed in EXPLAINED, with the source that decides it; any other fails the run (exit 1).

Run with the venv that holds localstack-core: `.venv-localstack/bin/python tools/crosscheck_alarms.py`.
"""

from __future__ import annotations

import itertools
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "hooks")]  # the package and the core it shares with the hooks

from safedeploy.offline.alarm_eval import State, decide, evaluation_range  # noqa: E402

TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
STATES: tuple[State, ...] = ("OK", "ALARM", "INSUFFICIENT_DATA")
VALUE = {True: 2.0, False: 0.5, None: None}  # against GreaterThanThreshold 1.0

Case = tuple[tuple[bool | None, ...], int, int, str, str]
Decider = Callable[[Sequence[bool | None], int, int, str, str], str]


def most_recent_present(points: Sequence[bool | None], n: int) -> tuple[bool | None, ...]:
    """The pattern with every present datapoint older than the most recent `n` present ones removed."""
    keep = [i for i, p in enumerate(points) if p is not None][-n:]
    return tuple(p if i in keep else None for i, p in enumerate(points))


def too_few_all_breaching(case: Case) -> bool:
    """Fewer than N datapoints present, every one breaching, fewer than M of them."""
    present = [p for p in case[0] if p is not None]
    return 0 < len(present) < case[1] and all(present) and len(present) < case[2]


# class name -> (is this disagreement of that class?, why it is not a bug here)
EXPLAINED: dict[str, tuple[Callable[[Case, str, str, Decider], bool], str]] = {
    "localstack-counts-the-whole-range": (
        lambda case, ours, theirs, there: there(most_recent_present(case[0], case[1]), *case[1:]) == ours,
        "With at least N datapoints present LocalStack counts breaches over every present datapoint of the "
        "evaluation range; the guide evaluates only the most recent N ('The number of data points "
        "evaluated is equal to the Evaluation Periods for the alarm. The extra data points from farther "
        "back in the evaluation range are not needed and are ignored'). Given only those N, LocalStack "
        "agrees with us.",
    ),
    "guide-table-premature-alarm": (
        lambda case, ours, theirs, there: (
            case[3] == "missing" and ours == "ALARM" and theirs == "OK" and too_few_all_breaching(case)
        ),
        "Fewer than N datapoints, all breaching, the oldest at least M periods old, `missing`: the guide's "
        "3-of-3 table row 'X - - - -' is ALARM ('because the oldest evaluated data point is breaching and "
        "there aren't any non-breaching data points'); LocalStack applies its premature rule only to the "
        "datapoints older than the last M and says OK.",
    ),
    "guide-table-insufficient-data": (
        lambda case, ours, theirs, there: (
            case[3] == "missing"
            and ours == "INSUFFICIENT_DATA"
            and theirs == "OK"
            and too_few_all_breaching(case)
        ),
        "Fewer than N datapoints, all breaching, too recent for the premature rule, `missing`: the "
        "guide's row '- - - - X' is 'Insufficient data' in both tables; LocalStack says OK.",
    ),
    "guide-table-ignore-retains": (
        lambda case, ours, theirs, there: (
            case[3] == "ignore" and ours == case[4] and theirs == "OK" and too_few_all_breaching(case)
        ),
        "The same datapoints under `ignore`: the guide's rows 'X - - - -' and '- - - - X' are 'Retain "
        "current state'; LocalStack says OK.",
    ),
    "ignore-m-breaching-of-too-few": (
        lambda case, ours, theirs, there: (
            case[3] == "ignore"
            and ours == "ALARM"
            and theirs == case[4]
            and sum(p is not None for p in case[0]) < case[1]
            and sum(bool(p) for p in case[0]) >= case[2]
        ),
        "Fewer than N datapoints but at least M of them breaching, `ignore`: no cell of the guide's tables "
        "has this; we follow its prose (missing datapoints are filled with nothing under `ignore`, the "
        "real ones are evaluated, and 'if fewer than Datapoints to Alarm are breaching, the alarm state is "
        "set to OK. Otherwise, the state is set to ALARM'); LocalStack keeps the current state. An "
        "assumption: the rehearsal's gates use notBreaching, so none of them depends on it.",
    ),
    "n-present-is-evaluated": (
        lambda case, ours, theirs, there: (
            case[3] == "ignore"
            and theirs == case[4]
            and sum(p is not None for p in case[0]) >= case[1]
            and ours == decide(case[0], case[1], case[2], "breaching", "OK")  # N present: no state used
        ),
        "At least N datapoints present, `ignore`: the guide evaluates the most recent N present ones and "
        "'the value you set for how to treat missing data is not needed and is ignored'; LocalStack's "
        "premature-alarm check runs first and keeps the state for `ignore`.",
    ),
}


def localstack_decider() -> Decider:
    from localstack.services.cloudwatch import alarm_scheduler as ls

    recorded: list[str] = []
    alarm: dict[str, Any] = {}
    values: list[float | None] = []

    class Client:
        def set_alarm_state(self, **kwargs: Any) -> None:
            recorded.append(kwargs["StateValue"])

    ls.get_metric_alarm_details_for_alarm_arn = lambda arn: alarm
    ls.get_cloudwatch_client_for_region_of_alarm = lambda arn: Client()
    ls.collect_metric_data = lambda details, client: list(values)

    def decide_there(points: Sequence[bool | None], n: int, m: int, treat: str, current: str) -> str:
        alarm.clear()
        alarm.update(
            AlarmName="a",
            AlarmArn="arn:aws:cloudwatch:us-east-1:000000000000:alarm:a",
            StateValue=current,
            Namespace="X",
            MetricName="M",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=n,
            DatapointsToAlarm=m,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData=treat,
        )
        values[:] = [VALUE[p] for p in points]
        recorded.clear()
        ls.calculate_alarm_state(alarm["AlarmArn"])
        return recorded[-1] if recorded else current

    return decide_there


def main() -> int:
    warnings.simplefilter("ignore")  # LocalStack's datetime.utcnow()
    theirs = localstack_decider()
    total = 0
    explained: Counter[str] = Counter()
    unexplained: list[str] = []
    for n in range(1, 6):
        width = evaluation_range(n)
        for points in itertools.product((True, False, None), repeat=width):
            for m, treat, current in itertools.product(range(1, n + 1), TREATMENTS, STATES):
                total += 1
                ours = decide(points, n, m, treat, current)
                there = theirs(points, n, m, treat, current)
                if ours == there:
                    continue
                case: Case = (points, n, m, treat, current)
                label = next(
                    (k for k, (test, _) in EXPLAINED.items() if test(case, ours, there, theirs)), None
                )
                if label:
                    explained[label] += 1
                else:
                    pattern = "".join({True: "X", False: "0", None: "-"}[p] for p in points)
                    unexplained.append(
                        f"{pattern} N={n} M={m} {treat} from {current}: ours {ours}, LocalStack {there}"
                    )
    equal = total - sum(explained.values()) - len(unexplained)
    print(f"alarm decisions cross-checked with LocalStack: {total} cases, {equal} equal")
    for label, count in explained.items():
        print(f"  explained disagreements [{label}]: {count} — {EXPLAINED[label][1]}")
    for line in unexplained[:20]:
        print(f"  UNEXPLAINED: {line}")
    if unexplained:
        print(f"{len(unexplained)} unexplained disagreements")
        return 1
    print("0 unexplained disagreements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
