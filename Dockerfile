# Outcrop: one image for the collector and the dashboard.

# The native decoder (native/, Rust) is built into a wheel in a stage of its own, so the
# image carries the module and not the toolchain. Debian bookworm's Python is 3.11, the
# same as the runtime stage's, and its glibc the same.
FROM rust:1-slim-bookworm AS native
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY requirements.lock native/ ./
RUN python3 -m venv /venv \
    && /venv/bin/pip install --no-cache-dir "$(grep '^maturin==' requirements.lock)" \
    && /venv/bin/maturin build --release --interpreter python3 --out /wheels

FROM python:3.11-slim

WORKDIR /app
COPY . .
# The package as a wheel, with only what it and the dashboard need, at the lock's versions
# (the lock also pins the demo and test extras, which the image does not carry); then the
# native decoder, which `outcrop serve` uses when it is importable.
COPY --from=native /wheels /wheels
RUN pip install --no-cache-dir --constraint requirements.lock ".[dashboard]" \
    && pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels

ENV OUTCROP_DB=/data/outcrop.duckdb \
    OUTCROP_SERVER__HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 4317 4318 4320
CMD ["outcrop", "serve"]
