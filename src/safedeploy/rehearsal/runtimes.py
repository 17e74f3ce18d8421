"""One runner per runtime: how a function of the template is started (Python or Node.js, each in its
own process with its own dependencies and an environment built from nothing), and the callable the fake
account's Lambda invokes — where the rehearsal's faults wrap the handler.

Python functions run in a process too, not in the CLI's: there they would see the CLI's environment
(the runner's credentials and tokens), its installed packages instead of their own, and share
sys.modules with the hooks and with each other.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from safedeploy.errors import UserError
from safedeploy.rehearsal.dependencies import (
    built_code,
    node_task_root,
    python_packages,
    python_runtime_sdk,
)
from safedeploy.rehearsal.faults import FaultPlan
from safedeploy.rehearsal.isolation import Refusal, function_environment
from safedeploy.rehearsal.process import FunctionError, FunctionProcess

NODE_RUNTIMES = ("nodejs18.x", "nodejs20.x", "nodejs22.x")
_PYTHON = re.compile(r"^python3\.\d+$")
LWA_HINT = "LambdaAdapterLayer"
SWITCHED_FAULTS = ("error", "bad-response")  # what the kit's FAULT_MODE switch makes as --fault does


@dataclass(frozen=True)
class FunctionSpec:
    """What the template says of one function, resolved for the rehearsal."""

    logical: str
    physical: str
    runtime: str
    handler: str
    code_dir: Path
    template_dir: Path
    env: dict[str, str]
    timeout_s: float
    memory_mb: int
    layers: tuple[str, ...] = ()
    build_method: str | None = None


def _runner_file(name: str) -> Path:
    return Path(str(resources.files("safedeploy.rehearsal.runners").joinpath(name)))


def _unsupported(spec: FunctionSpec) -> str | None:
    """Why this function cannot be rehearsed here, in one line (None: it can)."""
    if spec.env.get("AWS_LAMBDA_EXEC_WRAPPER") == "/opt/bootstrap" or any(LWA_HINT in x for x in spec.layers):
        return (
            f"{spec.logical} runs behind the Lambda Web Adapter layer, which a rehearsal cannot run: "
            "rehearse a function with a plain handler, or try it with `sam local start-api`"
        )
    if spec.runtime not in NODE_RUNTIMES and not _PYTHON.match(spec.runtime):
        return (
            f"{spec.logical} runs on {spec.runtime or 'a container image'}: a rehearsal runs Python and "
            f"Node.js ({', '.join(NODE_RUNTIMES)}) functions; try `sam local invoke` for this one"
        )
    return None


def start_process(
    spec: FunctionSpec, endpoint: str, region: str, home: Path
) -> tuple[FunctionProcess, Path | None]:
    """The function's runner, started; and a temporary folder to remove afterwards (or None)."""
    problem = _unsupported(spec)
    if problem:
        raise UserError(problem)
    built = built_code(spec.template_dir, spec.logical, spec.code_dir)
    if built is None and spec.build_method == "esbuild":
        raise UserError(
            f"{spec.logical} is built by esbuild (Metadata BuildMethod): run `sam build` first; "
            f"the rehearsal runs .aws-sam/build/{spec.logical}"
        )
    code_dir = built or spec.code_dir
    if not code_dir.is_dir():
        raise UserError(f"{spec.logical}: its code folder {code_dir} does not exist")
    temporary: Path | None = None
    if spec.runtime in NODE_RUNTIMES:
        node = shutil.which("node")
        if node is None:
            raise UserError(f"{spec.logical} is a Node.js function: install Node.js (apt-get install nodejs)")
        code = node_task_root(spec.logical, code_dir)
        temporary = code.task_root if code.temporary else None
        task_root = code.task_root
        command = [node, str(_runner_file("node_runner.js")), str(task_root), spec.handler]
    else:
        # sam build's folder holds the packages already; the runtime's boto3 comes last either way
        paths = python_packages(spec.logical, code_dir) if built is None else [python_runtime_sdk()]
        task_root = code_dir
        command = [
            sys.executable,
            "-I",  # isolated: no PYTHON* variables, no user site
            "-S",  # no site-packages: the CLI's packages are not the function's
            str(_runner_file("python_runner.py")),
            str(task_root),
            spec.handler,
            *map(str, paths),
        ]
    env = function_environment(
        spec.env,
        function_name=spec.physical,
        memory_mb=spec.memory_mb,
        runtime=spec.runtime,
        handler=spec.handler,
        task_root=task_root,
        endpoint=endpoint,
        region=region,
        home=home,
    )
    process = FunctionProcess(spec.logical, command, env, task_root, spec.timeout_s)
    try:
        process.start()
    except UserError as exc:
        if spec.layers:
            raise UserError(
                f"{exc} (it uses layer(s) {', '.join(spec.layers)}, which a rehearsal does not fetch: "
                "list their packages with the function's own dependencies)"
            ) from exc
        raise
    return process, temporary


@dataclass
class RehearsedFunction:
    """The handler the fake account's Lambda calls for one function: the fault plan first, then the
    runner. `time` is the clock a slow fault sleeps on (the engine swaps in its simulated clock while
    synthetic users call)."""

    spec: FunctionSpec
    process: FunctionProcess
    faults: FaultPlan
    refusals: list[Refusal] = field(default_factory=list)
    time: Any = time
    own_process: bool = True  # the fake account's Lambda need not swap its os.environ for this one

    def __call__(self, event: Any, context: Any) -> Any:
        # the engine puts its simulated clock here while synthetic users call; otherwise a hook calls
        fault = self.faults.draw(str(context.function_version), "hooks" if self.time is time else "users")
        env = {
            "AWS_LAMBDA_FUNCTION_VERSION": str(context.function_version),
            "AWS_LAMBDA_LOG_STREAM_NAME": str(context.log_stream_name),
        }
        inside = self.fault_switch and fault in SWITCHED_FAULTS
        if self.fault_switch:
            # The function carries the kit's own fault switch (FAULT_MODE, read at call time): an error
            # or a bad answer is made inside its handler, where its in-band breaker sees it, as in a drill;
            # the rehearsal still draws which calls get one. A slow call stays on the simulated clock.
            firing = {"FAULT_MODE": fault, "FAULT_RATE": "100"}
            keep = {k: self.spec.env.get(k, "") for k in ("FAULT_MODE", "FAULT_RATE")}
            env.update(firing if inside else keep)
        if not inside:
            FaultPlan.before(fault, self.time)
        fields = {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "timeout_s": context.get_remaining_time_in_millis() / 1000,
        }
        try:
            answer = self.process.invoke(event, fields, env)
        except FunctionError as exc:
            self._seen(exc.logs, exc.refused)
            raise
        self._seen(answer.logs, answer.refused)
        return answer.result if inside else FaultPlan.after(fault, answer.result)

    @property
    def fault_switch(self) -> bool:
        return "FAULT_MODE" in self.spec.env

    def _seen(self, logs: str, refused: list[str]) -> None:
        if logs:
            sys.stdout.write(logs)  # the call's log: the engine reads its EMF metrics
        for host in refused:
            refusal = Refusal(self.spec.logical, host)
            if refusal not in self.refusals:
                self.refusals.append(refusal)
