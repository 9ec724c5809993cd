#!/usr/bin/env bash
# Set up everything Skiff needs on this machine; safe to repeat, never asks anything.
# Works as root on a fresh Debian bookworm (CI=true, no stdin): installs docker.io,
# debootstrap, postgresql (for the store's PostgreSQL test) and chromium with chromium-driver
# (for the console's browser tests) when missing, starts a Docker
# engine when none answers, installs Skiff, then builds MinIO (from source, once) and the task
# images so that tests and runs find them.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
total_started=$SECONDS

apt_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    # The tests run the store on a real PostgreSQL server too (SKIFF_DATABASE_URL).
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
    # The web console's tests drive a real headless Chromium through Selenium.
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    command -v python3 >/dev/null || missing+=(python3)
    [[ -e /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
    if ((${#missing[@]} == 0)); then say "system packages already present"; return; fi
    if [[ $(id -u) != 0 ]]; then say "missing ${missing[*]}: run this script as root"; return 1; fi
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

docker_engine() {
    if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
        say "Docker engine answers ($(docker version --format '{{.Server.Version}}'))"; return
    fi
    if [[ -n ${DOCKER_HOST:-} ]]; then say "DOCKER_HOST=$DOCKER_HOST does not answer; fix it or unset it"; return 1; fi
    # No bridge network and no iptables: containers use host networking or loopback only.
    say "starting dockerd --bridge=none (log /var/log/skiff-dockerd.log)"
    setsid nohup dockerd --bridge=none --iptables=false --ip6tables=false \
        >>/var/log/skiff-dockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        docker version >/dev/null 2>&1 && return
        sleep 1
    done
    say "dockerd did not answer within 60 s; see /var/log/skiff-dockerd.log"; return 1
}

python_env() {
    local python
    python=$(skiff_python)
    if [[ ! -x $python ]]; then
        say "creating $SKIFF_ROOT/.venv (the system Python is managed by apt)"
        if ! python3 -m venv "$SKIFF_ROOT/.venv"; then
            rm -rf "$SKIFF_ROOT/.venv"  # Debian ships venv's pip apart, in python3-venv
            apt-get install -y -q --no-install-recommends python3-venv
            python3 -m venv "$SKIFF_ROOT/.venv"
        fi
        python=$SKIFF_ROOT/.venv/bin/python
    fi
    (cd "$SKIFF_ROOT" && "$python" -m pip install -q -e '.[test]')
    say "Skiff installed for $python"
}

# MinIO needs Go >= 1.24 to build; this kind of machine ships a recent Go in /usr/local/go.
# An older Go (>= 1.21) fetches the newer toolchain itself, as a module, when GOTOOLCHAIN asks.
go_toolchain() {
    export PATH=$PATH:/usr/local/go/bin
    if [[ -n ${SKIFF_MINIO_BINARY:-} ]] || command -v minio >/dev/null || [[ -x $SKIFF_CACHE_DIR/bin/minio ]]; then
        say "MinIO binary already present; Go not needed"; return
    fi
    if ! command -v go >/dev/null; then
        say "no Go on PATH: install Go 1.24 or newer (or put a minio binary on PATH), then run again"; return 1
    fi
    if ! go version | grep -Eq 'go1\.(2[4-9]|[3-9][0-9])'; then
        export GOTOOLCHAIN=go1.24.8
        say "$(go version) is older than 1.24: the go command will fetch $GOTOOLCHAIN"
    fi
    say "using $(go version)"
}

services() {
    # A scratch home: builds MinIO and the images into the shared cache, then stops again.
    local home=$SKIFF_CACHE_DIR/setup-home python
    python=$(skiff_python)
    SKIFF_HOME=$home "$(dirname "$python")/skiff" sandbox up
    SKIFF_HOME=$home "$(dirname "$python")/skiff" sandbox down
}

main() {
    mkdir -p "$SKIFF_CACHE_DIR"
    step "system packages (docker.io, debootstrap, postgresql, chromium)" apt_packages
    step "Docker engine" docker_engine
    step "Python environment (pip install -e '.[test]')" python_env
    step "Go toolchain for MinIO" go_toolchain
    step "MinIO and task images (skiff sandbox up in a scratch home)" services
    say "set-up complete in $((SECONDS - total_started)) s"
}

# Sourcing the script (to reuse one step) runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main </dev/null; fi
