#!/usr/bin/env bash
# Runs tests/msal: Microsoft's MSAL for Python as an outside judge of the sandbox binary. Keeps a venv
# under the build cache, reinstalled only when tests/msal/requirements.txt changes. Extra arguments go
# to pytest, e.g. `scripts/msal-tests.sh -k device_code`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

MSAL_VENV="${CALCONNECT_CACHE:-$HOME/.cache}/calconnect-msal-venv"
MSAL_REQUIREMENTS="$ROOT/tests/msal/requirements.txt"
MSAL_STAMP="$MSAL_VENV/.requirements.sha256"

# Creates the venv and installs the pinned requirements, unless the stamp says they are installed.
ensure_msal_venv() {
    local wanted
    wanted="$(sha256sum "$MSAL_REQUIREMENTS" | cut -d' ' -f1)"
    if [ -x "$MSAL_VENV/bin/python" ] && [ "$(cat "$MSAL_STAMP" 2>/dev/null)" = "$wanted" ]; then
        return
    fi
    say "Installing tests/msal/requirements.txt into $MSAL_VENV"
    command -v python3 >/dev/null || ensure_apt_packages python3
    rm -rf "$MSAL_VENV"
    # Debian's python3 creates venvs only with python3-venv (ensurepip) installed.
    if ! python3 -m venv "$MSAL_VENV" >/dev/null 2>&1; then
        ensure_apt_packages python3-venv
        rm -rf "$MSAL_VENV"
        python3 -m venv "$MSAL_VENV"
    fi
    "$MSAL_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$MSAL_REQUIREMENTS"
    echo "$wanted" >"$MSAL_STAMP"
}

ensure_msal_venv
cargo build --quiet -p calconnect-sandbox
export CALCONNECT_SANDBOX_BIN="${CALCONNECT_SANDBOX_BIN:-$CARGO_TARGET_DIR/debug/calconnect-sandbox}"
# No bytecode in the work tree; the suite points requests at the sandbox CA itself.
PYTHONDONTWRITEBYTECODE=1 "$MSAL_VENV/bin/python" -m pytest tests/msal -q "$@"
