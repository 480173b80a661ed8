//! The Arrow PyCapsule interface for a record batch: what both decoders' outcomes hand
//! to pyarrow, polars and DuckDB without a copy.

use arrow_array::ffi::to_ffi;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, RecordBatch, RecordBatchIterator, StructArray};
use arrow_schema::ffi::FFI_ArrowSchema;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

pub fn schema_capsule<'py>(py: Python<'py>, schema: &arrow_schema::Schema) -> PyResult<Bound<'py, PyCapsule>> {
    let ffi = FFI_ArrowSchema::try_from(schema).map_err(|e| PyValueError::new_err(e.to_string()))?;
    PyCapsule::new_with_value(py, ffi, c"arrow_schema")
}

/// `__arrow_c_array__`: the batch as a struct array. A requested schema is not honoured,
/// which the protocol allows: the consumer casts if it must.
pub fn array_capsules<'py>(py: Python<'py>, batch: &RecordBatch)
                           -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
    let data = StructArray::from(batch.clone()).into_data();
    let (array, schema) = to_ffi(&data).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((PyCapsule::new_with_value(py, schema, c"arrow_schema")?,
        PyCapsule::new_with_value(py, array, c"arrow_array")?))
}

/// `__arrow_c_stream__`: a stream of the one batch.
pub fn stream_capsule<'py>(py: Python<'py>, batch: &RecordBatch) -> PyResult<Bound<'py, PyCapsule>> {
    let schema = batch.schema();
    let reader = RecordBatchIterator::new(vec![Ok(batch.clone())], schema);
    PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(Box::new(reader)), c"arrow_array_stream")
}

/// The Python side of a class holding `batch: Option<RecordBatch>`: `num_rows`, `len()` and
/// the three PyCapsule methods; `$missing` is the error when it holds no batch (a payload
/// deferred to the reference).
macro_rules! arrow_batch_methods {
    ($class:ident, $missing:expr) => {
        impl $class {
            fn batch(&self) -> PyResult<&RecordBatch> {
                self.batch.as_ref().ok_or_else(|| PyValueError::new_err($missing))
            }
        }

        #[pymethods]
        impl $class {
            #[getter]
            fn num_rows(&self) -> usize {
                self.batch.as_ref().map_or(0, |b| b.num_rows())
            }

            fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
                $crate::capsule::schema_capsule(py, self.batch()?.schema().as_ref())
            }

            #[pyo3(signature = (requested_schema = None))]
            fn __arrow_c_array__<'py>(&self, py: Python<'py>, requested_schema: Option<Py<PyAny>>)
                                      -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
                let _ = requested_schema;
                $crate::capsule::array_capsules(py, self.batch()?)
            }

            #[pyo3(signature = (requested_schema = None))]
            fn __arrow_c_stream__<'py>(&self, py: Python<'py>, requested_schema: Option<Py<PyAny>>)
                                       -> PyResult<Bound<'py, PyCapsule>> {
                let _ = requested_schema;
                $crate::capsule::stream_capsule(py, self.batch()?)
            }

            fn __len__(&self) -> usize {
                self.num_rows()
            }
        }
    };
}

pub(crate) use arrow_batch_methods;
