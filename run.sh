#!/usr/bin/env bash
# Set up BMS Hub (first run, or after pyproject.toml changed) and start it.
#
#   ./run.sh                      # ./config.yaml if there is one, else the embedded default
#   ./run.sh --config site.yaml   # any `bms-hub run` option: --data-dir, --port, --log-level
#
# Relative paths (the config file, ./data) are taken from the folder you run it in.
set -euo pipefail

BMS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/venv.sh
source "$BMS_ROOT/scripts/venv.sh"

bms_ensure_venv ""

has_config=false
for arg in "$@"; do
    case $arg in
        --config | --config=*) has_config=true ;;
    esac
done
if ! $has_config && [[ -f config.yaml ]]; then
    bms_info "Using ./config.yaml (pass --config FILE to use another one)"
    set -- --config config.yaml "$@"
fi

exec "$BMS_VENV/bin/bms-hub" run "$@"
