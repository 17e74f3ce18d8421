"""`plan`'s cost of the kit's machinery: counted from the translated template, priced from the list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safedeploy.cli import app as cli
from safedeploy.errors import UserError
from safedeploy.planning.cost import build_cost, count_alarm
from safedeploy.planning.prices import LIST_PRICES, PRICED_REGION, price_book
from safedeploy.template.scope import build_scope

ROOT = Path(__file__).resolve().parents[2]

# One protected function (512 MB, x86, with the in-band breaker) gated by a plain 60-s alarm and a
# 10-s metric-math alarm on two custom metrics; a pre-traffic hook (60 s, 128 MB); a step judge every
# 5 minutes (arm64, 1 GB, 10-s looks); a composite alarm and four dashboards that watch nothing of it.
SMALL = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Runtime: python3.13
      MemorySize: 512
      AutoPublishAlias: live
      Environment: {Variables: {BREAKER_APPLICATION: app}}
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref Plain, !Ref Math]
        Hooks: {PreTraffic: !Ref Pre}
  Pre:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hooks/
      Handler: pre.handler
      Runtime: python3.13
      Timeout: 60
      DeploymentPreference: {Enabled: false}
  Judge:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hooks/
      Handler: judge.handler
      Runtime: python3.13
      Timeout: 60
      MemorySize: 1024
      Architectures: [arm64]
      Environment: {Variables: {STEP_LOOK_S: "10"}}
      Events:
        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}
  Plain:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 2
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
  Math:
    Type: AWS::CloudWatch::Alarm
    Properties:
      EvaluationPeriods: 6
      DatapointsToAlarm: 3
      Threshold: 2
      ComparisonOperator: GreaterThanThreshold
      Metrics:
        - {Id: e, ReturnData: false, MetricStat: {Period: 10, Stat: Sum, Metric: {Namespace: App, MetricName: Errors}}}
        - {Id: r, ReturnData: false, MetricStat: {Period: 10, Stat: Sum, Metric: {Namespace: App, MetricName: Requests}}}
        - {Id: rate, Expression: "100 * e / r"}
  Health:
    Type: AWS::CloudWatch::CompositeAlarm
    Properties:
      AlarmRule: !Sub 'ALARM("${Plain}")'
  D1: {Type: AWS::CloudWatch::Dashboard, Properties: {DashboardBody: '{"widgets": []}'}}
  D2: {Type: AWS::CloudWatch::Dashboard, Properties: {DashboardBody: '{"widgets": []}'}}
  D3: {Type: AWS::CloudWatch::Dashboard, Properties: {DashboardBody: '{"widgets": []}'}}
  D4: {Type: AWS::CloudWatch::Dashboard, Properties: {DashboardBody: '{"widgets": []}'}}
"""

GIB = 1024**3
X86, ARM = 0.0000166667, 0.0000133334


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(SMALL)
    return path


def test_the_list_prices_name_their_source_and_date() -> None:
    book = price_book(None).as_dict()
    assert book["read"] and all(
        p["source"].startswith("https://aws.amazon.com/") for p in book["prices"].values()
    )
    assert set(LIST_PRICES) == {PRICED_REGION}


def test_the_arithmetic_of_a_small_template_against_hand_computed_list_prices(small: Path) -> None:
    # GIVEN a small template and the us-east-1 list prices
    # WHEN it is costed
    report = build_cost(build_scope(small), price_book("us-east-1"))
    # THEN each part is what the list prices give by hand
    (fn,) = report.functions
    assert fn.function == "Fn"
    # 1 standard alarm metric at $0.10, a 10-s alarm reading 2 metrics at $0.30 each
    assert fn.standing.usd == pytest.approx(0.10 + 2 * 0.30)
    # its gate reads a custom namespace: 3 EMF metrics at $0.30 while it serves traffic
    assert fn.with_traffic.usd == pytest.approx(3 * 0.30)
    # the shift (300 s) with the pre-traffic hook (60 s): 36 looks of 10 s, none reading a 1-s series
    # (no EMF), 6 runs each reading Lambda's 8 per-minute series twice and 1 for the threshold; the
    # runs 59.8 s more than idle (0.1 s + 2 list calls of 0.05 s) at 1 GB arm; the hook: 1 request,
    # 60 s x 128 MB
    judge_metrics = 36 * 0 + 6 * (2 * 8 + 1)
    assert fn.per_deployment.usd == pytest.approx(
        judge_metrics / 1000 * 0.01 + 6 * 59.8 * 1.0 * ARM + 0.20 / 1e6 + 60 * 0.125 * X86
    )
    # per million requests: 440-byte EMF lines at $0.50 a GB, the breaker's 3.15 us at 512 MB x86
    assert fn.per_million_requests.usd == pytest.approx(1e6 * 440 / GIB * 0.50 + 3.15 * 0.5 * X86)
    # the stack: the composite alarm, 4 dashboards of which 3 free, 8 760 runs of 0.2 s at 1 GB arm
    runs = 30 * 24 * 60 / 5 * 730 / 720
    assert runs == pytest.approx(8760)
    assert report.stack.usd == pytest.approx(
        0.50 + 3.00 + runs / 1e6 * 0.20 + runs * 0.2 * 1.0 * ARM + runs * 350 / GIB * 0.50
    )
    assert report.standing_per_function_usd == pytest.approx(report.stack.usd + 0.70)


def test_prices_and_assumptions_can_be_overridden(small: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text("[prices]\nalarm_metric_standard = 0.2\n[assumptions]\nfree_dashboards = 0\n")
    report = build_cost(build_scope(small), price_book("eu-west-1", prices))
    assert report.functions[0].standing.usd == pytest.approx(0.2 + 0.6)
    dashboards = next(line for line in report.stack.lines if line.price == "dashboard")
    assert dashboards.usd == pytest.approx(4 * 3.00)
    assert any("eu-west-1" in note and "us-east-1" in note for note in report.notes)
    assert report.book.overridden == ("prices.alarm_metric_standard", "assumptions.free_dashboards")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[prices]\nnope = 1\n", "unknown prices key 'nope'"),
        ("[prices]\ndashboard = -1\n", "must be a number >= 0"),
        ("[prices]\ndashboard = 'cheap'\n", "must be a number >= 0"),
        ("[other]\n", "unknown table(s) other"),
        ("not toml [", "is not TOML"),
    ],
)
def test_a_bad_prices_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        price_book(None, path)


def test_alarms_are_billed_by_resolution_and_metrics_read() -> None:
    assert count_alarm({"MetricName": "Errors", "Period": 60}).metrics == 1
    assert count_alarm({"MetricName": "Errors", "Period": 10}).high_resolution
    band = count_alarm(
        {
            "Metrics": [
                {"Id": "m", "MetricStat": {"Period": 60}},
                {"Id": "b", "Expression": "ANOMALY_DETECTION_BAND(m)"},
            ]
        }
    )
    assert band.metrics == 3 and band.note


def test_plan_json_reports_the_cost_parts_of_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the sample with its default settings
    code = cli.main(["plan", str(ROOT / "template.yaml"), "--format", "json"])
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert code == 0
    # THEN every part is there, per function and for the stack
    names = {f["function"] for f in cost["functions"]}
    assert names == {"HelloWorldFunction", "EchoFunction"}
    for f in cost["functions"]:
        assert {
            "standing_per_month",
            "with_traffic_per_month",
            "per_deployment",
            "per_million_requests",
        } <= set(f)
        assert f["per_deployment"]["usd"] > 0
    hello = next(f for f in cost["functions"] if f["function"] == "HelloWorldFunction")
    assert hello["per_million_requests"]["usd"] > 0  # its EMF line and breaker
    kinds = " ".join(line["what"] for line in cost["stack_standing_per_month"]["lines"])
    assert "StepJudgeFunction" in kinds and "dashboard" in kinds
    # no composite alarm, one dashboard for the stack, and at most $2 a month per protected function
    assert not any(
        line["price"] == "composite_alarm"
        for f in cost["functions"]
        for line in f["standing_per_month"]["lines"]
    )
    assert cost["protected_functions"] == 2
    assert cost["standing_per_protected_function"] <= 2.0
    assert cost["prices"]["region"] == "us-east-1"


def test_plan_text_prints_the_cost_and_a_bad_prices_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["plan", str(ROOT / "template.yaml")]) == 0
    out = capsys.readouterr().out
    assert "What the kit's machinery costs" in out and "per protected function (2)" in out
    bad = tmp_path / "p.toml"
    bad.write_text("[prices]\nnope = 1\n")
    assert cli.main(["plan", str(ROOT / "template.yaml"), "--prices", str(bad)]) == 2
    assert "unknown prices key" in capsys.readouterr().err
