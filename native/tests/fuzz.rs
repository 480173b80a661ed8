//! A bounded fuzz run of both decoders: random and mutated payloads never panic, and the
//! memory one decode holds at its peak stays within a fixed multiple of the input's size.
//! Run by `cargo test --release` (a fixed seed, a fixed number of inputs and a time cap).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use outcrop_native::span::{Failure, Limits};
use outcrop_native::{json, pb};
use prost::Message;

mod common;

use common::{mutate, Rng, CURRENT, PEAK, SERIAL};

const LIMITS: Limits = Limits { max_value_bytes: 4096, attributes: 1024, events: 256, event_attributes: 128 };
/// Peak bytes held by one decode, per input byte, plus a fixed allowance: what a span row
/// and its maps cost over the few wire bytes that can encode an empty attribute.
const PER_BYTE: usize = 160;
const FIXED: usize = 1 << 20;
/// Mutations: how long a repeated slice may grow a body, and the punctuation put in.
const MAX_LEN: usize = 1 << 16;
const TOKENS: &[u8] = b"{}[]\",:0\\";

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

fn valid_request() -> ExportTraceServiceRequest {
    let nested = any_value::Value::KvlistValue(KeyValueList {
        values: vec![kv("inner", any_value::Value::DoubleValue(0.5)), kv("b", any_value::Value::BytesValue(vec![1, 2, 3]))],
    });
    let span = Span {
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        parent_span_id: vec![0xef; 8],
        name: "chat".into(),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_001_000_000_000,
        attributes: vec![
            kv("gen_ai.system", any_value::Value::StringValue("aws.bedrock".into())),
            kv("gen_ai.usage.input_tokens", any_value::Value::IntValue(1000)),
            kv("nested", nested),
        ],
        events: vec![span::Event { time_unix_nano: 1_700_000_000_500_000_000, name: "first token".into(), ..Default::default() }],
        status: Some(Status { message: "boom".into(), code: 2 }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", any_value::Value::StringValue("svc".into()))], ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans: vec![span.clone(), span], ..Default::default() }],
            ..Default::default()
        }],
    }
}

const VALID_JSON: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
"scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"abababababababababababababababab","spanId":"cdcdcdcdcdcdcdcd",
"name":"chat","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000",
"attributes":[{"key":"n","value":{"intValue":"1000"}},{"key":"d","value":{"doubleValue":0.5}},
{"key":"l","value":{"arrayValue":{"values":[{"boolValue":true},{"kvlistValue":{"values":[{"key":"x","value":{"stringValue":"y"}}]}}]}}}],
"events":[{"name":"e","timeUnixNano":"1700000000500000000"}],"status":{"code":"STATUS_CODE_ERROR","message":"boom"}}]}]}]}"#;

fn decode_bounded(decode: fn(&[u8], &Limits) -> Result<outcrop_native::span::Decoded, Failure>, body: &[u8]) {
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let outcome = decode(body, &LIMITS);
    let rows = outcome.as_ref().map_or(0, |d| d.rows.len());
    if let Ok(d) = &outcome {
        for row in &d.rows {
            assert_eq!((row.trace_id.len(), row.span_id.len()), (32, 16));
            assert!(row.end_ns >= row.start_ns);
        }
    }
    drop(outcome);
    let held = PEAK.load(Ordering::Relaxed) - before;
    assert!(held <= PER_BYTE * body.len() + FIXED,
            "decoding {} bytes into {rows} rows held {held} bytes at its peak", body.len());
}

fn run(seed: &[u8], decode: fn(&[u8], &Limits) -> Result<outcrop_native::span::Decoded, Failure>, rng_seed: u64) -> usize {
    let mut rng = Rng(rng_seed);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut n = 0;
    while n < 100_000 && Instant::now() < deadline {
        let body = if n % 10 == 0 {
            (0..rng.below(2048)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, seed, MAX_LEN, TOKENS)
        };
        decode_bounded(decode, &body);
        n += 1;
    }
    n
}

#[test]
fn protobuf_decoder_survives_mutated_payloads_in_bounded_memory() {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let seed = valid_request().encode_to_vec();
    assert_eq!(pb::decode(&seed, &LIMITS).map(|d| d.rows.len()), Ok(2));
    assert!(run(&seed, pb::decode, 0x9E37_79B9_7F4A_7C15) >= 1000);
}

#[test]
fn json_decoder_survives_mutated_payloads_in_bounded_memory() {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let seed = VALID_JSON.as_bytes();
    assert_eq!(json::decode(seed, &LIMITS).map(|d| d.rows.len()), Ok(1));
    assert!(run(seed, json::decode, 0xD1B5_4A32_D192_ED03) >= 1000);
}

#[test]
fn a_million_attributes_are_capped_and_a_huge_length_prefix_is_refused() {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut request = valid_request();
    let attrs = &mut request.resource_spans[0].scope_spans[0].spans[0].attributes;
    attrs.extend((0..1_000_000).map(|_| KeyValue::default()));
    let body = request.encode_to_vec();
    let decoded = pb::decode(&body, &LIMITS).unwrap_or_else(|f| panic!("{f:?}"));
    // 3 named, the 1021 empty keys kept collapse into one (a dict's rule), and the marker
    assert_eq!(decoded.rows[0].attributes.len(), 3 + 1 + 1);
    assert_eq!(decoded.rows[0].dropped_attributes, 1_000_003 - 1024);
    decode_bounded(pb::decode, &body);
    // a field that says it holds 2^62 bytes: refused before anything that size is allocated
    let claim = [0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00];
    assert!(matches!(pb::decode(&claim, &LIMITS), Err(Failure::Defer(_))));
    decode_bounded(pb::decode, &claim);
}
