# Outcrop: one image for the collector (and, later, the dashboard).
FROM python:3.11-slim

WORKDIR /app
COPY . .
# The package as a wheel, with only what it and the dashboard need, at the lock's versions
# (the lock also pins the demo and test extras, which the image does not carry).
RUN pip install --no-cache-dir --constraint requirements.lock ".[dashboard]"

ENV OUTCROP_DB=/data/outcrop.duckdb \
    OUTCROP_SERVER__HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 4317 4318 4320
CMD ["outcrop", "serve"]
