//! Error objects: what a failed call hands back, with its status, message and,
//! for HTTP errors, the server's code and message.

use super::enums::backend_api_status;
use std::ffi::c_char;
use std::ptr;

use super::guard::{backend_api_error, free};
use crate::error::Status;

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
