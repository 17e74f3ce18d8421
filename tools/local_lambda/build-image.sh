#!/usr/bin/env bash
# A local stand-in for AWS's Lambda Python 3.13 base image, from registry packages only (public
# image registries are out of reach here). What it holds, and how it differs from AWS's image:
# - a Debian bookworm minbase root file system (AWS: Amazon Linux 2023);
# - this machine's own CPython 3.13 build, copied in at the same prefix and linked from
#   /var/lang/bin (AWS: its own build under /var/lang);
# - /var/runtime with awslambdaric (AWS's runtime interface client, from PyPI) and boto3, and a
#   /var/runtime/bootstrap that runs the handler through it, as the base image's bootstrap does.
# SAM adds the runtime interface emulator on top (its rapid image), exactly as with AWS's image.
# Usage: build-image.sh [IMAGE]   (python3.13 must be on PATH)
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # dockerd and debootstrap live there
here=$(cd "$(dirname "$0")" && pwd)
image=${1:-safedeploy/lambda-python:3.13}
work=${LOCAL_LAMBDA_WORK:-$here/../../build/local-lambda}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

py=$(command -v python3.13) || { echo "error: python3.13 is not on PATH" >&2; exit 1; }
prefix=$("$py" -c 'import sys; print(sys.base_prefix)')
inputs=$( (cat "$0" "$here/runtime-requirements.txt"; "$py" -VV; echo "$prefix") | sha256sum | cut -c1-16)
if [[ $(docker image inspect "$image" --format '{{range .Config.Env}}{{println .}}{{end}}' 2>/dev/null \
        | grep -c "^SAFEDEPLOY_IMAGE_INPUTS=$inputs$") == 1 ]]; then
    echo "stand-in image $image: up to date ($inputs)"
    exit 0
fi

mkdir -p "$work"
rootfs=$work/rootfs
if [[ ! -f $work/rootfs.done ]]; then
    command -v debootstrap >/dev/null || {
        echo "error: debootstrap is not installed (apt-get install debootstrap); with network access, SAM's own images need none of this" >&2
        exit 1
    }
    rm -rf "$rootfs"
    echo "debootstrap bookworm (minbase) -> $rootfs"
    # The shared libraries CPython's extension modules link against (ssl, ctypes, sqlite3, ...).
    debootstrap --variant=minbase \
        --include=libssl3,libffi8,libsqlite3-0,libbz2-1.0,libexpat1,liblzma5,libncursesw6,libreadline8,zlib1g,libuuid1,ca-certificates \
        bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
        || { tail -5 "$work/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc "$rootfs"/usr/share/man
    touch "$work/rootfs.done"
fi

echo "CPython $("$py" -c 'import platform; print(platform.python_version())') from $prefix"
rm -rf "$rootfs/var/lang" "$rootfs/var/runtime" "${rootfs:?}$prefix"
mkdir -p "$rootfs$prefix" "$rootfs/var/lang/bin" "$rootfs/var/runtime" "$rootfs/var/task"
cp -a "$prefix/." "$rootfs$prefix/"
# What a runtime does not need: tests, IDLE/Tk, bundled pip wheels, static libraries, site-packages.
rm -rf "$rootfs$prefix"/lib/python3.13/{test,idlelib,tkinter,turtledemo,ensurepip} \
    "$rootfs$prefix"/lib/python3.13/site-packages/* "$rootfs$prefix"/lib/*.a \
    "$rootfs$prefix"/lib/python3.13/config-3.13-*/*.a
for name in python3.13 python3 python; do ln -sf "$prefix/bin/python3.13" "$rootfs/var/lang/bin/$name"; done
"$py" -m pip install --disable-pip-version-check --root-user-action=ignore --no-compile \
    --target "$rootfs/var/runtime" -r "$here/runtime-requirements.txt" >"$work/pip.log" 2>&1 \
    || { tail -5 "$work/pip.log" >&2; exit 1; }
cat >"$rootfs/var/runtime/bootstrap" <<'BOOT'
#!/bin/sh
# As the Lambda base image's bootstrap: the runtime interface client loads and serves the handler.
export PYTHONPATH="/var/runtime:${LAMBDA_TASK_ROOT:-/var/task}${PYTHONPATH:+:$PYTHONPATH}"
exec /var/lang/bin/python3.13 -m awslambdaric "${_HANDLER:-$AWS_LAMBDA_FUNCTION_HANDLER}"
BOOT
chmod +x "$rootfs/var/runtime/bootstrap"

echo "docker import -> $image"
tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
    --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    --change "ENV SAFEDEPLOY_IMAGE_INPUTS=$inputs" \
    --change 'WORKDIR /var/task' \
    - "$image" >/dev/null
echo "stand-in image $image: built ($(docker image inspect "$image" --format '{{.Size}}' | numfmt --to=iec))"
