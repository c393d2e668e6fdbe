//! The raw steps every C entry point shares: borrowing a handle, reading a C
//! string, writing an out-parameter, freeing a handle, catching a panic. The
//! error object and how a failure reaches it are in `error`.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::Error;

/// A C string of `s`; an interior NUL becomes U+FFFD so nothing is cut short.
pub fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).expect("NULs were replaced")
}

/// Hands a new object to C through an out-parameter, boxed: its `*_free` (or
/// `backend_api_close`) gives it back to [`free`] once. Every object the C API
/// creates reaches C through here.
///
/// # Safety
/// `out` is valid for a write (not NULL: checked with [`out_arg`] before any work).
pub unsafe fn hand_out<T>(out: *mut *mut T, value: T) {
    // SAFETY: `out` is valid for a write, as the caller promised; what it held is a
    // plain pointer, so overwriting it drops nothing.
    unsafe { out.write(Box::into_raw(Box::new(value))) }
}

/// Hands a new NUL-terminated string to C through `out` (freed with
/// `backend_api_string_free`), and its length in bytes through `len_out` when that
/// is not NULL.
///
/// # Safety
/// `out` is valid for a write (checked with [`out_arg`] before any work); `len_out`
/// is NULL or valid for a write.
pub unsafe fn hand_out_text(out: *mut *const c_char, len_out: *mut usize, text: &str) {
    let text = c_string(text);
    // SAFETY: both pointers are valid for a write or (`len_out`) NULL, as the caller
    // promised; the string is owned by C from here on.
    unsafe {
        if !len_out.is_null() {
            len_out.write(text.as_bytes().len());
        }
        out.write(text.into_raw());
    }
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
    // SAFETY: not NULL, so a valid NUL-terminated string that outlives the borrow
    // (this function's contract).
    unsafe { CStr::from_ptr(p) }
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
        // SAFETY: this function's contract is `str_arg`'s.
        unsafe { str_arg(p, what) }.map(Some)
    }
}

/// Borrows an object argument, or fails on NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T`.
pub unsafe fn obj<'a, T>(p: *const T, what: &str) -> Result<&'a T, Error> {
    // SAFETY: NULL (then `None`) or a live `T` (this function's contract).
    unsafe { p.as_ref() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// Mutably borrows an object argument, or fails on NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T` nobody else uses meanwhile.
pub unsafe fn obj_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Error> {
    // SAFETY: NULL (then `None`) or a live `T` nobody else uses meanwhile (this
    // function's contract).
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
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
/// `p` is NULL or came from [`hand_out`] (or `Box::into_raw`) and is not used again.
pub unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: `p` came from `Box::into_raw` and is not used again (this
        // function's contract): the box is rebuilt and dropped once.
        guard_or((), || drop(unsafe { Box::from_raw(p) }));
    }
}
