//! Span rows → one Arrow record batch (the schema docs/native.md describes).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Int32Array, RecordBatch, StringArray, StructArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema};

use crate::span::SpanRow;
use crate::value::{attrs_json, events_json, write_val, Attrs, Val};

/// The Arrow type a typed attribute column takes; a value of another type is null there.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Str,
    Int,
    Float,
    Bool,
    /// The value's JSON text as the attributes column writes it (`null` for a present
    /// empty value); null when the key is absent. Python reads such a column with the
    /// reference's own value rules, so no convention or coercion lives here.
    Json,
    /// `first<US>k1<US>k2…` (US: the unit separator, U+001F): the JSON text of the first
    /// of these keys the span holds with a non-null value; null when it holds none. The
    /// column's name is the name given with it.
    First(Vec<String>),
}

impl Typed {
    pub fn parse(name: &str) -> Option<Typed> {
        match name {
            "string" => Some(Typed::Str),
            "int" => Some(Typed::Int),
            "float" => Some(Typed::Float),
            "bool" => Some(Typed::Bool),
            "json" => Some(Typed::Json),
            _ => {
                let mut parts = name.split('\u{1f}');
                (parts.next() == Some("first")).then(|| Typed::First(parts.map(str::to_owned).collect()))
            }
        }
    }

    fn data_type(&self) -> DataType {
        match self {
            Typed::Str => DataType::Utf8,
            Typed::Int => DataType::Int64,
            Typed::Float => DataType::Float64,
            Typed::Bool => DataType::Boolean,
            Typed::Json | Typed::First(_) => DataType::Utf8,
        }
    }
}

fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

pub fn schema(typed: &[(String, Typed)]) -> Schema {
    let typed_fields: Fields = typed.iter().map(|(k, t)| field(k, t.data_type(), true)).collect();
    Schema::new(vec![
        field("trace_id", DataType::Utf8, false),
        field("span_id", DataType::Utf8, false),
        field("parent_span_id", DataType::Utf8, true),
        field("name", DataType::Utf8, false),
        field("kind", DataType::Utf8, false),
        field("start_ns", DataType::Int64, false),
        field("end_ns", DataType::Int64, false),
        field("status_code", DataType::Utf8, false),
        field("status_message", DataType::Utf8, true),
        field("scope_name", DataType::Utf8, true),
        field("scope_version", DataType::Utf8, true),
        field("resource_index", DataType::Int32, false),
        field("resource_attributes",
              DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), false),
        field("attributes", DataType::Utf8, false),
        field("events", DataType::Utf8, true),
        field("dropped_attributes", DataType::UInt64, false),
        field("dropped_events", DataType::UInt64, false),
        field("typed", DataType::Struct(typed_fields), false),
    ])
}

fn strings<'a>(rows: &'a [SpanRow], f: impl Fn(&'a SpanRow) -> Option<&'a str>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<StringArray>())
}

enum TypedBuilder {
    Str(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder), // json and first: the value's JSON text
}

/// All typed columns in one pass over each span's attributes: each attribute key is
/// looked up once in an index of the keys the columns name, instead of each column
/// looking up its key in every span (a span holds ~15 attributes; the columns name ~100).
fn typed_columns(rows: &[SpanRow], typed: &[(String, Typed)]) -> Vec<ArrayRef> {
    // key -> (column, rank among the column's keys)
    let mut index: HashMap<&str, Vec<(usize, usize)>, foldhash::fast::RandomState> = HashMap::default();
    for (column, (name, kind)) in typed.iter().enumerate() {
        match kind {
            Typed::First(keys) => {
                for (rank, key) in keys.iter().enumerate() {
                    index.entry(key.as_str()).or_default().push((column, rank));
                }
            }
            _ => index.entry(name.as_str()).or_default().push((column, 0)),
        }
    }
    let n = rows.len();
    let mut builders: Vec<TypedBuilder> = typed
        .iter()
        .map(|(_, kind)| match kind {
            Typed::Str => TypedBuilder::Str(StringBuilder::with_capacity(n, n * 8)),
            Typed::Int => TypedBuilder::Int(Int64Builder::with_capacity(n)),
            Typed::Float => TypedBuilder::Float(Float64Builder::with_capacity(n)),
            Typed::Bool => TypedBuilder::Bool(BooleanBuilder::with_capacity(n)),
            Typed::Json | Typed::First(_) => TypedBuilder::Text(StringBuilder::with_capacity(n, n * 4)),
        })
        .collect();
    let mut chosen: Vec<Option<(usize, &Val)>> = vec![None; typed.len()];
    let mut text = String::new();
    for r in rows {
        chosen.fill(None);
        for (key, value) in r.attributes.iter() {
            let Some(targets) = index.get(key.as_str()) else { continue };
            for &(column, rank) in targets {
                match &typed[column].1 {
                    // the first key with a non-null value: the lowest rank present
                    Typed::First(_) => {
                        if !matches!(value, Val::Null) && chosen[column].is_none_or(|(best, _)| rank < best) {
                            chosen[column] = Some((rank, value));
                        }
                    }
                    _ => chosen[column] = Some((0, value)),
                }
            }
        }
        for (builder, picked) in builders.iter_mut().zip(chosen.iter()) {
            let value = picked.map(|(_, v)| v);
            match builder {
                TypedBuilder::Str(b) => match value {
                    Some(Val::Str(s)) => b.append_value(s),
                    _ => b.append_null(),
                },
                TypedBuilder::Int(b) => match value {
                    Some(Val::Int(i)) => b.append_value(*i),
                    _ => b.append_null(),
                },
                TypedBuilder::Float(b) => match value {
                    Some(Val::Float(f)) => b.append_value(*f),
                    Some(Val::Int(i)) => b.append_value(*i as f64),
                    _ => b.append_null(),
                },
                TypedBuilder::Bool(b) => match value {
                    Some(Val::Bool(v)) => b.append_value(*v),
                    _ => b.append_null(),
                },
                TypedBuilder::Text(b) => match value {
                    Some(v) => {
                        text.clear();
                        write_val(&mut text, v);
                        b.append_value(&text);
                    }
                    None => b.append_null(),
                },
            }
        }
    }
    builders
        .into_iter()
        .map(|b| -> ArrayRef {
            match b {
                TypedBuilder::Str(mut b) | TypedBuilder::Text(mut b) => Arc::new(b.finish()),
                TypedBuilder::Int(mut b) => Arc::new(b.finish()),
                TypedBuilder::Float(mut b) => Arc::new(b.finish()),
                TypedBuilder::Bool(mut b) => Arc::new(b.finish()),
            }
        })
        .collect()
}

pub fn build(rows: &[SpanRow], resources: &[Attrs], typed: &[(String, Typed)]) -> Result<RecordBatch, ArrowError> {
    let schema = Arc::new(schema(typed));
    let resource_index = Int32Array::from_iter_values(rows.iter().map(|r| r.resource));
    let resource_text: StringArray = resources.iter().map(|a| Some(attrs_json(a))).collect();
    let resource_attributes = DictionaryArray::<Int32Type>::try_new(resource_index.clone(), Arc::new(resource_text))?;
    let typed_arrays = typed_columns(rows, typed);
    let typed_fields: Fields = typed.iter().map(|(k, t)| field(k, t.data_type(), true)).collect();
    let typed_struct = if typed.is_empty() {
        StructArray::new_empty_fields(rows.len(), None)
    } else {
        StructArray::try_new(typed_fields, typed_arrays, None)?
    };
    let columns: Vec<ArrayRef> = vec![
        strings(rows, |r| Some(r.trace_id.as_str())),
        strings(rows, |r| Some(r.span_id.as_str())),
        strings(rows, |r| r.parent_span_id.as_deref()),
        strings(rows, |r| Some(r.name.as_str())),
        strings(rows, |r| Some(r.kind)),
        Arc::new(rows.iter().map(|r| r.start_ns).collect::<arrow_array::Int64Array>()),
        Arc::new(rows.iter().map(|r| r.end_ns).collect::<arrow_array::Int64Array>()),
        strings(rows, |r| Some(r.status_code)),
        strings(rows, |r| r.status_message.as_deref()),
        strings(rows, |r| r.scope_name.as_deref()),
        strings(rows, |r| r.scope_version.as_deref()),
        Arc::new(resource_index),
        Arc::new(resource_attributes),
        Arc::new(rows.iter().map(|r| Some(attrs_json(&r.attributes))).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| (!r.events.is_empty()).then(|| events_json(&r.events))).collect::<StringArray>()),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.dropped_attributes))),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.dropped_events))),
        Arc::new(typed_struct),
    ];
    RecordBatch::try_new(schema, columns)
}
