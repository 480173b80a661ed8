//! Outcrop's native OTLP trace decoder: `ExportTraceServiceRequest` protobuf and OTLP/JSON
//! bytes → one Arrow record batch, one row per span, handed to Python through the Arrow
//! PyCapsule interface (no copy). It mirrors the pure-Python decoder in
//! `outcrop.collector.decode.otlp`, which stays the reference: whatever this crate does
//! not decide the same way for certain, it hands back to it (`Outcome.deferred`).
//!
//! No GenAI convention lives here: Python names the attribute keys that get typed columns.

pub mod batch;
mod capsule;
pub mod invocation;
mod invocation_py;
pub mod json;
pub mod pb;
pub mod span;
pub mod value;

use arrow_array::RecordBatch;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::capsule::{arrow_batch_methods, schema_capsule};

use crate::batch::Typed;
use crate::span::{Decoded, Failure, Limits};

create_exception!(outcrop_native, MalformedPayload, PyException, "The payload is refused whole; the message says why.");

/// Decodes with fixed limits and typed columns, from any thread (the GIL is released while
/// decoding).
#[pyclass(frozen, module = "outcrop_native")]
struct Decoder {
    limits: Limits,
    typed: Vec<(String, Typed)>,
}

#[pymethods]
impl Decoder {
    #[new]
    #[pyo3(signature = (max_value_bytes, attributes, events, event_attributes, typed = Vec::new()))]
    fn new(max_value_bytes: usize, attributes: usize, events: usize, event_attributes: usize,
           typed: Vec<(String, String)>) -> PyResult<Self> {
        let mut columns = Vec::with_capacity(typed.len());
        for (key, kind) in typed {
            let Some(t) = Typed::parse(&kind) else {
                return Err(PyValueError::new_err(format!(
                    "typed: attribute '{key}' has type '{kind}'; use string, int, float, bool, json or first<US>key<US>…")));
            };
            if columns.iter().any(|(k, _): &(String, Typed)| *k == key) {
                return Err(PyValueError::new_err(format!("typed: attribute '{key}' is named twice")));
            }
            columns.push((key, t));
        }
        let limits = Limits { max_value_bytes, attributes, events, event_attributes };
        Ok(Decoder { limits, typed: columns })
    }

    fn decode_protobuf(&self, py: Python<'_>, body: &[u8]) -> PyResult<Outcome> {
        let limits = self.limits;
        let decoded = py.detach(|| pb::decode(body, &limits));
        self.outcome(py, decoded)
    }

    fn decode_json(&self, py: Python<'_>, body: &[u8]) -> PyResult<Outcome> {
        let limits = self.limits;
        let decoded = py.detach(|| json::decode(body, &limits));
        self.outcome(py, decoded)
    }

    /// The batch's schema for these typed columns, as a PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &batch::schema(&self.typed))
    }
}

impl Decoder {
    fn outcome(&self, py: Python<'_>, decoded: Result<Decoded, Failure>) -> PyResult<Outcome> {
        match decoded {
            Ok(d) => {
                let typed = &self.typed;
                let built = py.detach(|| batch::build(&d.rows, &d.resources, typed));
                let batch = built.map_err(|e| PyValueError::new_err(format!("building the span batch: {e}")))?;
                Ok(Outcome { batch: Some(batch), rejected: d.rejected, errors: d.errors, deferred: None })
            }
            Err(Failure::Bad(message)) => Err(MalformedPayload::new_err(message)),
            Err(Failure::Defer(why)) => {
                Ok(Outcome { batch: None, rejected: 0, errors: Vec::new(), deferred: Some(why.to_owned()) })
            }
        }
    }
}

/// One payload's spans (an Arrow record batch: `pyarrow.record_batch(outcome)`,
/// `polars.DataFrame(outcome)`, DuckDB's `FROM outcome`), the spans rejected alone and
/// why, or why the reference decoder must decide this payload instead.
#[pyclass(frozen, module = "outcrop_native")]
struct Outcome {
    batch: Option<RecordBatch>,
    #[pyo3(get)]
    rejected: u64,
    #[pyo3(get)]
    errors: Vec<String>,
    #[pyo3(get)]
    deferred: Option<String>,
}

arrow_batch_methods!(Outcome, "no batch: this payload is for the reference decoder (see deferred)");

#[pymodule]
fn outcrop_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Decoder>()?;
    m.add_class::<Outcome>()?;
    m.add("MalformedPayload", m.py().get_type::<MalformedPayload>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    invocation_py::register(m)?;
    Ok(())
}

/// One decode allocates and frees many short strings and a few large buffers; mimalloc
/// keeps them off the system allocator's trimming and page faults.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
