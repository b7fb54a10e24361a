# shellcheck shell=bash
# Sourced by run.sh and test.sh (not run directly): create the project's .venv and
# (re)install bms-hub into it only when pyproject.toml (or the version in hub/__init__.py)
# changed since the last install, so that every start after the first one is instant.
#
# The caller sets BMS_ROOT (the repository root) before sourcing this file.
# PYTHON may name the interpreter to build the venv with (default: python3).

BMS_VENV="$BMS_ROOT/.venv"
BMS_STAMP="$BMS_VENV/.bms-hub-install-stamp"
BMS_MIN_PYTHON="3.11"

bms_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

bms_info() {
    printf '==> %s\n' "$*" >&2
}

# True when interpreter $1 runs and is at least BMS_MIN_PYTHON.
bms_python_ok() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

# Create .venv with a system Python, after checking that it can make one.
bms_create_venv() {
    local py=${PYTHON:-python3}
    if ! command -v "$py" >/dev/null 2>&1; then
        bms_die "$py not found. BMS Hub needs Python $BMS_MIN_PYTHON or newer:" \
            "on Debian or Raspberry Pi OS run 'sudo apt-get install python3 python3-venv'" \
            "(or set PYTHON=/path/to/python3.11)."
    fi
    if ! bms_python_ok "$py"; then
        bms_die "BMS Hub needs Python $BMS_MIN_PYTHON or newer, but $py is" \
            "$("$py" -c 'import platform; print(platform.python_version())' 2>&1)." \
            "Install a newer Python and run again with PYTHON=/path/to/python3.11 if it is not python3."
    fi
    # Debian ships venv's pip bootstrap (ensurepip) separately, in python3-venv.
    if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        bms_die "$py cannot create virtual environments: install the venv module," \
            "e.g. 'sudo apt-get install python3-venv' on Debian or Raspberry Pi OS."
    fi
    bms_info "Creating $BMS_VENV with $py ($("$py" -c 'import platform; print(platform.python_version())'))"
    "$py" -m venv --clear "$BMS_VENV" || bms_die "could not create $BMS_VENV"
}

# One SHA-256 over the given files (a missing file counts as empty).
bms_files_sha256() {
    "$BMS_VENV/bin/python" - "$@" <<'PY'
import hashlib
import pathlib
import sys

digest = hashlib.sha256()
for name in sys.argv[1:]:
    path = pathlib.Path(name)
    digest.update(path.name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
print(digest.hexdigest())
PY
}

# Make sure .venv exists and holds bms-hub installed (editable) from this checkout.
# $1: the extra to install as well ("" or "test"). An install made with the test extra
# also satisfies a plain one; the reverse triggers an install.
bms_ensure_venv() {
    local extra=${1:-}
    if [[ ! -x $BMS_VENV/bin/python ]] || ! bms_python_ok "$BMS_VENV/bin/python"; then
        [[ -e $BMS_VENV ]] && bms_info "$BMS_VENV is unusable (no working Python $BMS_MIN_PYTHON+): recreating it"
        bms_create_venv
    fi

    # What the installed metadata depends on: pyproject.toml, hub/__init__.py (the version
    # comes from there) and where the checkout lives (an editable install and its console
    # script hold absolute paths).
    local want have_key="" have_extra=""
    want="$(bms_files_sha256 "$BMS_ROOT/pyproject.toml" "$BMS_ROOT/hub/__init__.py") $BMS_ROOT"
    if [[ -f $BMS_STAMP ]]; then
        { IFS= read -r have_key || true; IFS= read -r have_extra || true; } <"$BMS_STAMP"
    fi
    if [[ $have_key == "$want" && -x $BMS_VENV/bin/bms-hub ]] &&
        [[ -z $extra || $have_extra == "$extra" ]]; then
        return 0
    fi

    local target="."
    [[ -n $extra ]] && target=".[$extra]"
    bms_info "Installing bms-hub${extra:+ with its $extra extra} into .venv (pyproject.toml changed or first run)"
    rm -f "$BMS_STAMP"
    (cd "$BMS_ROOT" && "$BMS_VENV/bin/python" -m pip install --disable-pip-version-check --quiet \
        --editable "$target") || bms_die "pip install failed (see above)"
    printf '%s\n%s\n' "$want" "$extra" >"$BMS_STAMP"
}
