#!/usr/bin/env bash
# Set up everything Skiff needs on this machine; safe to repeat, never asks anything.
# Works as root on a fresh Debian bookworm (CI=true, no stdin): installs docker.io,
# debootstrap, postgresql (for the store's PostgreSQL test) and chromium with chromium-driver
# (for the console's browser tests) when missing, starts a Docker engine when none answers,
# installs Skiff into its own environment ($SKIFF_PYTHON, else the project's .venv; never the
# system's or the user's own Python) and links its `skiff` onto PATH, then builds MinIO (from
# source, once) and the task images so that tests and runs find them.
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
    if [[ -n ${SKIFF_PYTHON:-} && ! -x $python ]]; then
        say "SKIFF_PYTHON=$SKIFF_PYTHON is not an executable Python; fix it or unset it"; return 1
    fi
    if [[ ! -x $python ]]; then
        # A dedicated environment: whichever python3 is first on PATH only lends its interpreter.
        say "creating $SKIFF_ROOT/.venv from $(command -v python3)"
        if ! python3 -m venv "$SKIFF_ROOT/.venv"; then
            rm -rf "$SKIFF_ROOT/.venv"  # Debian ships venv's pip apart, in python3-venv
            apt-get install -y -q --no-install-recommends python3-venv
            python3 -m venv "$SKIFF_ROOT/.venv"
        fi
    fi
    (cd "$SKIFF_ROOT" && "$python" -m pip install -q --disable-pip-version-check -e '.[test]')
    say "Skiff installed for $python"
}

# Put the dedicated environment's `skiff` on PATH for new shells: a symbolic link in
# $SKIFF_BIN_DIR, default /usr/local/bin as root, else ~/.local/bin. Not for SKIFF_PYTHON (an
# environment the caller manages) nor in CI (its clone goes away); never over a real file.
SKIFF_WHERE=""
link_skiff() {
    local skiff dir found
    skiff=$(skiff_bin_dir)/skiff
    SKIFF_WHERE="skiff is $skiff"
    if [[ -n ${SKIFF_PYTHON:-} ]]; then say "SKIFF_PYTHON is set: skiff not linked"; return; fi
    if [[ ${CI:-} == true ]]; then say "CI: skiff not linked"; return; fi
    if [[ -n ${SKIFF_BIN_DIR:-} ]]; then dir=$SKIFF_BIN_DIR
    elif [[ $(id -u) == 0 ]]; then dir=/usr/local/bin
    else dir=$HOME/.local/bin
    fi
    mkdir -p "$dir"
    if [[ -e $dir/skiff && ! -L $dir/skiff ]]; then
        say "$dir/skiff exists and is not a link; left alone: run $skiff"; return
    fi
    ln -sfn "$skiff" "$dir/skiff"
    SKIFF_WHERE="skiff is $skiff, linked as $dir/skiff"
    case ":$PATH:" in
        *":$dir:"*) ;;
        *) SKIFF_WHERE+="; $dir is not on PATH: add it (export PATH=\"$dir:\$PATH\" in your shell's rc file)";;
    esac
    found=$(PATH=$PATH type -P skiff || true)
    if [[ -n $found && $found != "$dir/skiff" ]]; then
        SKIFF_WHERE+="; $found comes first on PATH: remove it, or put $dir first"
    fi
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
    step "Python environment (pip install -e '.[test]' into $(skiff_python))" python_env
    step "skiff on PATH" link_skiff
    step "Go toolchain for MinIO" go_toolchain
    step "MinIO and task images (skiff sandbox up in a scratch home)" services
    say "set-up complete in $((SECONDS - total_started)) s"
    say "$SKIFF_WHERE"
}

# Sourcing the script (to reuse one step) runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main </dev/null; fi
