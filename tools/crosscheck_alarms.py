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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from safedeploy.offline.alarm_eval import State, decide, evaluation_range, premature_alarm

TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
STATES: tuple[State, ...] = ("OK", "ALARM", "INSUFFICIENT_DATA")
VALUE = {True: 2.0, False: 0.5, None: None}  # against GreaterThanThreshold 1.0

Case = tuple[tuple[bool | None, ...], int, int, str, str]
Decider = Callable[[Sequence[bool | None], int, int, str, str], str]


def most_recent_present(points: Sequence[bool | None], n: int) -> tuple[bool | None, ...]:
    """The pattern with every present datapoint older than the most recent `n` present ones removed."""
    keep = [i for i, p in enumerate(points) if p is not None][-n:]
    return tuple(p if i in keep else None for i, p in enumerate(points))


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
    "localstack-premature-needs-older-missing": (
        lambda case, ours, theirs, there: (
            case[3] in ("missing", "ignore")
            and ours == "ALARM"
            and premature_alarm(case[0][-case[1] :], case[2])
            and any(p is not None for p in case[0][: -case[2]])
        ),
        "LocalStack applies the premature-alarm rule only when every datapoint of the evaluation range "
        "older than the last M is missing; the guide's condition is about the Evaluation Periods number "
        "of datapoints only ('the oldest available breaching datapoint during the Evaluation Periods "
        "number of data points is at least as old as the value of Datapoints to Alarm, and all other "
        "more recent data points are breaching or missing'). We follow the guide.",
    ),
    "ignore-premature": (
        lambda case, ours, theirs, there: case[3] == "ignore" and ours == "ALARM" and theirs == case[4],
        "The guide's premature-alarm rule ('alarms are designed to always go into ALARM state when the "
        "oldest available breaching datapoint ... is at least as old as Datapoints to Alarm, and all "
        "other more recent data points are breaching or missing') names no TreatMissingData exception; "
        "LocalStack keeps the current state for `ignore` there (its comment: 'for ignore the state "
        "should be retained'). We follow the guide.",
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
