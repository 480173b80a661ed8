//! What one decoded span holds, the checks that reject a span alone, and the outcome of a
//! whole payload.

use crate::value::{Attrs, Event};

pub const KINDS: [&str; 6] = ["unspecified", "internal", "server", "client", "producer", "consumer"];
pub const STATUSES: [&str; 3] = ["unset", "ok", "error"];
/// Spans outside [2000-01-01, 2100-01-01) are rejected, as the Python decoder does.
pub const MIN_NS: i128 = 946_684_800 * 1_000_000_000;
pub const MAX_NS: i128 = 4_102_444_800 * 1_000_000_000;
/// Span names longer than this many UTF-8 bytes are truncated.
pub const NAME_BYTES: usize = 1024;

/// How much of one span is kept (`SpanLimits` and the per-value byte limit).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_value_bytes: usize,
    pub attributes: usize,
    pub events: usize,
    pub event_attributes: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: &'static str,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status_code: &'static str,
    pub status_message: Option<String>,
    pub scope_name: Option<String>,
    pub scope_version: Option<String>,
    pub resource: i32,
    pub attributes: Attrs,
    pub events: Vec<Event>,
    pub dropped_attributes: u64,
    pub dropped_events: u64,
}

/// The spans of one payload, the resources they point into (attributes, in payload order)
/// and the spans rejected alone.
#[derive(Debug, Default)]
pub struct Decoded {
    pub rows: Vec<SpanRow>,
    pub resources: Vec<Attrs>,
    pub rejected: u64,
    pub errors: Vec<String>,
}

impl Decoded {
    /// Counted always; the first five messages kept, enough to say what was wrong.
    pub fn reject(&mut self, message: String) {
        self.rejected += 1;
        if self.errors.len() < 5 {
            self.errors.push(message);
        }
    }
}

/// Why a payload gave no batch.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// The payload is refused whole, with this message (a 400).
    Bad(String),
    /// The payload holds something whose exact treatment the reference decoder defines
    /// (a parse error's wording, a Python conversion, a non-finite double): it decides.
    Defer(&'static str),
}

fn head(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The reason a span is rejected alone, in the Python decoder's words (ids are hex text,
/// so their `repr` is the text in single quotes).
pub fn check_span(trace_id: &str, span_id: &str, parent: Option<&str>, start: i128, end: i128) -> Option<String> {
    if trace_id.len() != 32 || trace_id.bytes().all(|b| b == b'0') {
        return Some(format!("invalid trace_id '{}' (want 16 non-zero bytes)", head(trace_id, 64)));
    }
    if span_id.len() != 16 || span_id.bytes().all(|b| b == b'0') {
        return Some(format!("invalid span_id '{}' (want 8 non-zero bytes)", head(span_id, 32)));
    }
    if let Some(p) = parent {
        if p.len() != 16 {
            return Some(format!("invalid parent_span_id '{}' (want 8 bytes)", head(p, 32)));
        }
    }
    if !(MIN_NS..MAX_NS).contains(&start) || !(MIN_NS..MAX_NS).contains(&end) {
        return Some(format!("span {span_id}: timestamps out of range (start {start}, end {end})"));
    }
    if end < start {
        return Some(format!("span {span_id}: end time {end} is before start time {start}"));
    }
    None
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_checks_say_what_is_wrong() {
        let t = "ab".repeat(16);
        let s = "cd".repeat(8);
        let ok = MIN_NS + 5;
        assert_eq!(check_span(&t, &s, None, ok, ok), None);
        assert_eq!(check_span(&"0".repeat(32), &s, None, ok, ok).unwrap(),
                   format!("invalid trace_id '{}' (want 16 non-zero bytes)", "0".repeat(32)));
        assert_eq!(check_span(&t, "abc", None, ok, ok).unwrap(), "invalid span_id 'abc' (want 8 non-zero bytes)");
        assert_eq!(check_span(&t, &s, Some("ab"), ok, ok).unwrap(), "invalid parent_span_id 'ab' (want 8 bytes)");
        assert_eq!(check_span(&t, &s, None, 0, ok).unwrap(),
                   format!("span {s}: timestamps out of range (start 0, end {ok})"));
        assert_eq!(check_span(&t, &s, None, ok + 1, ok).unwrap(),
                   format!("span {s}: end time {ok} is before start time {}", ok + 1));
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }
}
