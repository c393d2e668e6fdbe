//! Typed look-ups in a chunk by JSON Pointer (RFC 6901, see [`crate::pointer`]):
//! `/usage/prompt_tokens`, `/provider/name`, `/choices/0/delta`, so that a C
//! program reads nested fields without a JSON parser of its own.
//!
//! Every function returns `OK` and writes its out-parameter, or leaves it alone
//! and returns `NOT_FOUND` (nothing at the pointer), `WRONG_TYPE` (a value of
//! another type is there; `backend_api_chunk_get_type` says which), or
//! `INVALID_ARGUMENT` (a NULL argument, a pointer that is not UTF-8 or not a JSON
//! Pointer: neither empty nor starting with `/`, or a `~` not followed by 0 or 1).
//! No error object is made: these are cheap and the status says it all.
//! Any thread; the chunk must stay alive (not freed) meanwhile.

use std::borrow::Cow;
use std::ffi::c_char;

use serde_json::Value;

use super::chunk::{backend_api_chunk, Ask};
use super::enums::{backend_api_json_type, backend_api_status};
use super::guard::{borrow, entry, out_arg, put, text_arg};
use crate::error::{Error, Status};
use crate::pointer::{resolve, JsonType};

/// Runs `read` on the value at `pointer` in `chunk`; turns every failure into its
/// status.
fn at_pointer(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    read: impl FnOnce(&backend_api_chunk, &str, &Value) -> Status,
) -> backend_api_status {
    let found = || -> Result<Status, Error> {
        let c = borrow(chunk, "chunk")?;
        let pointer = text_arg(pointer, "pointer")?;
        // The chunk's text was checked as a JSON object when it arrived.
        let doc: Value = serde_json::from_str(c.chunk().json())
            .map_err(|e| Error::new(Status::Internal, e.to_string()))?;
        Ok(match resolve(&doc, pointer) {
            Ok(Some(v)) => read(c, pointer, v),
            Ok(None) => Status::NotFound,
            Err(_) => Status::InvalidArgument,
        })
    };
    found().unwrap_or_else(|e| e.status).into()
}

/// The type of the value at `pointer` (`""` is the whole chunk, an object) into
/// `*type_out`. Returns `OK`, `NOT_FOUND` or `INVALID_ARGUMENT`.
///
/// Any thread; the chunk stays alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_get_type(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    type_out: *mut backend_api_json_type,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if out_arg(type_out, "type_out").is_err() {
            return backend_api_status::InvalidArgument;
        }
        at_pointer(chunk, pointer, |_, _, v| {
            put(type_out, JsonType::of(v).into());
            Status::Ok
        })
    })
}

/// The string at `pointer`, unescaped, NUL-terminated UTF-8, into `*value_out`
/// (and its length in bytes into `*len_out` when not NULL: a `\u0000` inside the
/// string shows there). Owned by the chunk: valid until `backend_api_chunk_free`;
/// asking again for the same pointer lends the same string (no new copy).
/// `WRONG_TYPE` for a value that is not a string (`null` included).
///
/// Any thread; the chunk stays alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_get_string(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    value_out: *mut *const c_char,
    len_out: *mut usize,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if out_arg(value_out, "value_out").is_err() {
            return backend_api_status::InvalidArgument;
        }
        at_pointer(chunk, pointer, |c, pointer, v| {
            let Value::String(s) = v else {
                return Status::WrongType;
            };
            let Some((p, n)) = c.lend(Ask::Pointer(pointer), || Some(Cow::Owned(s.clone()))) else {
                return Status::Internal;
            };
            put(value_out, p);
            put(len_out, n);
            Status::Ok
        })
    })
}

/// The integer at `pointer` into `*value_out`. `WRONG_TYPE` for anything but a
/// JSON number written without a fraction or exponent that fits in 64 signed
/// bits (`3.0`, `1e3` and 2^63 are `WRONG_TYPE`: read them with
/// `backend_api_chunk_get_number`).
///
/// Any thread; the chunk stays alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_get_int64(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    value_out: *mut i64,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if out_arg(value_out, "value_out").is_err() {
            return backend_api_status::InvalidArgument;
        }
        at_pointer(chunk, pointer, |_, _, v| match v.as_i64() {
            Some(n) => {
                put(value_out, n);
                Status::Ok
            }
            None => Status::WrongType,
        })
    })
}

/// The number at `pointer`, as the nearest double, into `*value_out`.
/// `WRONG_TYPE` for a value that is not a JSON number.
///
/// Any thread; the chunk stays alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_get_number(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    value_out: *mut f64,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if out_arg(value_out, "value_out").is_err() {
            return backend_api_status::InvalidArgument;
        }
        at_pointer(chunk, pointer, |_, _, v| match v.as_f64() {
            Some(n) => {
                put(value_out, n);
                Status::Ok
            }
            None => Status::WrongType,
        })
    })
}

/// The boolean at `pointer` into `*value_out`. `WRONG_TYPE` for anything but
/// `true` or `false` (`0`, `"true"` and `null` included).
///
/// Any thread; the chunk stays alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_get_bool(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    value_out: *mut bool,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if out_arg(value_out, "value_out").is_err() {
            return backend_api_status::InvalidArgument;
        }
        at_pointer(chunk, pointer, |_, _, v| match v.as_bool() {
            Some(b) => {
                put(value_out, b);
                Status::Ok
            }
            None => Status::WrongType,
        })
    })
}

/// How many elements the array, or members the object, at `pointer` holds, into
/// `*count_out`: with `backend_api_chunk_get_key` and indices (`/list/0`, ...)
/// it walks any value. `WRONG_TYPE` for a value that is neither.
///
/// Any thread; the chunk stays alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_get_count(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    count_out: *mut usize,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if out_arg(count_out, "count_out").is_err() {
            return backend_api_status::InvalidArgument;
        }
        at_pointer(chunk, pointer, |_, _, v| match v {
            Value::Array(list) => {
                put(count_out, list.len());
                Status::Ok
            }
            Value::Object(map) => {
                put(count_out, map.len());
                Status::Ok
            }
            _ => Status::WrongType,
        })
    })
}

/// The key of member `index` (from 0, in the keys' sorted order) of the object
/// at `pointer`, NUL-terminated UTF-8, into `*key_out` (its length into
/// `*len_out` when not NULL). Escape it (`~` as `~0`, `/` as `~1`) to build a
/// pointer to its value. Owned by the chunk: valid until
/// `backend_api_chunk_free`. `NOT_FOUND` for an index past the last member;
/// `WRONG_TYPE` for a value that is not an object.
///
/// Any thread; the chunk stays alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_get_key(
    chunk: *const backend_api_chunk,
    pointer: *const c_char,
    index: usize,
    key_out: *mut *const c_char,
    len_out: *mut usize,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if out_arg(key_out, "key_out").is_err() {
            return backend_api_status::InvalidArgument;
        }
        at_pointer(chunk, pointer, |c, pointer, v| {
            let Value::Object(map) = v else {
                return Status::WrongType;
            };
            let Some(key) = map.keys().nth(index) else {
                return Status::NotFound;
            };
            let Some((p, n)) = c.lend(Ask::Key(pointer, index), || Some(Cow::Owned(key.clone())))
            else {
                return Status::Internal;
            };
            put(key_out, p);
            put(len_out, n);
            Status::Ok
        })
    })
}
