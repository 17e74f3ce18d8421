"""`safedeploy watch`: follow a live CodeDeploy deployment of a stack until it ends."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, clients, number

# Polls at least a second apart (CodeDeploy and CloudWatch change no faster), at most five minutes;
# a deployment is followed for at most a day (CodeDeploy's longest wait on a hook is an hour).
INTERVAL = number(1, 300)
TIMEOUT = number(0, 86400, above=True)


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("watch", help="follow a live CodeDeploy deployment of a stack")
    p.add_argument("--stack", required=True)
    p.add_argument("--deployment-id")
    p.add_argument("--region")
    p.add_argument("--interval", type=INTERVAL, default=5.0, help="seconds between polls (1 to 300)")
    p.add_argument(
        "--timeout", type=TIMEOUT, default=3600.0, help="give up after this many seconds (at most a day)"
    )
    p.add_argument(
        "--since",
        type=_timestamp,
        metavar="ISO-8601",
        help="follow the deployment started at or after this time (waits for it while the stack "
        "updates; exit 0 when the update ends without one)",
    )
    return p


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.live.aws import stack_deployment
    from safedeploy.live.watch import find_deployment, follow, snapshot, wait_for_deployment

    cd, cw, cfn = clients(args.region, "codedeploy", "cloudwatch", "cloudformation")
    stack = stack_deployment(cfn, args.stack)
    if args.since and not args.deployment_id:
        found = wait_for_deployment(cd, cfn, stack, args.since, args.interval, args.timeout, sleep=time.sleep)
        if found is None:
            out.no_deployment(args.stack, args.since)
            return ExitStatus.OK
        deployment_id = found
    else:
        deployment_id = find_deployment(cd, stack, args.deployment_id)
    with out.watching(deployment_id) as show:
        final = follow(lambda: snapshot(cd, cw, deployment_id), show, args.interval, args.timeout, time.sleep)
    out.watched(final)
    return ExitStatus.OK if final.status == "Succeeded" else ExitStatus.FAILED
