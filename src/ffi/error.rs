//! Error objects: what a failed call hands back, with its status, message and,
//! for HTTP errors, the server's code and message.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::enums::backend_api_status;
use super::guard::{borrow, c_string, entry, give, release};
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

/// Runs `f` of an exported function (through `entry!(reports err, ...)`); its
/// error, or a caught panic, becomes a new error object in `*err` (when `err` is
/// not NULL) and its status is returned.
pub(super) fn report(
    err: *mut *mut backend_api_error,
    f: impl FnOnce() -> Result<Status, Error>,
) -> backend_api_status {
    let error = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(status)) => return status.into(),
        Ok(Err(e)) => e,
        Err(_) => Error::new(Status::Internal, "internal error: a panic was caught"),
    };
    let status = error.status.into();
    give(err, backend_api_error::new(error));
    status
}

/// The status of an error (`BACKEND_API_STATUS_INVALID_ARGUMENT` for NULL). Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_status(
    err: *const backend_api_error,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        borrow(err, "err").map_or(Status::InvalidArgument, |e| e.error.status).into()
    })
}

/// The error's message, NUL-terminated UTF-8; `""` for NULL. Owned by the error:
/// valid until `backend_api_error_free`. Never contains the api key. Safe to print
/// to a terminal: the server's text it quotes is bounded and its control
/// characters escaped (`\x1b`, `\u009b`).
/// Any thread; the object must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_message(err: *const backend_api_error) -> *const c_char {
    entry!(or c"".as_ptr(), {
        borrow(err, "err").map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// The HTTP status code of a `BACKEND_API_STATUS_HTTP` error; of a `BACKEND_API_STATUS_CONNECT`
/// error, the proxy's status when a proxy refused the connection (407, 502, ...); else 0.
/// Any thread; the object must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_http_status(err: *const backend_api_error) -> u16 {
    entry!(or 0, { borrow(err, "err").map_or(0, |e| e.error.http_status) })
}

/// The server's own message (`{"error":{"message":...}}`) of an HTTP error, or NULL:
/// raw and untrusted, as the server sent it (up to 64 KiB; a NUL in it becomes
/// U+FFFD), control characters included: escape it before printing it to a
/// terminal, or print `backend_api_error_message`, which holds it escaped.
/// Owned by the error: valid until `backend_api_error_free`.
/// Any thread; the object must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_server_message(
    err: *const backend_api_error,
) -> *const c_char {
    entry!(or ptr::null(), {
        borrow(err, "err")
            .ok()
            .and_then(|e| e.server_message.as_ref())
            .map_or(ptr::null(), |m| m.as_ptr())
    })
}

/// Frees an error. NULL is a no-op; must not be called twice. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_error_free(err: *mut backend_api_error) {
    entry!(or(), { release(err) })
}
