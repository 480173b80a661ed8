//! The Python face of `invocation`: `InvocationDecoder(max_tokens, max_line_bytes,
//! metadata)` with `decode_lines(body)` and `decode_gzip(body, max_decompressed)`, each
//! returning an `InvocationBatch` that Python takes over through the Arrow PyCapsule
//! interface without a copy (`pyarrow.record_batch(batch)`), and `inflate(body,
//! max_decompressed)` for a reader that splits the lines itself.

use arrow_array::RecordBatch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule};

use crate::capsule::{arrow_batch_methods, schema_capsule};

use crate::invocation::{decode_lines, gunzip, schema, Config};

/// Decodes invocation-log lines with a fixed token bound and requestMetadata keys, from
/// any thread (the GIL is released while decoding).
#[pyclass(frozen, module = "outcrop_native")]
struct InvocationDecoder {
    cfg: Config,
}

#[pymethods]
impl InvocationDecoder {
    #[new]
    fn new(max_tokens: i64, max_line_bytes: usize, metadata: Vec<(String, Vec<String>)>) -> PyResult<Self> {
        if !(0..=1i64 << 53).contains(&max_tokens) {
            return Err(PyValueError::new_err(format!("max_tokens {max_tokens} is outside [0, 2**53]")));
        }
        Ok(InvocationDecoder { cfg: Config::new(max_tokens, max_line_bytes, &metadata) })
    }

    /// One row per line of `body` (plain JSON lines).
    fn decode_lines(&self, py: Python<'_>, body: &[u8]) -> PyResult<InvocationBatch> {
        let cfg = &self.cfg;
        let batch = py.detach(|| decode_lines(body, cfg)).map_err(arrow_error)?;
        Ok(InvocationBatch { batch: Some(batch), deferred: None })
    }

    /// One row per line of the gzip `body`, inflated here to at most `max_decompressed`
    /// bytes; a larger or damaged body comes back `deferred`, for the reference's reader.
    fn decode_gzip(&self, py: Python<'_>, body: &[u8], max_decompressed: usize) -> PyResult<InvocationBatch> {
        let cfg = &self.cfg;
        let decoded = py.detach(|| gunzip(body, max_decompressed).map(|plain| decode_lines(&plain, cfg)));
        match decoded {
            Ok(batch) => Ok(InvocationBatch { batch: Some(batch.map_err(arrow_error)?), deferred: None }),
            Err(why) => Ok(InvocationBatch { batch: None, deferred: Some(why.to_string()) }),
        }
    }

    /// The gzip `body` inflated (every member), or None when it would pass
    /// `max_decompressed` bytes or is damaged: the reference's gzip reader then reads it
    /// line by line and words any damage itself.
    fn inflate<'py>(&self, py: Python<'py>, body: &[u8], max_decompressed: usize) -> Option<Bound<'py, PyBytes>> {
        let plain = py.detach(|| gunzip(body, max_decompressed)).ok()?;
        Some(PyBytes::new(py, &plain))
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &schema(&self.cfg))
    }
}

fn arrow_error(e: arrow_schema::ArrowError) -> PyErr {
    PyValueError::new_err(format!("building the invocation batch: {e}"))
}

/// The rows of one body (an Arrow record batch), or why the reference must read it.
#[pyclass(frozen, module = "outcrop_native")]
struct InvocationBatch {
    batch: Option<RecordBatch>,
    #[pyo3(get)]
    deferred: Option<String>,
}

arrow_batch_methods!(InvocationBatch, "no batch: this body is for the reference reader (see deferred)");

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<InvocationDecoder>()?;
    m.add_class::<InvocationBatch>()?;
    Ok(())
}
