"""The `safedeploy` command line: check, plan, timing, judge, watch, route, rehearse, drill."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from safedeploy.errors import UserError

EXIT_VERDICT = {"PASS": 0, "FAIL": 1, "INCONCLUSIVE": 3, "NODATA": 3}


def _console() -> Console:
    return Console(highlight=False)


def _parameters(template: Path, config_env: str | None, overrides: list[str]) -> dict[str, str]:
    from safedeploy.samconfig import environment_settings, parameter_overrides, read_samconfig

    params: dict[str, str] = {}
    if config_env:
        config = read_samconfig(template.parent / "samconfig.toml")
        if not config:
            raise UserError(f"no samconfig.toml next to {template}")
        params.update(parameter_overrides(environment_settings(config, config_env)))
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--parameter {item!r} is not Key=Value")
        params[key] = value
    return params


def _scope(args: argparse.Namespace) -> Any:
    """The template (and its nested applications) with the parameters of --config-env / --parameter."""
    from safedeploy.model import build_scope

    template = Path(args.template)
    return build_scope(template, _parameters(template, args.config_env, args.parameter))


def cmd_check(args: argparse.Namespace) -> int:
    from safedeploy import output
    from safedeploy.rules import check

    found = check(_scope(args))
    if args.format == "json":
        print(json.dumps([f.as_dict() for f in found], indent=2))
    else:
        output.findings(_console(), found, args.template)
    return 1 if any(f.severity == "error" for f in found) else 0


def cmd_plan(args: argparse.Namespace) -> int:
    from safedeploy import output
    from safedeploy.plan import build_plan

    template = args.template
    plans = build_plan(_scope(args))
    if args.format == "json":
        print(
            json.dumps(
                {"template": str(template), "config_env": args.config_env, "functions": plans}, indent=2
            )
        )
    else:
        output.plan(
            _console(), plans, f"plan for {template}" + (f" ({args.config_env})" if args.config_env else "")
        )
    return 0


def cmd_timing(args: argparse.Namespace) -> int:
    from safedeploy.timing_report import render_timing, timing_report

    report = timing_report(Path(args.template))
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        console = Console(highlight=False, record=bool(args.svg), width=150 if args.svg else None)
        render_timing(console, report)
        if args.svg:
            Path(args.svg).parent.mkdir(parents=True, exist_ok=True)
            console.save_svg(args.svg, title="safedeploy timing")
    return 0


def cmd_judge(args: argparse.Namespace) -> int:
    from safedeploy_core.judge import JudgeInputError, judge, parse_judge_input

    from safedeploy import output

    try:
        raw = sys.stdin.read() if args.input == "-" else Path(args.input).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {args.input}: {exc.strerror}") from exc
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise UserError(f"{args.input} is not JSON: {exc}") from exc
    try:
        baseline, canary, policy = parse_judge_input(document)
    except (JudgeInputError, TypeError) as exc:
        raise UserError(f"bad judge input: {exc}") from exc
    result = judge(baseline, canary, policy)
    if args.format == "json":
        print(json.dumps(result.as_dict(), indent=2))
    else:
        output.verdict(_console(), result)
    return EXIT_VERDICT[result.verdict]


def cmd_watch(args: argparse.Namespace) -> int:
    from safedeploy.live import watch_command

    return watch_command(args)


def cmd_route(args: argparse.Namespace) -> int:
    from safedeploy.live import route_command

    return route_command(args)


def cmd_drill(args: argparse.Namespace) -> int:
    from safedeploy.drill import drill_command

    return drill_command(args)


def cmd_rehearse(args: argparse.Namespace) -> int:
    from safedeploy.rehearse import rehearse_command

    return rehearse_command(args)


def build_parser() -> argparse.ArgumentParser:
    from safedeploy_core.timing import PREDEFINED

    parser = argparse.ArgumentParser(prog="safedeploy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def fmt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=("text", "json"), default="text")

    def template_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("template", nargs="?", default="template.yaml")
        p.add_argument("--config-env", help="environment in samconfig.toml next to the template")
        p.add_argument(
            "--parameter",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="template parameter override (repeatable)",
        )

    p = sub.add_parser("check", help="lint a SAM template for unsafe deployment settings")
    template_args(p)
    fmt(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("plan", help="print what a deployment will do, step by step")
    template_args(p)
    fmt(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("timing", help="gate alarm detection time against every deployment type")
    p.add_argument("template", nargs="?", default="template.yaml")
    p.add_argument("--svg", metavar="FILE", help="also save the table as an SVG picture")
    fmt(p)
    p.set_defaults(func=cmd_timing)

    p = sub.add_parser("judge", help="judge canary against baseline from a JSON file")
    p.add_argument("--input", required=True, help="JSON file ('-' for stdin)")
    fmt(p)
    p.set_defaults(func=cmd_judge)

    p = sub.add_parser("watch", help="follow a live CodeDeploy deployment of a stack")
    p.add_argument("--stack", required=True)
    p.add_argument("--deployment-id")
    p.add_argument("--region")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    p.add_argument("--timeout", type=float, default=3600.0, help="give up after this many seconds")
    fmt(p)
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("route", help="set alias weights by hand for A/B tests")
    p.add_argument("--stack", required=True)
    p.add_argument("--function", required=True, help="logical ID of the function in the stack")
    p.add_argument("--region")
    p.add_argument("--alias", default="live")
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--weight", type=float, help="percent of traffic for --version (0-100)")
    action.add_argument("--reset", action="store_true", help="all traffic to one version")
    action.add_argument("--show", action="store_true")
    p.add_argument(
        "--version",
        help="version that gets --weight (default: the newest); with --reset the one that "
        "gets all traffic (default: the alias's primary version)",
    )
    fmt(p)
    p.set_defaults(func=cmd_route)

    p = sub.add_parser("rehearse", help="run a whole gradual deployment offline (moto + in-process Lambda)")
    p.add_argument("template", nargs="?", default="template.yaml")
    p.add_argument("--fault", choices=("none", "error", "slow", "bad-response"), default="none")
    p.add_argument("--fault-rate", type=float, default=100.0, help="percent of requests that get the fault")
    p.add_argument("--type", choices=PREDEFINED, help="deployment type (default: the template's)")
    p.add_argument("--function", default="HelloWorldFunction")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second")
    p.add_argument("--rps", type=float, default=20.0, help="simulated requests per second")
    p.add_argument("--seed", type=int, default=7)
    fmt(p)
    p.set_defaults(func=cmd_rehearse)

    p = sub.add_parser("drill", help="prove rollback on a real non-production stack")
    p.add_argument("--stack", required=True)
    p.add_argument("--function", default="HelloWorldFunction")
    p.add_argument("--fault", choices=("error", "slow", "bad-response"), default="error")
    p.add_argument("--fault-rate", type=float, default=100.0)
    p.add_argument("--region")
    p.add_argument("--i-know", action="store_true", help="allow a stack whose environment is prod")
    p.add_argument("--timeout", type=float, default=3600.0)
    fmt(p)
    p.set_defaults(func=cmd_drill)
    return parser


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"safedeploy: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except NoRegionError:
        print("safedeploy: error: no AWS region: pass --region or set AWS_REGION", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print("safedeploy: error: no AWS credentials (aws configure, or AWS_PROFILE)", file=sys.stderr)
        return 2
    except ClientError as exc:
        err = exc.response.get("Error", {})
        print(
            f"safedeploy: error: {exc.operation_name}: {err.get('Code')}: {err.get('Message')}",
            file=sys.stderr,
        )
        return 2
    except BotoCoreError as exc:
        print(f"safedeploy: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("safedeploy: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # malformed input we did not foresee: still one line, never a traceback
        if os.environ.get("SAFEDEPLOY_DEBUG"):
            raise
        print(
            f"safedeploy: error: {type(exc).__name__}: {exc} (SAFEDEPLOY_DEBUG=1 shows where)",
            file=sys.stderr,
        )
        return 2


def entry(argv: list[str] | None = None) -> Any:  # pragma: no cover - console script
    sys.exit(main(argv))
