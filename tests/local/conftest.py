"""`sam local invoke` of the BUILT artefacts in a Lambda-like container (run by `make local-invoke`).

The hooks in their containers talk to a moto server on this host, bound to the Docker bridge's
gateway address; the stand-in image's SDK is pointed at it through a derived image
(`AWS_ENDPOINT_URL=http://aws.local:PORT`, with `--add-host aws.local:GATEWAY` per invoke), because
`sam local invoke --env-vars` only overrides variables the template declares.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

IMAGE = os.environ.get("LOCAL_LAMBDA_IMAGE", "safedeploy/lambda-python:3.13")
HOOK_IMAGE = IMAGE.replace(":", "-aws-local:", 1) if ":" in IMAGE else f"{IMAGE}-aws-local"
MOTO_PORT = int(os.environ.get("LOCAL_LAMBDA_MOTO_PORT", "45660"))
SAM = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "sam")
ARCH = "x86_64"  # the stand-in image carries this machine's Python build (see docs/offline.md)


@dataclass
class Invocation:
    response: Any
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_type(self) -> str | None:
        if isinstance(self.response, dict) and "errorType" in self.response:
            return str(self.response["errorType"])
        return None


def sam_build(template: Path, build_dir: Path) -> float:
    """`sam build` for x86_64 into build_dir; returns its wall time."""
    started = time.perf_counter()
    proc = subprocess.run(
        [
            SAM,
            "build",
            "-t",
            str(template),
            "-b",
            str(build_dir),
            "--parameter-overrides",
            f"Architecture={ARCH}",
        ],
        cwd=template.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode:
        pytest.fail(f"sam build of {template} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - started


def sam_invoke(
    built_template: Path,
    function_id: str,
    event: Path,
    *,
    image: str = IMAGE,
    env: dict[str, str] | None = None,
    hosts: dict[str, str] | None = None,
) -> Invocation:
    """One `sam local invoke`; the function's answer is the last line SAM prints on stdout."""
    cmd = [SAM, "local", "invoke", "-t", str(built_template), function_id, "-e", str(event)]
    cmd += ["--invoke-image", image, "--skip-pull-image", "--parameter-overrides", f"Architecture={ARCH}"]
    for name, address in (hosts or {}).items():
        cmd += ["--add-host", f"{name}:{address}"]
    env_file = built_template.parent / f"env-{function_id.replace('/', '-')}.json"
    if env:
        env_file.write_text(json.dumps({"Parameters": env}))
        cmd += ["--env-vars", str(env_file)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    seconds = time.perf_counter() - started
    print(f"sam local invoke {function_id}: {seconds:.1f} s")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        response = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        response = None
    if proc.returncode or response is None:
        pytest.fail(
            f"sam local invoke {function_id} gave no answer (exit {proc.returncode}): {proc.stderr[-600:]}"
        )
    return Invocation(response, proc.stdout, proc.stderr, seconds)


@pytest.fixture(scope="session")
def docker_client() -> Any:
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # any failure to reach the engine means the same thing here
        pytest.fail(f"no Docker engine answers ({exc}): run tools/local_lambda/docker-host.sh first")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"no image {IMAGE}: run tools/local_lambda/build-image.sh first")
    return client


@pytest.fixture(scope="session")
def gateway(docker_client: Any) -> str:
    """The host's address on Docker's default bridge: what a Lambda container reaches this host by."""
    config = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    # The default bridge lists no gateway when dockerd chose the subnet; it is then the first address.
    return str(config.get("Gateway") or next(ipaddress.ip_network(config["Subnet"]).hosts()))


@pytest.fixture(scope="session")
def hook_image(docker_client: Any) -> str:
    dockerfile = f"FROM {IMAGE}\nENV AWS_ENDPOINT_URL=http://aws.local:{MOTO_PORT}\n"
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=HOOK_IMAGE, rm=True)
    return HOOK_IMAGE


@pytest.fixture(scope="session")
def built() -> Path:
    """The project built for x86_64, apart from `make build`'s arm64 artefacts."""
    build_dir = ROOT / ".aws-sam" / "local"
    seconds = sam_build(ROOT / "template.yaml", build_dir)
    print(f"sam build (x86_64): {seconds:.1f} s")
    return build_dir


@pytest.fixture
def moto_on_bridge(gateway: str) -> Iterator[Any]:
    """A moto server the containers can reach, extended with what the hooks call that moto lacks,
    and running target functions in-process (the hooks' containers are what is under test)."""
    from safedeploy.offline.inprocess_lambda import InProcessLambda
    from safedeploy.offline.moto_server import extended
    from safedeploy.rehearsal.world import moto_server

    runtime = InProcessLambda()
    with runtime.installed(), extended() as records, moto_server(gateway, MOTO_PORT) as endpoint:
        yield endpoint, runtime, records
