#!/bin/sh
# Builds and runs the PBX with the embedded default config (or pass `run --config FILE`).
set -eu
cd "$(dirname "$0")/.."
. ./scripts/ensure-rust.sh
exec cargo run --release -- "$@"
