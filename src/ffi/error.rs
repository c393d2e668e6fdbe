//! Error objects: what a failed call hands back, with its status, message and,
//! for HTTP errors, the server's code and message.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::enums::backend_api_status;
use super::guard::{c_string, free, hand_out, obj_mut};
use crate::error::{Error, Status};

/// An error as C sees it: the error and its strings, NUL-terminated.
#[allow(non_camel_case_types)]
pub struct backend_api_error {
    pub error: Error,
    pub message: CString,
    pub server_message: Option<CString>,
}

impl backend_api_error {
    pub fn new(error: Error) -> backend_api_error {
        backend_api_error {
            message: c_string(&error.message),
            server_message: error.server_message.as_deref().map(c_string),
            error,
        }
    }
}

/// Writes `error` to `*err` when `err` is not NULL, and returns its status.
///
/// # Safety
/// `err` is NULL or valid for a write.
pub unsafe fn fail(err: *mut *mut backend_api_error, error: Error) -> backend_api_status {
    let status = error.status.into();
    if !err.is_null() {
        // SAFETY: `err` is not NULL, so valid for a write (this function's contract).
        unsafe { hand_out(err, backend_api_error::new(error)) };
    }
    status
}

/// Runs `f`; its error, or a caught panic, goes to `*err`.
///
/// # Safety
/// `err` is NULL or valid for a write.
pub unsafe fn guard(
    err: *mut *mut backend_api_error,
    f: impl FnOnce() -> Result<Status, Error>,
) -> backend_api_status {
    let error = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(status)) => return status.into(),
        Ok(Err(e)) => e,
        Err(_) => Error::new(Status::Internal, "internal error: a panic was caught"),
    };
    // SAFETY: `err` is NULL or valid for a write (this function's contract).
    unsafe { fail(err, error) }
}

/// Runs a setter on a live object (`what` names it in the NULL error): the one
/// shape of every `*_set_*`/`*_add_*` call.
///
/// # Safety
/// `p` is NULL or points to a live `T` nobody else uses meanwhile; `err` is NULL
/// or valid for a write.
pub unsafe fn update<T>(
    p: *mut T,
    what: &str,
    err: *mut *mut backend_api_error,
    f: impl FnOnce(&mut T) -> Result<(), Error>,
) -> backend_api_status {
    // SAFETY: `err` is as `guard` needs it and `p` as `obj_mut` needs it: this
    // function's contract.
    unsafe {
        guard(err, || {
            f(obj_mut(p, what)?)?;
            Ok(Status::Ok)
        })
    }
}

/// The status of an error (`BACKEND_API_STATUS_INVALID_ARGUMENT` for NULL). Any thread.
///
/// # Safety
/// `err` is NULL or a live error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_status(
    err: *const backend_api_error,
) -> backend_api_status {
    // SAFETY: the caller keeps this function's contract (# Safety above): `err` is NULL or a live
    // error.
    unsafe {
        err.as_ref()
            .map_or(Status::InvalidArgument, |e| e.error.status)
            .into()
    }
}

/// The error's message, NUL-terminated UTF-8; `""` for NULL. Owned by the error:
/// valid until `backend_api_error_free`. Never contains the api key.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `err` is NULL or a live error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_message(err: *const backend_api_error) -> *const c_char {
    // SAFETY: the caller keeps this function's contract (# Safety above): `err` is NULL or a live
    // error.
    unsafe { err.as_ref().map_or(c"".as_ptr(), |e| e.message.as_ptr()) }
}

/// The HTTP status code of a `BACKEND_API_STATUS_HTTP` error; of a `BACKEND_API_STATUS_CONNECT`
/// error, the proxy's status when a proxy refused the connection (407, 502, ...); else 0.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `err` is NULL or a live error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_http_status(err: *const backend_api_error) -> u16 {
    // SAFETY: the caller keeps this function's contract (# Safety above): `err` is NULL or a live
    // error.
    unsafe { err.as_ref().map_or(0, |e| e.error.http_status) }
}

/// The server's own message (`{"error":{"message":...}}`) of an HTTP error, or NULL.
/// Owned by the error: valid until `backend_api_error_free`.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `err` is NULL or a live error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_server_message(
    err: *const backend_api_error,
) -> *const c_char {
    // SAFETY: the caller keeps this function's contract (# Safety above): `err` is NULL or a live
    // error.
    unsafe {
        err.as_ref()
            .and_then(|e| e.server_message.as_ref())
            .map_or(ptr::null(), |m| m.as_ptr())
    }
}

/// Frees an error. NULL is a no-op; must not be called twice. Any thread.
///
/// # Safety
/// `err` is NULL or an error from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_free(err: *mut backend_api_error) {
    // SAFETY: the caller keeps this function's contract (# Safety above): `err` is NULL or an
    // error from this library, not used afterwards.
    unsafe { free(err) }
}
