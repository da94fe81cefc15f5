#!/bin/sh
# Sourced by run.sh and test.sh: makes sure a Rust toolchain (cargo) is on PATH, installing
# rustup's stable toolchain when the machine has none (a fresh Debian, as root).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl ca-certificates gcc libc6-dev
    fi
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
    PATH="$HOME/.cargo/bin:$PATH"
fi
export PATH
