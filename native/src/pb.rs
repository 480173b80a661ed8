//! ExportTraceServiceRequest protobuf → span rows, by prost and the OTLP crate's messages.
//!
//! Any message prost refuses is handed to the reference decoder, which owns the wording of
//! "malformed OTLP protobuf" and the second parse that keeps the valid spans around invalid
//! UTF-8. A non-finite double is handed over too: JSON text cannot carry it.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Pv;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use crate::span::{check_span, hex, Decoded, Failure, Limits, SpanRow, KINDS, NAME_BYTES, STATUSES};
use crate::value::{truncate, Attrs, Event, Val, MAX_DEPTH, NESTED_TOO_DEEP, TRUNCATED_ATTRIBUTES, TRUNCATED_EVENTS};
use base64::Engine;

const NON_FINITE: &str = "a double attribute is NaN or infinite";

pub fn decode(body: &[u8], limits: &Limits) -> Result<Decoded, Failure> {
    let request = ExportTraceServiceRequest::decode(body).map_err(|_| Failure::Defer("protobuf the fast parser refuses"))?;
    let mut out = Decoded::default();
    for rs in request.resource_spans {
        let resource_kvs = rs.resource.map(|r| r.attributes).unwrap_or_default();
        let resource = attrs_of(resource_kvs, limits.attributes, limits)?;
        let index = out.resources.len() as i32;
        out.resources.push(resource);
        for ss in rs.scope_spans {
            let (scope_name, scope_version) = match ss.scope {
                Some(s) => (non_empty(s.name), non_empty(s.version)),
                None => (None, None),
            };
            for span in ss.spans {
                span_row(span, index, &scope_name, &scope_version, limits, &mut out)?;
            }
        }
    }
    Ok(out)
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

fn span_row(span: Span, resource: i32, scope_name: &Option<String>, scope_version: &Option<String>,
            limits: &Limits, out: &mut Decoded) -> Result<(), Failure> {
    let trace_id = hex(&span.trace_id);
    let span_id = hex(&span.span_id);
    let parent = if span.parent_span_id.is_empty() { None } else { Some(hex(&span.parent_span_id)) };
    let (start, end) = (span.start_time_unix_nano as i128, span.end_time_unix_nano as i128);
    if let Some(error) = check_span(&trace_id, &span_id, parent.as_deref(), start, end) {
        out.reject(error);
        return Ok(());
    }
    let mut events_in = span.events;
    let dropped_events = events_in.len().saturating_sub(limits.events);
    events_in.truncate(limits.events);
    let mut events = Vec::with_capacity(events_in.len());
    for ev in events_in {
        events.push(Event {
            name: ev.name,
            time_ns: ev.time_unix_nano as i128,
            attributes: attrs_of(ev.attributes, limits.event_attributes, limits)?,
        });
    }
    let dropped_attributes = span.attributes.len().saturating_sub(limits.attributes) as u64;
    let mut attributes = attrs_of(span.attributes, limits.attributes, limits)?;
    if dropped_events > 0 {
        attributes.insert(TRUNCATED_EVENTS.to_owned(), Val::Int(dropped_events as i64));
    }
    let status = span.status.unwrap_or_default();
    out.rows.push(SpanRow {
        trace_id,
        span_id,
        parent_span_id: parent,
        name: truncate(span.name, NAME_BYTES),
        kind: usize::try_from(span.kind).ok().and_then(|k| KINDS.get(k)).copied().unwrap_or("unspecified"),
        start_ns: start as i64,
        end_ns: end as i64,
        status_code: usize::try_from(status.code).ok().and_then(|c| STATUSES.get(c)).copied().unwrap_or("unset"),
        status_message: non_empty(status.message),
        scope_name: scope_name.clone(),
        scope_version: scope_version.clone(),
        resource,
        attributes,
        events,
        dropped_attributes,
        dropped_events: dropped_events as u64,
    });
    Ok(())
}

/// The first `cap` key/values as a map, the number left out under TRUNCATED_ATTRIBUTES;
/// the rest are dropped unread.
fn attrs_of(mut kvs: Vec<KeyValue>, cap: usize, limits: &Limits) -> Result<Attrs, Failure> {
    attrs_at(&mut kvs, cap, limits, 0)
}

fn attrs_at(kvs: &mut Vec<KeyValue>, cap: usize, limits: &Limits, depth: usize) -> Result<Attrs, Failure> {
    let dropped = kvs.len().saturating_sub(cap);
    kvs.truncate(cap);
    let mut result = Attrs::with_capacity_and_hasher(kvs.len() + 1, Default::default());
    for kv in kvs.drain(..) {
        let value = value_of(kv.value, limits, depth)?;
        result.insert(kv.key, value);
    }
    if dropped > 0 {
        result.insert(TRUNCATED_ATTRIBUTES.to_owned(), Val::Int(dropped as i64));
    }
    Ok(result)
}

fn value_of(v: Option<AnyValue>, limits: &Limits, depth: usize) -> Result<Val, Failure> {
    let Some(value) = v.and_then(|a| a.value) else { return Ok(Val::Null) };
    Ok(match value {
        Pv::StringValue(s) => Val::Str(truncate(s, limits.max_value_bytes)),
        Pv::IntValue(i) => Val::Int(i),
        Pv::DoubleValue(f) if f.is_finite() => Val::Float(f),
        Pv::DoubleValue(_) => return Err(Failure::Defer(NON_FINITE)),
        Pv::BoolValue(b) => Val::Bool(b),
        _ if depth >= MAX_DEPTH => Val::Str(NESTED_TOO_DEEP.to_owned()),
        Pv::ArrayValue(a) => {
            let mut items = Vec::with_capacity(a.values.len());
            for x in a.values {
                items.push(value_of(Some(x), limits, depth + 1)?);
            }
            Val::List(items)
        }
        Pv::KvlistValue(mut l) => Val::Map(attrs_at(&mut l.values, limits.attributes, limits, depth + 1)?),
        // a string-table index means nothing outside profiles; the reference keeps null
        Pv::StringValueStrindex(_) => Val::Null,
        Pv::BytesValue(b) => Val::Str(truncate(base64::engine::general_purpose::STANDARD.encode(b), limits.max_value_bytes)),
    })
}
