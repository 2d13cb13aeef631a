#!/usr/bin/env bash
# Prepare the tools this project needs; called by every `make` target that runs Python.
#
# Idempotent and quiet when everything is in place (a few file checks, well under 0.1 s).
# Otherwise it says what it installs:
#   * Debian packages (only if missing): iverilog (Icarus Verilog >= 11), g++, make, perl
#     (Verilator compiles its C++ model with them), liblz4-dev + zlib1g-dev (headers for
#     Verilator's FST waveform writer). As root: `apt-get update` once, then
#     `apt-get install -y ...`. Not root: prints the command to run and fails.
#     Optional: ccache (tb/runner.py puts it in front of Verilator's compiler; a build
#     then takes Verilator's runtime from the cache). Installed the same way as root;
#     not root: a note, and the builds simply run without it.
#   * .venv with Python 3.11 (python3.11, else python3 if it is 3.11) and the pinned
#     Python packages from pyproject.toml ([project] dependencies + the `dev` extra).
#     A stamp file keyed on the pyproject.toml content makes pip run only when pins change.
#
# Environment: VENV (default .venv), PYTHON (interpreter used to create the venv),
#              SETUP_SKIP_APT=1 (only report missing Debian packages, never install).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-.venv}
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- Debian packages
apt_updated=
can_apt() {  # root, apt-get present and SETUP_SKIP_APT unset: this script may install
    [[ $(id -u) -eq 0 && -z ${SETUP_SKIP_APT:-} ]] && command -v apt-get >/dev/null 2>&1
}
apt_install() {  # apt_install PKG...: install as root (apt-get update once), else explain
    if can_apt; then
        export DEBIAN_FRONTEND=noninteractive
        if [[ -z $apt_updated ]]; then
            say "+ apt-get update"
            apt-get update -q >/dev/null
            apt_updated=1
        fi
        say "+ apt-get install -y --no-install-recommends $*"
        apt-get install -y -q --no-install-recommends "$@" >/dev/null
    else
        die "missing system packages: $*
        install them as root with:  apt-get update && apt-get install -y $*"
    fi
}
missing=()
command -v iverilog >/dev/null 2>&1 && command -v vvp >/dev/null 2>&1 || missing+=(iverilog)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v perl >/dev/null 2>&1 || missing+=(perl)
[[ -f /usr/include/lz4.h ]] || missing+=(liblz4-dev)
[[ -f /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
if ((${#missing[@]})); then
    say "missing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}"
fi
if ! command -v ccache >/dev/null 2>&1; then
    if can_apt; then
        say "missing optional Debian package: ccache (caches Verilator's C++ compiles)"
        apt_install ccache || say "note: could not install ccache; Verilator builds run without it"
    else
        say "note: ccache not found; Verilator builds run without a compile cache" \
            "(install it with: apt-get install -y ccache)"
    fi
fi
iv_major=$(iverilog -V 2>/dev/null | sed -n 's/^Icarus Verilog version \([0-9]*\).*/\1/p' | head -1)
if [[ -n $iv_major && $iv_major -lt 11 ]]; then
    die "Icarus Verilog >= 11 required, found $(iverilog -V 2>/dev/null | head -1)"
fi

# ---------------------------------------------------------------- venv
if [[ ! -x $VENV/bin/python ]]; then
    is311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }
    py=${PYTHON:-}
    if [[ -z $py ]]; then
        if command -v python3.11 >/dev/null 2>&1 && is311 python3.11; then
            py=python3.11
        elif command -v python3 >/dev/null 2>&1 && is311 python3; then
            py=python3
        elif ! command -v python3 >/dev/null 2>&1; then
            say "no python3: installing Debian's (3.11 on Debian 12)"
            apt_install python3 python3-venv
            is311 python3 || die "python3 is $(python3 --version 2>&1), Python 3.11 is required"
            py=python3
        else
            die "Python 3.11 not found (need python3.11, or python3 being 3.11; python3 is $(python3 --version 2>&1))"
        fi
    fi
    say "creating $VENV with $py ($("$py" --version 2>&1))"
    if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        # Debian splits venv/ensurepip out of the interpreter package
        say "'$py -m venv' failed (no ensurepip): installing python3-venv"
        apt_install python3-venv
        "$py" -m venv "$VENV" || { rm -rf "$VENV"; die "'$py -m venv $VENV' failed"; }
    fi
fi
PY=$VENV/bin/python
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    die "$VENV uses $("$PY" --version 2>&1), Python 3.11 is required; remove $VENV and retry"

# ---------------------------------------------------------------- Python packages
hash=$(sha256sum pyproject.toml | cut -c1-16)
stamp=$VENV/.deps-$hash
if [[ ! -f $stamp ]]; then
    mapfile -t reqs < <("$PY" - <<'EOF'
import tomllib
with open("pyproject.toml", "rb") as f:
    p = tomllib.load(f)["project"]
for r in p.get("dependencies", []) + p.get("optional-dependencies", {}).get("dev", []):
    print(r)
EOF
    )
    # what is missing or at another version: said before pip runs
    todo=$("$PY" - "${reqs[@]}" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for req in sys.argv[1:]:
    name, _, want = req.partition("==")
    try:
        have = version(name.split("[")[0])
    except PackageNotFoundError:
        have = None
    if have != want:
        print(f"{req} (installed: {have or 'none'})")
EOF
    )
    if [[ -n $todo ]]; then
        say "installing Python packages into $VENV:"
        sed 's/^/[setup]   /' <<<"$todo"
        "$PY" -m pip install --disable-pip-version-check -q "${reqs[@]}"
        say "installed; versions now:"
        "$PY" -m pip list --disable-pip-version-check --format=freeze 2>/dev/null |
            grep -i -E "^($(printf '%s|' "${reqs[@]%%==*}" | sed 's/|$//'))==" | sed 's/^/[setup]   /'
    fi
    rm -f "$VENV"/.deps-*
    touch "$stamp"
fi
