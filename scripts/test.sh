#!/usr/bin/env bash
# Set up (first run only) and run every test. pytest's "no tests collected" is a failure.
# With the native decoder built, the tests of the OTLP ingest path run a second time on
# the pure-Python reference decoder (OUTCROP_DECODER=python), so both stay covered.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
if .venv/bin/python -c "import outcrop_native" 2>/dev/null; then
    echo "the OTLP ingest tests again, on the reference decoder (OUTCROP_DECODER=python):"
    OUTCROP_DECODER=python .venv/bin/python -m pytest "$@" tests/test_otlp_http.py tests/test_otlp_grpc.py \
        tests/test_otlp_limits.py tests/test_otlp_decode_limits.py tests/test_token_bounds.py \
        tests/test_tenant_isolation.py tests/test_attribution_order.py tests/test_decoder_choice.py \
        tests/e2e/test_crash_durability.py tests/e2e/test_instrumented_app.py
    status=$?
    if [ "$status" -eq 5 ]; then
        echo "pytest collected no tests on the reference decoder: that is a failure" >&2
        exit 1
    fi
fi
exit "$status"
