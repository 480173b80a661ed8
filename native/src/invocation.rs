//! Bedrock model-invocation log lines (JSON lines of `schemaType` ModelInvocationLog, the
//! record layout AWS documents for invocation logging) → one Arrow record batch, one row
//! per line, holding the fields `collector/normalize/bedrock.py` reads, each read with that
//! module's value rules (`_str`, `_float`, `_tokens`, the stream-chunk walk).
//!
//! The Python module stays the reference. A line whose exact treatment only it defines
//! (a parse error, whose wording is orjson's; a number where text is read, which Python
//! spells with `str()`; a count or time out of bounds, whose message is Python's; a body
//! moved to S3, which Python fetches) gets status `deferred`, and its bytes go through the
//! Python path unchanged. Model-id normalisation, throttle classes, stream operations and
//! the identity → tenant map are applied by Python over whole columns, not here.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::marker::PhantomData;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// What the decoder is told by Python: the token bound (`ingest.max_tokens_per_call`),
/// the requestMetadata keys per attribution field in rank order, and the longest line.
pub struct Config {
    pub max_tokens: i64,
    pub max_line_bytes: usize,
    fields: Vec<String>,
    /// requestMetadata key → (field index, rank); the first mention of a key wins, as
    /// `bedrock._metadata_index` builds it.
    index: HashMap<String, (usize, usize)>,
}

impl Config {
    pub fn new(max_tokens: i64, max_line_bytes: usize, metadata: &[(String, Vec<String>)]) -> Config {
        let mut index = HashMap::new();
        for (field, (_, names)) in metadata.iter().enumerate() {
            for (rank, name) in names.iter().enumerate() {
                index.entry(name.clone()).or_insert((field, rank));
            }
        }
        Config { max_tokens, max_line_bytes, fields: metadata.iter().map(|(f, _)| f.clone()).collect(), index }
    }
}

/// Why a line goes to the reference instead.
type Defer = &'static str;

// -- JSON values as the reference sees them -----------------------------------------------

/// One JSON value where the reference reads a scalar; containers are skipped unread.
#[derive(Default, Debug)]
enum Leaf<'a> {
    #[default]
    Absent,
    Null,
    Bool,
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Container,
}

struct LeafVisitor;

impl<'de> Visitor<'de> for LeafVisitor {
    type Value = Leaf<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Bool)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_unit<E>(self) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Leaf<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Leaf::Container)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Leaf<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Leaf::Container)
    }
}

impl<'de> Deserialize<'de> for Leaf<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LeafVisitor)
    }
}

/// An object key, borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// An object whose fields are picked by key; later duplicates overwrite earlier ones, as
/// orjson's dicts keep the last value of a repeated key.
trait Fields<'de>: Default {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, cfg: &Config) -> Result<(), A::Error>;
}

/// `Some(fields)` for a JSON object, None for any other value (the reference's `_dict`).
struct Obj<'c, T> {
    cfg: &'c Config,
    kind: PhantomData<T>,
}

fn obj<T>(cfg: &Config) -> Obj<'_, T> {
    Obj { cfg, kind: PhantomData }
}

impl<'de, T: Fields<'de>> DeserializeSeed<'de> for Obj<'_, T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Fields<'de>> Visitor<'de> for Obj<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut out = T::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            out.field(&key, &mut map, self.cfg)?;
        }
        Ok(Some(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
}

/// What `.get(key)` of a missing key or of a non-object reads.
static ABSENT: Leaf<'static> = Leaf::Absent;

fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

/// Objects of scalar fields only.
macro_rules! leaf_object {
    ($name:ident { $($key:literal => $field:ident),* $(,)? }) => {
        #[derive(Default)]
        struct $name<'a> { $($field: Leaf<'a>,)* }
        impl<'de> Fields<'de> for $name<'de> {
            fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, _: &Config) -> Result<(), A::Error> {
                match key {
                    $($key => self.$field = map.next_value()?,)*
                    _ => skip(map)?,
                }
                Ok(())
            }
        }
    };
}

leaf_object!(Identity { "arn" => arn });
leaf_object!(Input {
    "inputTokenCount" => input,
    "cacheReadInputTokenCount" => cache_read,
    "cacheWriteInputTokenCount" => cache_write,
});
leaf_object!(Latency { "latencyMs" => latency_ms });
leaf_object!(ErrorBody { "type" => kind });
leaf_object!(StopReason { "stop_reason" => stop_reason });
leaf_object!(StopReasonCamel { "stopReason" => stop_reason });
// bedrock._STOP_KEYS, in its order.
leaf_object!(Stops {
    "stopReason" => stop_reason_camel,
    "stop_reason" => stop_reason,
    "finish_reason" => finish_reason,
    "completionReason" => completion_reason,
    "finishReason" => finish_reason_camel,
});

impl<'a> Stops<'a> {
    fn in_order(&self) -> [&Leaf<'a>; 5] {
        [&self.stop_reason_camel, &self.stop_reason, &self.finish_reason, &self.completion_reason,
         &self.finish_reason_camel]
    }

    /// The first stop key with text (`_body_stop`'s inner loop), decided when read.
    fn pick(self) -> Pick<'a> {
        let [a, b, c, d, e] = [self.stop_reason_camel, self.stop_reason, self.finish_reason,
                               self.completion_reason, self.finish_reason_camel];
        for leaf in [a, b, c, d, e] {
            match leaf {
                Leaf::Str(s) if !s.is_empty() => return Pick::Found(s),
                Leaf::Int(_) | Leaf::UInt(_) | Leaf::Float(_) => return Pick::Defer,
                _ => {}
            }
        }
        Pick::Nothing
    }
}

/// A stop list's first item, decided: its stop reason, none, or a number only Python spells.
enum Pick<'a> {
    Nothing,
    Found(Cow<'a, str>),
    Defer,
}

/// The `amazon-bedrock-invocationMetrics` object: its latencies, and whether it has any key
/// at all (an empty one does not make the record streamed).
#[derive(Default)]
struct Metrics<'a> {
    keys: usize,
    invocation_latency: Leaf<'a>,
    first_byte_latency: Leaf<'a>,
}

impl<'de> Fields<'de> for Metrics<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, _: &Config) -> Result<(), A::Error> {
        self.keys += 1;
        match key {
            "invocationLatency" => self.invocation_latency = map.next_value()?,
            "firstByteLatency" => self.first_byte_latency = map.next_value()?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

/// A ConverseStream `metadata` event: whether it has `metrics`, and that object.
#[derive(Default)]
struct Meta<'a> {
    has_metrics: bool,
    metrics: Option<Latency<'a>>,
}

impl<'de> Fields<'de> for Meta<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, cfg: &Config) -> Result<(), A::Error> {
        if key == "metrics" {
            self.has_metrics = true;
            self.metrics = map.next_value_seed(obj::<Latency>(cfg))?;
        } else {
            skip(map)?;
        }
        Ok(())
    }
}

/// Exception events a response stream can end with: bedrock._STREAM_EXCEPTIONS, in order.
const STREAM_EXCEPTIONS: [(&str, &str); 6] = [
    ("throttlingException", "ThrottlingException"),
    ("serviceUnavailableException", "ServiceUnavailableException"),
    ("internalServerException", "InternalServerException"),
    ("modelStreamErrorException", "ModelStreamErrorException"),
    ("modelTimeoutException", "ModelTimeoutException"),
    ("validationException", "ValidationException"),
];
// bedrock._STOP_LISTS, in order.
const STOP_LISTS: [&str; 4] = ["choices", "results", "generations", "outputs"];
const INVOCATION_METRICS: &str = "amazon-bedrock-invocationMetrics";

/// A response body object, or one chunk of a streamed body: everything either is read for.
#[derive(Default)]
struct Part<'a> {
    has_invocation_metrics: bool,
    invocation_metrics: Option<Metrics<'a>>,
    metadata: Option<Meta<'a>>,
    metrics: Option<Latency<'a>>,
    delta: Option<StopReason<'a>>,
    message_stop: Option<StopReasonCamel<'a>>,
    stops: Stops<'a>,
    /// The stop reason of each stop list's first item, when the list is non-empty and
    /// that item is an object.
    lists: [Option<Pick<'a>>; 4],
    kind: Leaf<'a>,
    error: Option<ErrorBody<'a>>,
    aws_type: Leaf<'a>,
    error_code: Leaf<'a>,
    /// Bit i: STREAM_EXCEPTIONS[i] is a key of this chunk.
    exceptions: u8,
}

impl<'de> Fields<'de> for Part<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, cfg: &Config) -> Result<(), A::Error> {
        match key {
            INVOCATION_METRICS => {
                self.has_invocation_metrics = true;
                self.invocation_metrics = map.next_value_seed(obj::<Metrics>(cfg))?;
            }
            "metadata" => self.metadata = map.next_value_seed(obj::<Meta>(cfg))?,
            "metrics" => self.metrics = map.next_value_seed(obj::<Latency>(cfg))?,
            "delta" => self.delta = map.next_value_seed(obj::<StopReason>(cfg))?,
            "messageStop" => self.message_stop = map.next_value_seed(obj::<StopReasonCamel>(cfg))?,
            "stopReason" | "stop_reason" | "finish_reason" | "completionReason" | "finishReason" => {
                self.stops.field(key, map, cfg)?
            }
            "type" => self.kind = map.next_value()?,
            "error" => self.error = map.next_value_seed(obj::<ErrorBody>(cfg))?,
            "__type" => self.aws_type = map.next_value()?,
            "errorCode" => self.error_code = map.next_value()?,
            _ => {
                if let Some(i) = STOP_LISTS.iter().position(|k| *k == key) {
                    self.lists[i] = map.next_value_seed(FirstItem { cfg })?;
                } else if let Some(i) = STREAM_EXCEPTIONS.iter().position(|(k, _)| *k == key) {
                    self.exceptions |= 1 << i;
                    skip(map)?;
                } else {
                    skip(map)?;
                }
            }
        }
        Ok(())
    }
}

/// The first item of a list, when it is an object; None for anything else.
struct FirstItem<'c> {
    cfg: &'c Config,
}

impl<'de> DeserializeSeed<'de> for FirstItem<'_> {
    type Value = Option<Pick<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstItem<'_> {
    type Value = Option<Pick<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let first = seq.next_element_seed(obj::<Stops>(self.cfg))?.flatten();
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first.map(Stops::pick))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// `output.outputBodyJson`: a list of stream chunks (None where a chunk is no object), an
/// object, or anything else.
#[derive(Default)]
enum Body<'a> {
    #[default]
    Other,
    // boxed: a Part is large, and moved a few times on its way into the record
    Chunks(Vec<Option<Box<Part<'a>>>>),
    Object(Box<Part<'a>>),
}

struct BodySeed<'c> {
    cfg: &'c Config,
}

impl<'de> DeserializeSeed<'de> for BodySeed<'_> {
    type Value = Body<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Body<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_> {
    type Value = Body<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body<'de>, A::Error> {
        let mut chunks = Vec::new();
        while let Some(chunk) = seq.next_element_seed(obj::<Part>(self.cfg))? {
            chunks.push(chunk.map(Box::new));
        }
        Ok(Body::Chunks(chunks))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Body<'de>, A::Error> {
        Ok(Body::Object(Box::new(obj::<Part>(self.cfg).visit_map(map)?.unwrap_or_default())))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Body<'de>, E> {
        Ok(Body::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Body<'de>, E> {
        Ok(Body::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Body<'de>, E> {
        Ok(Body::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Body<'de>, E> {
        Ok(Body::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Body<'de>, E> {
        Ok(Body::Other)
    }
    fn visit_unit<E>(self) -> Result<Body<'de>, E> {
        Ok(Body::Other)
    }
}

#[derive(Default)]
struct Output<'a> {
    output_tokens: Leaf<'a>,
    has_body: bool,
    body: Body<'a>,
    s3_path: Leaf<'a>,
}

impl<'de> Fields<'de> for Output<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, cfg: &Config) -> Result<(), A::Error> {
        match key {
            "outputTokenCount" => self.output_tokens = map.next_value()?,
            "outputBodyJson" => {
                self.has_body = true;
                self.body = map.next_value_seed(BodySeed { cfg })?;
            }
            "outputBodyS3Path" => self.s3_path = map.next_value()?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

/// requestMetadata: the value of each configured key present (by its index entry).
#[derive(Default)]
struct Metadata<'a> {
    hits: Vec<((usize, usize), Leaf<'a>)>,
}

impl<'de> Fields<'de> for Metadata<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, cfg: &Config) -> Result<(), A::Error> {
        let Some(&hit) = cfg.index.get(key) else { return skip(map) };
        let value: Leaf = map.next_value()?;
        match self.hits.iter_mut().find(|(h, _)| *h == hit) {
            Some(slot) => slot.1 = value,
            None => self.hits.push((hit, value)),
        }
        Ok(())
    }
}

#[derive(Default)]
struct Record<'a> {
    schema_type: Leaf<'a>,
    request_id: Leaf<'a>,
    timestamp: Leaf<'a>,
    operation: Leaf<'a>,
    region: Leaf<'a>,
    inference_region: Leaf<'a>,
    account_id: Leaf<'a>,
    error_code: Leaf<'a>,
    model_id: Leaf<'a>,
    identity: Option<Identity<'a>>,
    input: Option<Input<'a>>,
    output: Option<Output<'a>>,
    metadata: Option<Metadata<'a>>,
}

impl<'de> Fields<'de> for Record<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A, cfg: &Config) -> Result<(), A::Error> {
        match key {
            "schemaType" => self.schema_type = map.next_value()?,
            "requestId" => self.request_id = map.next_value()?,
            "timestamp" => self.timestamp = map.next_value()?,
            "operation" => self.operation = map.next_value()?,
            "region" => self.region = map.next_value()?,
            "inferenceRegion" => self.inference_region = map.next_value()?,
            "accountId" => self.account_id = map.next_value()?,
            "errorCode" => self.error_code = map.next_value()?,
            "modelId" => self.model_id = map.next_value()?,
            "identity" => self.identity = map.next_value_seed(obj::<Identity>(cfg))?,
            "input" => self.input = map.next_value_seed(obj::<Input>(cfg))?,
            "output" => self.output = map.next_value_seed(obj::<Output>(cfg))?,
            "requestMetadata" => self.metadata = map.next_value_seed(obj::<Metadata>(cfg))?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

// -- the reference's value rules ------------------------------------------------------------

/// bedrock._str: text or None; a number is spelled by Python's `str()`, so it defers.
fn py_str<'b, 'a>(leaf: &'b Leaf<'a>) -> Result<Option<&'b str>, Defer> {
    match leaf {
        Leaf::Str(s) if !s.is_empty() => Ok(Some(s)),
        Leaf::Int(_) | Leaf::UInt(_) | Leaf::Float(_) => Err("a number where text is read"),
        _ => Ok(None),
    }
}

const EXACT_F64: u64 = 1 << 53;

/// bedrock._float: a number as a float; text is parsed by Python's `float()`, so it defers.
fn py_float(leaf: &Leaf) -> Result<Option<f64>, Defer> {
    match *leaf {
        Leaf::Float(v) => Ok(Some(v)),
        Leaf::Int(v) if v.unsigned_abs() <= EXACT_F64 => Ok(Some(v as f64)),
        Leaf::UInt(v) if v <= EXACT_F64 => Ok(Some(v as f64)),
        Leaf::Int(_) | Leaf::UInt(_) | Leaf::Str(_) => Err("a latency only Python converts"),
        _ => Ok(None),
    }
}

/// bedrock._tokens: a count in [0, bound]; outside it the record is malformed, in the
/// reference's words, so it defers, as does text that is not plain digits.
fn py_tokens(leaf: &Leaf, bound: i64) -> Result<Option<i64>, Defer> {
    let value = match leaf {
        Leaf::Int(v) => *v as f64,
        Leaf::UInt(v) => *v as f64,
        Leaf::Float(v) => v.trunc(),
        Leaf::Str(s) if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<i64>().map_err(|_| "a token count only Python converts")? as f64
        }
        Leaf::Str(_) => return Err("a token count only Python converts"),
        _ => return Ok(None),
    };
    if (0.0..=bound as f64).contains(&value) {
        // exact: every integer up to a bound of at most 2^53 converts both ways
        return Ok(Some(match leaf {
            Leaf::Int(v) => *v,
            Leaf::UInt(v) => *v as i64,
            _ => value as i64,
        }));
    }
    Err("a token count out of bounds")
}

/// bedrock._ts_ns for the forms decided here: ISO 8601 `YYYY-MM-DDTHH:MM:SS[.f{1,6}][Z|±HH:MM]`
/// (no offset: UTC) and epoch milliseconds; any other form is Python's `fromisoformat`'s.
fn ts_ns(leaf: &Leaf) -> Result<i64, Defer> {
    const ODD: Defer = "a timestamp only Python reads";
    match *leaf {
        Leaf::Str(ref s) => iso_ns(s.as_bytes()).ok_or(ODD),
        Leaf::Int(v) => v.checked_mul(1_000_000).ok_or(ODD),
        Leaf::UInt(v) => i64::try_from(v).ok().and_then(|v| v.checked_mul(1_000_000)).ok_or(ODD),
        Leaf::Float(v) => {
            let ns = v * 1_000_000.0;
            if ns.abs() < 9.2e18 { Ok(ns.trunc() as i64) } else { Err(ODD) }
        }
        _ => Err("no timestamp"),
    }
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
}

fn iso_ns(s: &[u8]) -> Option<i64> {
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    let (hour, minute, second) = (digits(&s[11..13])?, digits(&s[14..16])?, digits(&s[17..19])?);
    if year == 0 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month)
        || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &s[19..];
    let mut micros = 0;
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=6).contains(&n) {
            return None;
        }
        micros = digits(&rest[1..=n])? * 10i64.pow(6 - n as u32);
        rest = &rest[1 + n..];
    }
    let offset = match rest {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            (h * 3600 + m * 60) * if *sign == b'-' { -1 } else { 1 }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    // Python's integers are unbounded: a time outside int64 nanoseconds (before 1677,
    // after 2262) is the reference's to carry.
    seconds.checked_mul(1_000_000_000)?.checked_add(micros * 1000)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// -- one record → one row --------------------------------------------------------------------

struct Row<'a> {
    request_id: &'a str,
    ts_ns: i64,
    operation: Option<&'a str>,
    region: Option<&'a str>,
    inference_region: Option<&'a str>,
    account_id: Option<&'a str>,
    identity_arn: Option<&'a str>,
    error_code: Option<&'a str>,
    model_id: Option<&'a str>,
    tokens: [Option<i64>; 4],
    body: BodyFacts<'a>,
    attribution: Vec<Option<&'a str>>,
}

#[derive(Default)]
struct BodyFacts<'a> {
    streamed: bool,
    ttlt_ms: Option<f64>,
    ttft_ms: Option<f64>,
    finish_reason: Option<&'a str>,
    error: Option<&'a str>,
}

fn row<'b, 'a>(rec: &'b Record<'a>, cfg: &Config) -> Result<Row<'b>, Defer> {
    match &rec.schema_type {
        Leaf::Absent | Leaf::Null => {}
        Leaf::Str(s) if s == "ModelInvocationLog" => {}
        _ => return Err("not a ModelInvocationLog"),
    }
    let Leaf::Str(request_id) = &rec.request_id else { return Err("no requestId") };
    if request_id.is_empty() {
        return Err("no requestId");
    }
    let ts_ns = ts_ns(&rec.timestamp)?;
    let identity_arn = py_str(rec.identity.as_ref().map_or(&ABSENT, |i| &i.arn))?;
    let model_id = match &rec.model_id {
        Leaf::Str(s) if !s.is_empty() => Some(s.as_ref()),
        _ => None,
    };
    let bound = cfg.max_tokens;
    let (mut tokens, output) = ([None; 4], rec.output.as_ref());
    if let Some(input) = &rec.input {
        tokens[0] = py_tokens(&input.input, bound)?;
        tokens[1] = py_tokens(&input.cache_read, bound)?;
        tokens[2] = py_tokens(&input.cache_write, bound)?;
    }
    let mut body = BodyFacts::default();
    if let Some(out) = output {
        tokens[3] = py_tokens(&out.output_tokens, bound)?;
        if !out.has_body && matches!(&out.s3_path, Leaf::Str(p) if p.starts_with("s3://")) {
            return Err("output body in S3");
        }
        body = body_facts(&out.body)?;
    }
    Ok(Row {
        request_id,
        ts_ns,
        operation: py_str(&rec.operation)?,
        region: py_str(&rec.region)?,
        inference_region: py_str(&rec.inference_region)?,
        account_id: py_str(&rec.account_id)?,
        identity_arn,
        error_code: py_str(&rec.error_code)?,
        model_id,
        tokens,
        body,
        attribution: attribution(rec.metadata.as_ref(), cfg)?,
    })
}

/// bedrock._fill_attribution's requestMetadata part: per field, the earliest-ranked key
/// present with text.
fn attribution<'b>(metadata: Option<&'b Metadata>, cfg: &Config) -> Result<Vec<Option<&'b str>>, Defer> {
    let mut best: Vec<(usize, Option<&str>)> = vec![(usize::MAX, None); cfg.fields.len()];
    for ((field, rank), leaf) in metadata.map_or(&[][..], |m| &m.hits[..]) {
        if let Some(text) = py_str(leaf)? {
            if *rank < best[*field].0 {
                best[*field] = (*rank, Some(text));
            }
        }
    }
    Ok(best.into_iter().map(|(_, v)| v).collect())
}

/// bedrock._fill_body without the parts Python applies over columns (stream operations,
/// TTFT dropped when not streamed, OTPS, throttle classes).
fn body_facts<'b>(body: &'b Body) -> Result<BodyFacts<'b>, Defer> {
    let mut facts = BodyFacts::default();
    match body {
        Body::Chunks(chunks) => {
            let metrics = chunks.iter().rev().flatten().find(|c| c.has_invocation_metrics);
            if let Some(m) = metrics.and_then(|c| c.invocation_metrics.as_ref()).filter(|m| m.keys > 0) {
                facts.streamed = true;
                facts.ttlt_ms = py_float(&m.invocation_latency)?;
                facts.ttft_ms = py_float(&m.first_byte_latency)?;
            }
            if facts.ttlt_ms.is_none() {
                facts.ttlt_ms = stream_latency(chunks)?;
            }
            facts.finish_reason = stream_stop(chunks)?;
            facts.error = chunks.iter().flatten().find(|c| c.exceptions != 0)
                .map(|c| STREAM_EXCEPTIONS[c.exceptions.trailing_zeros() as usize].1);
        }
        Body::Object(part) => {
                facts.ttlt_ms = py_float(part.metrics.as_ref().map_or(&ABSENT, |m| &m.latency_ms))?;
            facts.finish_reason = body_stop(part)?;
            facts.error = body_error(part)?;
        }
        Body::Other => {}
    }
    Ok(facts)
}

fn stream_latency(chunks: &[Option<Box<Part>>]) -> Result<Option<f64>, Defer> {
    for meta in chunks.iter().rev().flatten().filter_map(|c| c.metadata.as_ref()) {
        if meta.has_metrics {
            return py_float(meta.metrics.as_ref().map_or(&ABSENT, |m| &m.latency_ms));
        }
    }
    Ok(None)
}

fn stream_stop<'b>(chunks: &'b [Option<Box<Part>>]) -> Result<Option<&'b str>, Defer> {
    for chunk in chunks.iter().rev().flatten() {
        if let Some(found) = chunk.delta.as_ref().map(|d| py_str(&d.stop_reason)).transpose()?.flatten() {
            return Ok(Some(found));
        }
        if let Some(found) = chunk.message_stop.as_ref().map(|m| py_str(&m.stop_reason)).transpose()?.flatten() {
            return Ok(Some(found));
        }
        if let Some(found) = body_stop(chunk)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn body_stop<'b>(part: &'b Part) -> Result<Option<&'b str>, Defer> {
    for leaf in part.stops.in_order() {
        if let Some(found) = py_str(leaf)? {
            return Ok(Some(found));
        }
    }
    for first in part.lists.iter().flatten() {
        match first {
            Pick::Found(found) => return Ok(Some(found)),
            Pick::Defer => return Err("a number where text is read"),
            Pick::Nothing => {}
        }
    }
    Ok(None)
}

/// bedrock._body_error: an Anthropic error body, else an AWS `__type` / `errorCode`
/// (the part after the last `#`).
fn body_error<'b>(part: &'b Part) -> Result<Option<&'b str>, Defer> {
    if matches!(&part.kind, Leaf::Str(k) if k == "error") {
        let kind = py_str(part.error.as_ref().map_or(&ABSENT, |e| &e.kind))?;
        return Ok(Some(kind.unwrap_or("error")));
    }
    let code = match py_str(&part.aws_type)? {
        Some(code) => Some(code),
        None => py_str(&part.error_code)?,
    };
    Ok(code.map(|c| c.rsplit_once('#').map_or(c, |(_, tail)| tail)))
}

// -- lines → batch ---------------------------------------------------------------------------

/// Python's `bytes.strip()` whitespace: a line of only these is skipped, not an error.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

/// `\uD800`–`\uDFFF` escapes: orjson refuses a lone surrogate that serde_json would skip
/// unread inside an ignored string, so a line holding one is the reference's.
fn has_surrogate_escape(line: &[u8]) -> bool {
    memchr::memmem::find_iter(line, b"\\u").any(|at| matches!(line.get(at + 2), Some(b'd' | b'D')))
}

fn parse_line<'a>(line: &'a [u8], cfg: &Config) -> Result<Record<'a>, Defer> {
    if !(line.is_ascii() || std::str::from_utf8(line).is_ok()) || has_surrogate_escape(line) {
        return Err("not decoded natively");
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let record = obj::<Record>(cfg).deserialize(&mut de).map_err(|_| "not decoded natively")?;
    de.end().map_err(|_| "not decoded natively")?;
    record.ok_or("not a JSON object")
}

pub const STATUS_OK: &str = "ok";
pub const STATUS_DEFERRED: &str = "deferred";
pub const STATUS_BLANK: &str = "blank";
pub const STATUS_TOO_LONG: &str = "too_long";

struct Columns {
    index: UInt32Builder,
    offset: UInt64Builder,
    status: StringBuilder,
    deferred: StringBuilder,
    request_id: StringBuilder,
    ts_ns: Int64Builder,
    text: Vec<StringBuilder>,
    tokens: Vec<Int64Builder>,
    streamed: BooleanBuilder,
    ttlt: Float64Builder,
    ttft: Float64Builder,
    attribution: Vec<StringBuilder>,
}

/// The text columns, in Row order after request_id.
const TEXT: [&str; TEXT_COLUMNS] = ["operation", "region", "inference_region", "account_id", "identity_arn",
                                    "error_code", "model_id", "finish_reason", "body_error"];
const TEXT_COLUMNS: usize = 9;
const TOKENS: [&str; 4] = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"];

/// The batch's schema: fixed columns, then one text column per attribution field.
pub fn schema(cfg: &Config) -> Schema {
    let mut fields = vec![
        Field::new("index", DataType::UInt32, false),
        Field::new("offset", DataType::UInt64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("deferred", DataType::Utf8, true),
        Field::new("request_id", DataType::Utf8, true),
        Field::new("ts_ns", DataType::Int64, true),
    ];
    fields.extend(TEXT.iter().map(|n| Field::new(*n, DataType::Utf8, true)));
    fields.extend(TOKENS.iter().map(|n| Field::new(*n, DataType::Int64, true)));
    fields.push(Field::new("body_streamed", DataType::Boolean, true));
    fields.push(Field::new("ttlt_ms", DataType::Float64, true));
    fields.push(Field::new("ttft_ms", DataType::Float64, true));
    fields.extend(cfg.fields.iter().map(|n| Field::new(n.as_str(), DataType::Utf8, true)));
    Schema::new(fields)
}

impl Columns {
    fn new(cfg: &Config, rows: usize) -> Columns {
        Columns {
            index: UInt32Builder::with_capacity(rows),
            offset: UInt64Builder::with_capacity(rows),
            status: StringBuilder::with_capacity(rows, rows * 2),
            deferred: StringBuilder::new(),
            request_id: StringBuilder::with_capacity(rows, rows * 40),
            ts_ns: Int64Builder::with_capacity(rows),
            text: (0..TEXT_COLUMNS).map(|_| StringBuilder::with_capacity(rows, rows * 16)).collect(),
            tokens: (0..4).map(|_| Int64Builder::with_capacity(rows)).collect(),
            streamed: BooleanBuilder::with_capacity(rows),
            ttlt: Float64Builder::with_capacity(rows),
            ttft: Float64Builder::with_capacity(rows),
            attribution: cfg.fields.iter().map(|_| StringBuilder::with_capacity(rows, rows * 8)).collect(),
        }
    }

    fn push_row(&mut self, row: &Row) {
        self.status.append_value(STATUS_OK);
        self.deferred.append_null();
        self.request_id.append_value(row.request_id);
        self.ts_ns.append_value(row.ts_ns);
        let text = [row.operation, row.region, row.inference_region, row.account_id, row.identity_arn,
                    row.error_code, row.model_id, row.body.finish_reason, row.body.error];
        for (builder, value) in self.text.iter_mut().zip(text) {
            builder.append_option(value);
        }
        for (builder, value) in self.tokens.iter_mut().zip(row.tokens) {
            builder.append_option(value);
        }
        self.streamed.append_value(row.body.streamed);
        self.ttlt.append_option(row.body.ttlt_ms);
        self.ttft.append_option(row.body.ttft_ms);
        for (builder, value) in self.attribution.iter_mut().zip(&row.attribution) {
            builder.append_option(*value);
        }
    }

    fn push_other(&mut self, status: &str, why: Option<&str>) {
        self.status.append_value(status);
        self.deferred.append_option(why);
        self.request_id.append_null();
        self.ts_ns.append_null();
        self.text.iter_mut().for_each(|b| b.append_null());
        self.tokens.iter_mut().for_each(|b| b.append_null());
        self.streamed.append_null();
        self.ttlt.append_null();
        self.ttft.append_null();
        self.attribution.iter_mut().for_each(|b| b.append_null());
    }

    fn finish(mut self, cfg: &Config) -> Result<RecordBatch, ArrowError> {
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(self.index.finish()), Arc::new(self.offset.finish()), Arc::new(self.status.finish()),
            Arc::new(self.deferred.finish()), Arc::new(self.request_id.finish()), Arc::new(self.ts_ns.finish()),
        ];
        arrays.extend(self.text.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        arrays.extend(self.tokens.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        arrays.push(Arc::new(self.streamed.finish()));
        arrays.push(Arc::new(self.ttlt.finish()));
        arrays.push(Arc::new(self.ttft.finish()));
        arrays.extend(self.attribution.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        RecordBatch::try_new(Arc::new(schema(cfg)), arrays)
    }
}

/// The lines of `body` (split after each `\n`; a last line without one counts), one row
/// each: `index` from 0, `offset` its first byte, `status` ok / deferred / blank /
/// too_long (longer than `max_line_bytes`, newline included, as the reference's reader
/// measures it).
pub fn decode_lines(body: &[u8], cfg: &Config) -> Result<RecordBatch, ArrowError> {
    let estimate = body.len() / 512 + 1;
    let mut cols = Columns::new(cfg, estimate);
    let mut start = 0usize;
    let mut index = 0u32;
    while start < body.len() {
        let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |i| start + i + 1);
        let line = &body[start..end];
        cols.index.append_value(index);
        cols.offset.append_value(start as u64);
        if line.len() > cfg.max_line_bytes {
            cols.push_other(STATUS_TOO_LONG, None);
        } else if is_blank(line) {
            cols.push_other(STATUS_BLANK, None);
        } else {
            match parse_line(line, cfg).and_then(|rec| row(&rec, cfg).map(|r| cols.push_row(&r))) {
                Ok(()) => {}
                Err(why) => cols.push_other(STATUS_DEFERRED, Some(why)),
            }
        }
        index += 1;
        start = end;
    }
    cols.finish(cfg)
}

/// Why a gzip body is not inflated here (the reference's reader then reads it, and words
/// any damage itself).
#[derive(Debug, PartialEq)]
pub enum Inflate {
    TooLarge(usize),
    Damaged(String),
}

impl fmt::Display for Inflate {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Inflate::TooLarge(limit) => write!(f, "decompressed size exceeds {limit} bytes"),
            Inflate::Damaged(why) => write!(f, "unreadable gzip: {why}"),
        }
    }
}

/// Every member of a gzip body, inflated, refusing more than `limit` bytes: the output
/// grows by doubling up to `limit`, never from the header's claims, so a refused body has
/// held at most about one and a half times the bound.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, Inflate> {
    let mut reader = flate2::read::MultiGzDecoder::new(body);
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Inflate::Damaged(e.to_string())),
        };
        if out.len() + n > limit {
            return Err(Inflate::TooLarge(limit));
        }
        if out.capacity() - out.len() < n {
            let want = (out.capacity().max(n) * 2).min(limit).max(out.len() + n);
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, StringArray};

    fn cfg() -> Config {
        Config::new(1_000_000, 1 << 20, &[("tenant".into(), vec!["tenant".into(), "tenant_id".into()])])
    }

    fn text(batch: &RecordBatch, name: &str, row: usize) -> Option<String> {
        let col = batch.column_by_name(name).unwrap().as_any().downcast_ref::<StringArray>().unwrap();
        (!col.is_null(row)).then(|| col.value(row).to_owned())
    }

    #[test]
    fn iso_timestamps_match_python() {
        // datetime.fromisoformat(...) - epoch, in ns, worked out by hand
        assert_eq!(iso_ns(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_ns(b"2026-11-20T10:00:00.5+01:00"), Some(1_795_165_200_500_000_000));
        assert_eq!(iso_ns(b"2024-02-29T00:00:00"), Some(1_709_164_800_000_000_000));
        assert_eq!(iso_ns(b"2023-02-29T00:00:00"), None);
        assert_eq!(iso_ns(b"2026-11-20T10:00:00.1234567Z"), None);
        assert_eq!(iso_ns(b"2026-11-20 10:00:00"), None);
        assert_eq!(iso_ns(b"0001-01-01T00:00:00+01:00"), None); // outside int64 nanoseconds
    }

    #[test]
    fn a_record_becomes_a_row_and_odd_lines_are_deferred() {
        let body = concat!(
            r#"{"requestId":"r1","timestamp":"2026-11-20T10:00:00Z","modelId":"m","requestMetadata":{"tenant_id":"b","tenant":"a"},"#,
            r#""input":{"inputTokenCount":"12"},"output":{"outputTokenCount":3.9,"outputBodyJson":{"stopReason":"end_turn","__type":"x#Throttling"}}}"#, "\n",
            "  \n",
            r#"{"requestId":"r2","timestamp":"2026-11-20T10:00:00Z","region":5}"#, "\n",
            r#"{"requestId":"r3","timestamp":1.5}"#,
        );
        let batch = decode_lines(body.as_bytes(), &cfg()).unwrap();
        assert_eq!(batch.num_rows(), 4);
        assert_eq!(text(&batch, "status", 0).as_deref(), Some("ok"));
        assert_eq!(text(&batch, "tenant", 0).as_deref(), Some("a"));
        assert_eq!(text(&batch, "finish_reason", 0).as_deref(), Some("end_turn"));
        assert_eq!(text(&batch, "body_error", 0).as_deref(), Some("Throttling"));
        assert_eq!(text(&batch, "status", 1).as_deref(), Some("blank"));
        assert_eq!(text(&batch, "status", 2).as_deref(), Some("deferred"));
        assert_eq!(text(&batch, "deferred", 2).as_deref(), Some("a number where text is read"));
        assert_eq!(text(&batch, "status", 3).as_deref(), Some("ok"));
    }

    #[test]
    fn gunzip_is_bounded() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[b'a'; 10_000]).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz, 10_000).unwrap().len(), 10_000);
        assert_eq!(gunzip(&gz, 9_999), Err(Inflate::TooLarge(9_999)));
        assert!(matches!(gunzip(&gz[..gz.len() - 4], 10_000), Err(Inflate::Damaged(_))));
    }
}
