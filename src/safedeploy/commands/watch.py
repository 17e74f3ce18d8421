"""`safedeploy watch`: follow a live CodeDeploy deployment of a stack until it ends."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, clients


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("watch", help="follow a live CodeDeploy deployment of a stack")
    p.add_argument("--stack", required=True)
    p.add_argument("--deployment-id")
    p.add_argument("--region")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    p.add_argument("--timeout", type=float, default=3600.0, help="give up after this many seconds")
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.live.aws import stack_deployment
    from safedeploy.live.watch import find_deployment, follow, snapshot

    cd, cw, cfn = clients(args.region, "codedeploy", "cloudwatch", "cloudformation")
    deployment_id = find_deployment(cd, stack_deployment(cfn, args.stack), args.deployment_id)
    with out.watching(deployment_id) as show:
        final = follow(lambda: snapshot(cd, cw, deployment_id), show, args.interval, args.timeout)
    out.watched(final)
    return ExitStatus.OK if final.status == "Succeeded" else ExitStatus.FAILED
