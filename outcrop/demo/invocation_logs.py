"""Write planned calls as Bedrock model-invocation logs in the S3 layout Bedrock uses.

`<dir>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<file>.json.gz`,
gzip, one `ModelInvocationLog` record per line. Bodies follow the API that was called:
Converse and ConverseStream logs hold the assembled response with `metrics.latencyMs`;
InvokeModelWithResponseStream logs hold the event list whose last event carries
`amazon-bedrock-invocationMetrics` (invocationLatency, firstByteLatency).
https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outcrop.demo import catalog
from outcrop.demo.plan import Call

MAX_RECORDS_PER_FILE = 500

_TEXTS: dict[str, tuple[str, str]] = {
    "support-chat": ("Where is my order #4411?", "It left the warehouse this morning."),
    "report-writer": ("Draft the Q3 usage report.", "Q3 usage grew steadily across regions."),
    "doc-summary": ("Summarise the attached contract.", "The contract renews yearly."),
    "code-review": ("Review this diff.", "Consider handling the empty list case."),
}


def write_invocation_logs(calls: Sequence[Call], log_dir: Path,
                          on_progress: Callable[[str, int, int], None] | None = None) -> int:
    """Write one record per call; returns the number of records written. `on_progress`
    is told ("log records written", done, total) after each file."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for call in sorted(calls, key=lambda c: (c.start_ns, c.request_id)):
        hour = _when(call).strftime("%Y/%m/%d/%H")
        groups.setdefault((call.region, hour), []).append(log_record(call))
    root = log_dir / "AWSLogs" / catalog.ACCOUNT_ID / "BedrockModelInvocationLogs"
    written, total = 0, len(calls)
    for (region, hour), records in sorted(groups.items()):
        folder = root / region / hour
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(0, len(records), MAX_RECORDS_PER_FILE):
            chunk = records[i : i + MAX_RECORDS_PER_FILE]
            _write_file(folder, chunk)
            written += len(chunk)
            if on_progress is not None:
                on_progress("log records written", written, total)
    return sum(len(records) for records in groups.values())


def log_record(call: Call) -> dict[str, Any]:
    """The `ModelInvocationLog` record Bedrock would write for a successful call."""
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": _when(call).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": catalog.ACCOUNT_ID,
        "identity": {"arn": _identity(call)},
        "region": call.region,
    }
    if call.inference_region is not None:
        record["inferenceRegion"] = call.inference_region
    record.update(requestId=call.request_id, operation=call.rpc_method, modelId=call.model_id)
    if call.request_metadata:
        record["requestMetadata"] = dict(call.request_metadata)
    record["input"] = _input(call)
    record["output"] = _output(call)
    return record


def _input(call: Call) -> dict[str, Any]:
    prompt = _TEXTS[call.workflow][0]
    body: dict[str, Any]
    if call.operation == "embeddings":
        body = {"inputText": prompt, "dimensions": 1024}
    elif call.rpc_method.startswith("Converse") or call.model.family != "anthropic":
        body = {"messages": [{"role": "user", "content": [{"text": prompt}]}]}
    else:
        body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4096,
                "messages": [{"role": "user", "content": prompt}]}
    section: dict[str, Any] = {"inputContentType": "application/json", "inputBodyJson": body,
                               "inputTokenCount": call.input_tokens}
    if call.model.supports_cache:
        section["cacheReadInputTokenCount"] = call.cache_read_tokens
        section["cacheWriteInputTokenCount"] = call.cache_write_tokens
    return section


def _output(call: Call) -> dict[str, Any]:
    body: Any
    if call.operation == "embeddings":
        # Embedding vectors are not delivered (embeddingDataDeliveryEnabled = false).
        return {"outputContentType": "application/json",
                "outputBodyJson": {"inputTextTokenCount": call.input_tokens}}
    if call.rpc_method.startswith("Converse"):
        body = _converse_body(call)
    elif call.rpc_method == "InvokeModelWithResponseStream":
        body = _anthropic_stream_events(call)
    elif call.model.family == "anthropic":
        body = _anthropic_body(call)
    else:
        body = _converse_body(call)
        del body["metrics"]  # a native Nova body carries no latency
    return {"outputContentType": "application/json", "outputBodyJson": body,
            "outputTokenCount": call.output_tokens}


def _converse_body(call: Call) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "inputTokens": call.input_tokens,
        "outputTokens": call.output_tokens,
        "totalTokens": call.input_tokens + call.output_tokens + call.cache_read_tokens
        + call.cache_write_tokens,
    }
    if call.model.supports_cache:
        usage["cacheReadInputTokens"] = call.cache_read_tokens
        usage["cacheWriteInputTokens"] = call.cache_write_tokens
    message = {"role": "assistant", "content": [{"text": _TEXTS[call.workflow][1]}]}
    return {"output": {"message": message}, "stopReason": call.finish_reason,
            "metrics": {"latencyMs": call.latency_ms}, "usage": usage}


def _anthropic_body(call: Call) -> dict[str, Any]:
    return {
        "id": f"msg_bdrk_{call.request_id.replace('-', '')[:24]}",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": _TEXTS[call.workflow][1]}],
        "stop_reason": call.finish_reason,
        "usage": {"input_tokens": call.input_tokens, "output_tokens": call.output_tokens,
                  "cache_read_input_tokens": call.cache_read_tokens,
                  "cache_creation_input_tokens": call.cache_write_tokens},
    }


def _anthropic_stream_events(call: Call) -> list[dict[str, Any]]:
    first_byte = min(call.ttft_ms or call.latency_ms, max(call.latency_ms - 1, 0))
    metrics = {"inputTokenCount": call.input_tokens, "outputTokenCount": call.output_tokens,
               "invocationLatency": call.latency_ms, "firstByteLatency": first_byte}
    text = _TEXTS[call.workflow][1]
    return [
        {"type": "message_start", "message": {"role": "assistant", "usage": {
            "input_tokens": call.input_tokens,
            "cache_read_input_tokens": call.cache_read_tokens,
            "cache_creation_input_tokens": call.cache_write_tokens}}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "text_delta", "text": text}},
        {"type": "message_delta", "delta": {"stop_reason": call.finish_reason},
         "usage": {"output_tokens": call.output_tokens}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics},
    ]


def _identity(call: Call) -> str:
    spec = catalog.tenant(call.tenant)
    role = (f"{catalog.WORKFLOWS[call.workflow].service}-task" if spec.traced
            else f"{spec.name}-batch-runner")
    session = hashlib.sha256(role.encode()).hexdigest()[:8]
    return f"arn:aws:sts::{catalog.ACCOUNT_ID}:assumed-role/{role}/{session}"


def _write_file(folder: Path, records: list[dict[str, Any]]) -> None:
    first = _when_iso(records[0]["timestamp"])
    digest = hashlib.sha256(records[0]["requestId"].encode()).hexdigest()[:16]
    lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    path = folder / f"{first:%Y%m%dT%H%M%S}Z_{digest}.json.gz"
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(lines.encode())


def _when(call: Call) -> datetime:
    return datetime.fromtimestamp(call.start_ns / 1e9, UTC)


def _when_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
