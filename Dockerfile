# Outcrop: one image for the collector (and, later, the dashboard).
FROM python:3.11-slim

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps -e .

ENV OUTCROP_DB=/data/outcrop.duckdb \
    OUTCROP_SERVER__HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 4317 4318 4320
CMD ["outcrop", "serve"]
