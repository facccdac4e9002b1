#!/usr/bin/env bash
# Bring a fresh machine up for this repo; safe to run again (each step checks first).
#  - Debian packages: docker.io, clang, zlib1g-dev (Native AOT links with them), chromium
#    (the HTML report is checked in a real browser)
#  - a Docker engine answering on its socket (started in the background if none runs)
#  - .venv with the plugin installed editable plus its dev tools; from ../shared/wheels when
#    that folder exists (machines without PyPI), else from the normal index
# Sourced by scripts/gate and scripts/test.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v clang >/dev/null 2>&1 || need_pkgs+=(clang)
[ -e /usr/include/zlib.h ] || need_pkgs+=(zlib1g-dev)
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "setup: installing ${need_pkgs[*]}"
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    if [ -z "${DOCKER_HOST:-}" ]; then
        echo "setup: starting dockerd"
        (nohup dockerd >/tmp/aotparity-dockerd.log 2>&1 &)
        for _ in $(seq 1 60); do
            docker info >/dev/null 2>&1 && break
            sleep 1
        done
    fi
    docker info >/dev/null 2>&1 || {
        echo "setup: the Docker engine did not come up; see /tmp/aotparity-dockerd.log" >&2
        tail -n 20 /tmp/aotparity-dockerd.log >&2 || true
        exit 1
    }
fi

# No registry here: the testcontainers reaper image cannot be pulled. The plugin removes
# every container it starts itself.
export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"

pip_args=()
[ -d "$repo/../shared/wheels" ] && pip_args=(--no-index --find-links "$repo/../shared/wheels")
if [ ! -x "$repo/.venv/bin/python" ]; then
    python3 -m venv "$repo/.venv"
fi
if ! "$repo/.venv/bin/python" -c "import pytest_aotparity, fastapi, mypy, ruff" >/dev/null 2>&1 ||
    [ "$repo/pyproject.toml" -nt "$repo/.venv/.installed" ]; then
    echo "setup: installing Python packages into .venv"
    "$repo/.venv/bin/pip" install -q "${pip_args[@]}" --upgrade pip
    "$repo/.venv/bin/pip" install -q "${pip_args[@]}" -e "$repo[dev]"
    touch "$repo/.venv/.installed"
fi
