#!/usr/bin/env bash
# A Docker engine for `sam local invoke` on a machine that has none: Debian's docker.io and
# debootstrap (installed with apt when missing, as root), dockerd on vfs storage without iptables.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # dockerd and debootstrap live there
log=${DOCKERD_LOG:-/tmp/safedeploy-dockerd.log}

if docker info >/dev/null 2>&1; then
    echo "docker engine: already running"
    exit 0
fi
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "error: ${missing[*]} not installed and not root: install them or start a Docker engine" >&2
        exit 1
    fi
    echo "installing ${missing[*]} (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
if [[ $(id -u) != 0 ]]; then
    echo "error: no Docker engine answers and starting dockerd needs root" >&2
    exit 1
fi
# vfs: no overlay mounts inside this kind of sandbox; no iptables: the default bridge still
# carries published ports through docker-proxy, which is all `sam local invoke` needs.
nohup dockerd --storage-driver=vfs --iptables=false --ip6tables=false >"$log" 2>&1 &
for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && { echo "docker engine: started (log: $log)"; exit 0; }
    sleep 0.5
done
echo "error: dockerd did not answer within 30 s; last lines of $log:" >&2
tail -5 "$log" >&2
exit 1
