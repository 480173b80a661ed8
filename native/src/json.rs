//! OTLP/JSON → span rows: hex ids, camelCase, enums as ints or names, int64 as strings.
//!
//! The reference decoder converts loosely typed fields with Python's `int()`, `float()`
//! and `str()`; this module does the same for the inputs whose result and error text are
//! plain (numbers, decimal strings, booleans, null, printable ASCII in messages), and hands
//! every other case to the reference decoder, as it does every payload serde_json refuses
//! (the wording of a JSON parse error is orjson's).

use serde_json::{Map, Value};

use crate::span::{check_span, Decoded, Failure, Limits, SpanRow, KINDS, NAME_BYTES, STATUSES};
use crate::value::{truncate, Attrs, Event, Val, MAX_DEPTH, NESTED_TOO_DEEP, TRUNCATED_ATTRIBUTES, TRUNCATED_EVENTS};

/// A span rejected alone with this message, or the payload handed to the reference.
enum SpanErr {
    Reject(String),
    Defer(&'static str),
}

type R<T> = Result<T, SpanErr>;

const PY_CONVERSION: &str = "a value whose Python conversion this decoder does not mirror";

/// serde_json's objects keep no key order (cheaper than keeping it); only an attribute value
/// with more than one key needs it.
const FIRST_KEY: &str = "an attribute value object with more than one key";

fn defer<T>() -> R<T> {
    Err(SpanErr::Defer(PY_CONVERSION))
}

fn reject<T>(message: impl Into<String>) -> R<T> {
    Err(SpanErr::Reject(message.into()))
}

/// Python's name for the type orjson gives this value.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `repr(s)` for printable ASCII text (None otherwise: the reference writes that one).
fn py_repr(s: &str) -> Option<String> {
    if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        if c == '\\' || c == quote {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(quote);
    Some(out)
}

fn head(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `str(v)`.
fn py_str(v: &Value) -> R<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok("None".to_owned()),
        Value::Bool(b) => Ok(if *b { "True" } else { "False" }.to_owned()),
        Value::Number(n) if !n.is_f64() => Ok(n.to_string()),
        _ => defer(),
    }
}

/// `int(v)`.
fn py_int(v: &Value) -> R<i128> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i as i128)
            } else if let Some(u) = n.as_u64() {
                Ok(u as i128)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN).trunc();
                if f.is_finite() && f.abs() < 9.2e18 { Ok(f as i128) } else { defer() }
            }
        }
        Value::Bool(b) => Ok(*b as i128),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return defer();
            }
            s.parse::<i128>().or_else(|_| defer())
        }
        other => reject(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            type_name(other)
        )),
    }
}

/// `float(v)`, finite results only (JSON text has no NaN).
fn py_float(v: &Value) -> R<f64> {
    let f = match v {
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i as f64,
            (None, Some(u)) => u as f64,
            _ => n.as_f64().unwrap_or(f64::NAN),
        },
        Value::Bool(b) => *b as u8 as f64,
        Value::String(s) => {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) {
                return defer();
            }
            match s.parse::<f64>() {
                Ok(f) => f,
                Err(_) => return defer(),
            }
        }
        other => {
            return reject(format!("float() argument must be a string or a real number, not '{}'", type_name(other)))
        }
    };
    if f.is_finite() { Ok(f) } else { defer() }
}

fn no_get(v: &Value) -> SpanErr {
    SpanErr::Reject(format!("'{}' object has no attribute 'get'", type_name(v)))
}

pub fn decode(body: &[u8], limits: &Limits) -> Result<Decoded, Failure> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| Failure::Defer("JSON the fast parser refuses"))?;
    let Value::Object(doc) = doc else {
        return Err(bad("top level must be an object with resourceSpans"));
    };
    let empty = Value::Array(Vec::new());
    let resource_spans = doc.get("resourceSpans").or_else(|| doc.get("resource_spans")).unwrap_or(&empty);
    let resource_spans = expect_list(resource_spans, "resourceSpans")?;
    let mut out = Decoded::default();
    for (i, rs) in resource_spans.iter().enumerate() {
        let rs = expect_dict(rs, &format!("resourceSpans[{i}]"))?;
        let where_ = format!("resourceSpans[{i}].resource");
        let resource = json_resource(rs.get("resource"), limits, &where_)?;
        let index = out.resources.len() as i32;
        out.resources.push(resource);
        let scope_spans = rs.get("scopeSpans").or_else(|| rs.get("instrumentationLibrarySpans")).unwrap_or(&empty);
        let scope_spans = expect_list(scope_spans, &format!("resourceSpans[{i}].scopeSpans"))?;
        for (j, ss) in scope_spans.iter().enumerate() {
            let ss = expect_dict(ss, &format!("resourceSpans[{i}].scopeSpans[{j}]"))?;
            let scope = [ss.get("scope"), ss.get("instrumentationLibrary")]
                .into_iter()
                .flatten()
                .find(|v| truthy(v));
            let (scope_name, scope_version) = match scope {
                Some(Value::Object(s)) => (scope_text(s.get("name"))?, scope_text(s.get("version"))?),
                _ => (None, None),
            };
            let spans = expect_list(ss.get("spans").unwrap_or(&empty), &format!("resourceSpans[{i}].scopeSpans[{j}].spans"))?;
            for span in spans {
                match span_row(span, index, &scope_name, &scope_version, limits) {
                    Ok(row) => match check_span(&row.0.trace_id, &row.0.span_id, row.0.parent_span_id.as_deref(), row.1, row.2) {
                        Some(error) => out.reject(error),
                        None => out.rows.push(row.0),
                    },
                    Err(SpanErr::Reject(message)) => out.reject(format!("span rejected: {message}")),
                    Err(SpanErr::Defer(why)) => return Err(Failure::Defer(why)),
                }
            }
        }
    }
    Ok(out)
}

fn bad(message: &str) -> Failure {
    Failure::Bad(format!("malformed OTLP JSON: {message}"))
}

fn expect_list<'a>(v: &'a Value, where_: &str) -> Result<&'a Vec<Value>, Failure> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(bad(&format!("{where_} must be an array, got {}", type_name(other)))),
    }
}

fn expect_dict<'a>(v: &'a Value, where_: &str) -> Result<&'a Map<String, Value>, Failure> {
    match v {
        Value::Object(o) => Ok(o),
        other => Err(bad(&format!("{where_} must be an object, got {}", type_name(other)))),
    }
}

/// `x or None` for a scope's name or version: text, or nothing when falsy.
fn scope_text(v: Option<&Value>) -> Result<Option<String>, Failure> {
    match v {
        None => Ok(None),
        Some(v) if !truthy(v) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Failure::Defer(PY_CONVERSION)),
    }
}

/// A malformed resource spoils all its spans, so it fails the request.
fn json_resource(resource: Option<&Value>, limits: &Limits, where_: &str) -> Result<Attrs, Failure> {
    let resource = match resource {
        None | Some(Value::Null) => return Ok(Attrs::default()),
        Some(r) => expect_dict(r, where_)?,
    };
    match json_attrs(resource.get("attributes"), limits, limits.attributes, 0) {
        Ok(attrs) => Ok(attrs),
        // an AttributeError is not a TypeError or ValueError: the reference lets it through
        Err(SpanErr::Reject(m)) if m.ends_with("object has no attribute 'get'") => Err(Failure::Defer(PY_CONVERSION)),
        Err(SpanErr::Reject(m)) => Err(bad(&format!("{where_}.attributes: {m}"))),
        Err(SpanErr::Defer(why)) => Err(Failure::Defer(why)),
    }
}

fn hex_id(v: Option<&Value>, name: &str) -> R<String> {
    let Some(Value::String(s)) = v else { return reject(format!("{name} must be a hex string")) };
    if !s.is_ascii() {
        return defer();
    }
    if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(s.to_ascii_lowercase());
    }
    match py_repr(head(s, 40)) {
        Some(r) => reject(format!("{name} {r} is not hex")),
        None => defer(),
    }
}

fn enum_of(v: Option<&Value>, names: &[&'static str], prefix: &str) -> R<&'static str> {
    let v = v.unwrap_or(&Value::Null);
    match v {
        Value::Bool(b) => Ok(names[*b as usize]),
        Value::Number(n) if !n.is_f64() => match n.as_u64() {
            Some(i) if (i as usize) < names.len() => Ok(names[i as usize]),
            _ => reject(format!("unknown enum value {n}")),
        },
        Value::String(s) => {
            let name = s.strip_prefix(prefix).unwrap_or(s);
            // str.lower() of ASCII; any other text is not one of the names either way
            if let Some(found) = names.iter().find(|n| name.eq_ignore_ascii_case(n) && name.is_ascii()) {
                return Ok(found);
            }
            match py_repr(s) {
                Some(r) => reject(format!("unknown enum value {r}")),
                None => defer(),
            }
        }
        Value::Null => reject("unknown enum value None"),
        _ => defer(),
    }
}

/// (row, start, end): the row's times are checked by the caller, with the ids.
fn span_row(span: &Value, resource: i32, scope_name: &Option<String>, scope_version: &Option<String>,
            limits: &Limits) -> R<(SpanRow, i128, i128)> {
    let Value::Object(span) = span else { return reject("a span must be an object") };
    let parent_raw = span.get("parentSpanId").filter(|v| truthy(v));
    let empty = Value::Object(Map::new());
    let status = span.get("status").filter(|v| truthy(v)).unwrap_or(&empty);
    let (events, dropped_events) = json_events(span.get("events"), limits)?;
    let dropped_attributes = match span.get("attributes") {
        Some(Value::Array(a)) => a.len().saturating_sub(limits.attributes) as u64,
        _ => 0,
    };
    let mut attributes = json_attrs(span.get("attributes"), limits, limits.attributes, 0)?;
    if dropped_events > 0 {
        attributes.insert(TRUNCATED_EVENTS.to_owned(), Val::Int(dropped_events as i64));
    }
    let trace_id = hex_id(span.get("traceId"), "traceId")?;
    let span_id = hex_id(span.get("spanId"), "spanId")?;
    let parent_span_id = match parent_raw {
        Some(p) => Some(hex_id(Some(p), "parentSpanId")?),
        None => None,
    };
    let name = truncate(match span.get("name") {
        Some(v) => py_str(v)?,
        None => String::new(),
    }, NAME_BYTES);
    let kind = match span.get("kind") {
        None => KINDS[0],
        Some(v) => enum_of(Some(v), &KINDS, "SPAN_KIND_")?,
    };
    let start = span.get("startTimeUnixNano").map_or(Ok(0), py_int)?;
    let end = span.get("endTimeUnixNano").map_or(Ok(0), py_int)?;
    let Value::Object(status) = status else { return Err(no_get(status)) };
    let status_code = match status.get("code") {
        None => STATUSES[0],
        Some(v) => enum_of(Some(v), &STATUSES, "STATUS_CODE_")?,
    };
    let status_message = match status.get("message") {
        Some(v) if truthy(v) => match v {
            Value::String(s) => Some(s.clone()),
            _ => return defer(),
        },
        _ => None,
    };
    let row = SpanRow {
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind,
        start_ns: start as i64,
        end_ns: end as i64,
        status_code,
        status_message,
        scope_name: scope_name.clone(),
        scope_version: scope_version.clone(),
        resource,
        attributes,
        events,
        dropped_attributes,
        dropped_events,
    };
    Ok((row, start, end))
}

fn json_events(evs: Option<&Value>, limits: &Limits) -> R<(Vec<Event>, u64)> {
    let Some(evs) = evs.filter(|v| truthy(v)) else { return Ok((Vec::new(), 0)) };
    let Value::Array(evs) = evs else { return reject("events must be an array") };
    let dropped = evs.len().saturating_sub(limits.events) as u64;
    let mut events = Vec::with_capacity(evs.len().min(limits.events));
    for ev in evs.iter().take(limits.events) {
        let Value::Object(ev) = ev else { return reject("an event must be an object") };
        let name = match ev.get("name") {
            Some(v) => py_str(v)?,
            None => String::new(),
        };
        let time_ns = ev.get("timeUnixNano").map_or(Ok(0), py_int)?;
        if !(i64::MIN as i128..=u64::MAX as i128).contains(&time_ns) {
            return defer(); // past what the stored JSON can hold as an integer
        }
        let attributes = json_attrs(ev.get("attributes"), limits, limits.event_attributes, 0)?;
        events.push(Event { name, time_ns, attributes });
    }
    Ok((events, dropped))
}

fn json_attrs(kvs: Option<&Value>, limits: &Limits, cap: usize, depth: usize) -> R<Attrs> {
    let kvs = match kvs {
        None | Some(Value::Null) => return Ok(Attrs::default()),
        Some(Value::Array(a)) => a,
        Some(_) => return reject("attributes must be an array of {key, value}"),
    };
    let dropped = kvs.len().saturating_sub(cap);
    let mut result = Attrs::with_capacity_and_hasher(kvs.len().min(cap) + 1, Default::default());
    for kv in kvs.iter().take(cap) {
        let (Value::Object(kv), true) = (kv, matches!(kv.get("key"), Some(Value::String(_)))) else {
            return reject("an attribute must be an object with a string key");
        };
        let Some(Value::String(key)) = kv.get("key") else { unreachable!("checked above") };
        let value = json_value(kv.get("value"), limits, depth)?;
        result.insert(key.clone(), value);
    }
    if dropped > 0 {
        result.insert(TRUNCATED_ATTRIBUTES.to_owned(), Val::Int(dropped as i64));
    }
    Ok(result)
}

/// `(raw or {}).get("values")`, refusing a non-empty value that is not an object as the
/// reference does (`{kind} must be an object with values, got <type>`).
fn values_of<'a>(kind: &str, raw: &'a Value) -> R<Option<&'a Value>> {
    if !truthy(raw) {
        return Ok(None);
    }
    match raw {
        Value::Object(o) => Ok(o.get("values")),
        other => reject(format!("{kind} must be an object with values, got {}", type_name(other))),
    }
}

fn json_value(v: Option<&Value>, limits: &Limits, depth: usize) -> R<Val> {
    let Some(Value::Object(v)) = v else { return Ok(Val::Null) };
    if v.len() > 1 {
        return Err(SpanErr::Defer(FIRST_KEY)); // the reference takes the first key given
    }
    let Some((kind, raw)) = v.iter().next() else { return Ok(Val::Null) };
    Ok(match kind.as_str() {
        "stringValue" => Val::Str(truncate(py_str(raw)?, limits.max_value_bytes)),
        "intValue" => {
            let i = py_int(raw)?;
            match i64::try_from(i) {
                Ok(i) => Val::Int(i),
                Err(_) => return defer(),
            }
        }
        "doubleValue" => Val::Float(py_float(raw)?),
        "boolValue" => Val::Bool(truthy(raw)),
        _ if depth >= MAX_DEPTH => Val::Str(NESTED_TOO_DEEP.to_owned()),
        "arrayValue" => match values_of("arrayValue", raw)?.filter(|v| truthy(v)) {
            None => Val::List(Vec::new()),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for x in items {
                    out.push(json_value(Some(x), limits, depth + 1)?);
                }
                Val::List(out)
            }
            Some(_) => return defer(),
        },
        "kvlistValue" => Val::Map(json_attrs(values_of("kvlistValue", raw)?, limits, limits.attributes, depth + 1)?),
        "bytesValue" => Val::Str(truncate(py_str(raw)?, limits.max_value_bytes)),
        other => match py_repr(other) {
            Some(r) => return reject(format!("unknown attribute value type {r}")),
            None => return defer(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_reprs_and_conversions() {
        assert_eq!(py_repr("ab'c").unwrap(), "\"ab'c\"");
        assert_eq!(py_repr("a\"b'c").unwrap(), "'a\"b\\'c'");
        assert_eq!(py_repr("a\\b").unwrap(), "'a\\\\b'");
        assert!(py_repr("é").is_none());
        assert_eq!(py_int(&Value::from("-12")).ok(), Some(-12));
        assert_eq!(py_int(&Value::from(2.9)).ok(), Some(2));
        assert!(matches!(py_int(&Value::from(" 1")), Err(SpanErr::Defer(_))));
        assert_eq!(py_float(&Value::from("1e3")).ok(), Some(1000.0));
        assert!(matches!(py_float(&Value::from("1e400")), Err(SpanErr::Defer(_))));
        assert_eq!(py_str(&Value::Bool(true)).ok().as_deref(), Some("True"));
    }
}
