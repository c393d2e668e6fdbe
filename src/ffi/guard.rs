//! The habits every C entry point shares: catching panics, reading C strings,
//! and writing out-parameters only on success.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Status};

/// An error as C sees it: the error and its strings, NUL-terminated.
#[allow(non_camel_case_types)]
pub struct backend_api_error {
    pub error: Error,
    pub message: CString,
    pub server_message: Option<CString>,
}

/// A C string of `s`; an interior NUL becomes U+FFFD so nothing is cut short.
pub fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).expect("NULs were replaced")
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
pub unsafe fn fail(err: *mut *mut backend_api_error, error: Error) -> Status {
    let status = error.status;
    if !err.is_null() {
        *err = Box::into_raw(Box::new(backend_api_error::new(error)));
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
) -> Status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => fail(err, e),
        Err(_) => fail(
            err,
            Error::new(Status::Internal, "internal error: a panic was caught"),
        ),
    }
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
) -> Status {
    guard(err, || {
        f(obj_mut(p, what)?)?;
        Ok(Status::Ok)
    })
}

/// Runs `f`, turning a panic into `fallback`. For functions without a status.
pub fn guard_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Borrows a NUL-terminated UTF-8 argument, or says what is wrong with it.
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string that outlives the borrow.
pub unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// Like [`str_arg`], with NULL meaning `None`.
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn opt_str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, what).map(Some)
    }
}

/// Borrows an object argument, or fails on NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T`.
pub unsafe fn obj<'a, T>(p: *const T, what: &str) -> Result<&'a T, Error> {
    p.as_ref()
        .ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// Mutably borrows an object argument, or fails on NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T` nobody else uses meanwhile.
pub unsafe fn obj_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Error> {
    p.as_mut()
        .ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// Checks an out-parameter before any work is done.
pub fn out_arg<T>(p: *mut T, what: &str) -> Result<(), Error> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    Ok(())
}

/// Frees a boxed object handed to C; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from `Box::into_raw` and is not used again.
pub unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        guard_or((), || drop(Box::from_raw(p)));
    }
}
