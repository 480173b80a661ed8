#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install Outcrop with the pinned versions in requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=""
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
        python_bin=$candidate
        break
    fi
done
if [ -z "$python_bin" ]; then
    echo "Outcrop needs Python 3.11 or newer on PATH" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    "$python_bin" -m venv .venv
fi
stamp=.venv/.outcrop-lock
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.lock
    cp requirements.lock "$stamp"
fi
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null ||
    .venv/bin/python -m pip install --quiet --no-deps -e .

# The native OTLP decoder (native/, module outcrop_native) when cargo is on PATH; without
# it the pure-Python decoder is used. Rebuilt only when the crate's sources change: the
# stamp is a hash of every tracked input of the build.
native_stamp=.venv/.outcrop-native
if command -v cargo >/dev/null 2>&1; then
    native_hash=$(cd native && cat Cargo.toml Cargo.lock pyproject.toml $(find src -type f | sort) |
        sha256sum | cut -d' ' -f1)
    if [ ! -f "$native_stamp" ] || [ "$(cat "$native_stamp")" != "$native_hash" ] ||
        ! .venv/bin/python -c 'import outcrop_native' 2>/dev/null; then
        echo "building the native OTLP decoder (native/, cargo build --release)"
        rm -f native/target/wheels/outcrop_native-*.whl
        (cd native && ../.venv/bin/maturin build --release --quiet --out target/wheels)
        .venv/bin/python -m pip install --quiet --force-reinstall --no-deps native/target/wheels/outcrop_native-*.whl
        echo "$native_hash" >"$native_stamp"
    fi
elif .venv/bin/python -c 'import outcrop_native' 2>/dev/null; then
    echo "cargo not found: the native OTLP decoder built earlier stays installed, not rebuilt from native/"
else
    echo "cargo not found: the native OTLP decoder is not built; the pure-Python decoder is used"
fi
