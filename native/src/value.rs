//! Decoded attribute values and their JSON text, written as `orjson.dumps` writes the
//! Python decoder's dicts (compact, UTF-8, the same escapes and float form), so the text a
//! batch carries is the text the store keeps.

use indexmap::IndexMap;

/// One attribute value after decoding; maps keep insertion order and, like a Python dict,
/// a repeated key replaces the value in the place of its first occurrence.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    List(Vec<Val>),
    Map(Attrs),
}

/// foldhash, seeded per process: attribute keys come from senders.
pub type Attrs = IndexMap<String, Val, foldhash::fast::RandomState>;

pub const TRUNCATED_ATTRIBUTES: &str = "outcrop.truncated.attributes";
pub const TRUNCATED_EVENTS: &str = "outcrop.truncated.events";
pub const NESTED_TOO_DEEP: &str = "…[nested too deep]";
/// Nested array/kvlist values deeper than this are cut (the Python decoder's MAX_DEPTH).
pub const MAX_DEPTH: usize = 8;

/// `value` kept to `limit` UTF-8 bytes with a visible marker, as `otlp._truncate` does:
/// the head up to the last whole character, then `…[truncated N bytes]` where N counts
/// from the limit.
pub fn truncate(value: String, limit: usize) -> String {
    if value.len() <= limit {
        return value;
    }
    let mut cut = limit;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…[truncated {} bytes]", &value[..cut], value.len() - limit)
}

pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s); // most text: nothing to escape
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\t' => Some("\\t"),
            b'\r' => Some("\\r"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => out.push_str(&format!("\\u{:04x}", b)),
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A float as orjson writes it: the shortest round-trip digits, `1e+20` and `1.5e-7` for
/// exponents, `1.0` for whole numbers; non-finite values are `null`.
pub fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let text = serde_json::to_string(&f).unwrap_or_else(|_| "null".to_owned());
    match text.find('e') {
        Some(pos) if !matches!(text.as_bytes().get(pos + 1), Some(b'-' | b'+')) => {
            out.push_str(&text[..=pos]);
            out.push('+');
            out.push_str(&text[pos + 1..]);
        }
        _ => out.push_str(&text),
    }
}

pub fn write_val(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => out.push_str(&i.to_string()),
        Val::UInt(u) => out.push_str(&u.to_string()),
        Val::Float(f) => write_float(out, *f),
        Val::Str(s) => write_str(out, s),
        Val::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_val(out, item);
            }
            out.push(']');
        }
        Val::Map(map) => write_attrs(out, map),
    }
}

pub fn write_attrs(out: &mut String, map: &Attrs) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write_val(out, v);
    }
    out.push('}');
}

pub fn attrs_json(map: &Attrs) -> String {
    let mut out = String::with_capacity(64 + map.len() * 32);
    write_attrs(&mut out, map);
    out
}

/// One event of a span: `{"name", "time_ns", "attributes"}` in the Python decoder's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub time_ns: i128,
    pub attributes: Attrs,
}

pub fn events_json(events: &[Event]) -> String {
    let mut out = String::with_capacity(events.len() * 96);
    out.push('[');
    for (i, ev) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        write_str(&mut out, &ev.name);
        out.push_str(",\"time_ns\":");
        out.push_str(&ev.time_ns.to_string());
        out.push_str(",\"attributes\":");
        write_attrs(&mut out, &ev.attributes);
        out.push('}');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters_and_counts_from_the_limit() {
        assert_eq!(truncate("abcdef".into(), 6), "abcdef");
        assert_eq!(truncate("abcdef".into(), 4), "abcd…[truncated 2 bytes]");
        // "é" is two bytes: a cut through it drops the half character
        assert_eq!(truncate("aéb".into(), 2), "a…[truncated 2 bytes]");
    }

    #[test]
    fn json_text_is_orjson_text() {
        let mut m = Attrs::default();
        m.insert("s".into(), Val::Str("a\u{1}\"\\\n\u{7f}é".into()));
        m.insert("f".into(), Val::Float(1e20));
        m.insert("g".into(), Val::Float(1.5e-7));
        m.insert("w".into(), Val::Float(2.0));
        m.insert("n".into(), Val::Float(f64::NAN));
        m.insert("l".into(), Val::List(vec![Val::Int(-3), Val::Bool(true), Val::Null]));
        m.insert("s".into(), Val::Str("again".into())); // replaces in place, as a dict does
        assert_eq!(
            attrs_json(&m),
            r#"{"s":"again","f":1e+20,"g":1.5e-7,"w":2.0,"n":null,"l":[-3,true,null]}"#
        );
        let mut e = String::new();
        write_str(&mut e, "a\u{1}\"\\\n\u{7f}é");
        assert_eq!(e, "\"a\\u0001\\\"\\\\\\n\u{7f}é\"");
    }
}
