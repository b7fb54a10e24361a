#!/usr/bin/env bash
# Set up everything the tests need, then lint and run every test.
#
#   ./test.sh                    # ruff check, ruff format --check, then the whole pytest suite
#   ./test.sh tests/test_x.py -k name -x   # arguments go to pytest
#
# Installs the Debian packages the tests use when missing (apt-get, through sudo when not
# root) and keeps .venv up to date with `pip install -e ".[test]"`.
# Exit code: pytest's; a ruff failure makes it non-zero too.
set -euo pipefail

BMS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$BMS_ROOT"
# shellcheck source=scripts/venv.sh
source scripts/venv.sh

# Debian packages the tests and benchmarks run: mosquitto (a reference broker),
# iproute2 (`ip netns` test networks for BACnet broadcasts) and chromium (the browser
# tests/e2e drive through Playwright; Playwright never downloads a browser of its own).
APT_PACKAGES=(mosquitto iproute2 chromium)

as_root() {
    if ((EUID == 0)); then
        "$@"
    else
        sudo "$@"
    fi
}

deb_installed() {
    local out
    out=$(dpkg -s "$1" 2>/dev/null) || return 1
    [[ $out == *$'\nStatus: install ok installed'* ]]
}

install_apt_packages() {
    local pkg missing=()
    if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        bms_info "Not a Debian-based system: make sure these are installed: ${APT_PACKAGES[*]}"
        return 0
    fi
    for pkg in "${APT_PACKAGES[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    if ((EUID != 0)) && ! command -v sudo >/dev/null 2>&1; then
        bms_die "missing Debian packages: ${missing[*]}; run as root: apt-get install ${missing[*]}"
    fi
    bms_info "Installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Debian's mosquitto package starts and enables its own system service; the tests start
# their own brokers on free ports, so that service must not run or start at boot.
disable_system_mosquitto() {
    deb_installed mosquitto || return 0
    if [[ -d /run/systemd/system ]]; then
        if systemctl --quiet is-enabled mosquitto.service 2>/dev/null ||
            systemctl --quiet is-active mosquitto.service 2>/dev/null; then
            bms_info "Stopping and disabling the system mosquitto service (tests start their own brokers)"
            as_root systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
        fi
    elif [[ -x /etc/init.d/mosquitto ]]; then
        if compgen -G '/etc/rc[2-5].d/S*mosquitto' >/dev/null ||
            /etc/init.d/mosquitto status >/dev/null 2>&1; then
            bms_info "Stopping and disabling the system mosquitto service (tests start their own brokers)"
            as_root /etc/init.d/mosquitto stop >/dev/null 2>&1 || true
            as_root update-rc.d mosquitto disable >/dev/null 2>&1 || true
        fi
    fi
}

install_apt_packages
disable_system_mosquitto
bms_ensure_venv test

# Like an activated venv; Debian keeps mosquitto and ip in sbin, outside a user's PATH.
export PATH="$BMS_VENV/bin:$PATH:/usr/sbin:/sbin"
export VIRTUAL_ENV="$BMS_VENV"

lint_status=0
bms_info "ruff check ."
ruff check . || lint_status=1
bms_info "ruff format --check ."
ruff format --check . || lint_status=1

bms_info "pytest $*"
test_status=0
python -m pytest "$@" || test_status=$?

if ((test_status == 0 && lint_status != 0)); then
    bms_info "Tests passed but ruff found problems (see above): fix with 'ruff check --fix .' and 'ruff format .'"
    exit 1
fi
exit "$test_status"
