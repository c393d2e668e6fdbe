//! What every exported function shares: its entry (`entry!`, which catches
//! panics and gives the status or the default) and the raw steps (borrowing a
//! handle, reading a C string or buffer, writing an out-parameter, handing out
//! and freeing an object). The error object and how a failure reaches it are in
//! `error`.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Status};

/// A C string of `s`; an interior NUL becomes U+FFFD so nothing is cut short.
pub(super) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).expect("NULs were replaced")
}

/// Runs `f`, turning a panic into `fallback`: the `or` form of [`entry!`].
pub(super) fn guard_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Checks an out-parameter before any work is done.
pub(super) fn out_arg<T>(p: *mut T, what: &str) -> Result<(), Error> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    Ok(())
}

/// The entry of an exported function, in the manner of hyper's `ffi_fn!` and
/// rustls-ffi's `ffi_panic_boundary!`: runs the body with panics caught, so that
/// none crosses into C. `entry!(reports err, { ... })` is for a function with an
/// `err` out-parameter: the body gives `Result<Status, Error>`, and an error or a
/// caught panic (as `INTERNAL`) becomes a new error object in `*err` and the
/// returned status. `entry!(or DEFAULT, { ... })` is for every other function: a
/// caught panic returns `DEFAULT` (NULL, 0, `""`, a status). `#[unsafe(no_mangle)]`
/// stays on the function itself: cbindgen reads the source unexpanded. The
/// `reports` form calls `report`, which its caller imports from `error` (the
/// error object's module): this module stays below it, free of the error object.
macro_rules! entry {
    (reports $err:expr, $body:block) => {
        report($err, move || $body)
    };
    (or $default:expr, $body:block) => {
        $crate::ffi::guard::guard_or($default, move || $body)
    };
}
pub(super) use entry;

// The helpers below are where pointers from C are read or written (the other
// two places, the versioned stats struct in `stream` and the log callback in
// `log`, give their reasons where they are). Each trusts its argument as far as the C contract goes (stated once, at
// the top of include/backend_api.h: a non-NULL handle is a live object of its type
// from this library, not freed while the call runs; a non-NULL string is
// NUL-terminated and unchanged during the call; a non-NULL out-parameter is
// writable; a handle given to its `*_free` is not used again; an object's setters
// never run while another thread uses it). They are private to the C boundary and
// only ever get the arguments of an exported function, so that promise is the one
// they lean on; NULL is always checked here, never assumed away.

/// Borrows a handle argument for the call, or fails on NULL.
pub(super) fn borrow<'a, T>(p: *const T, what: &str) -> Result<&'a T, Error> {
    // SAFETY: `as_ref` maps NULL to `None`; a non-NULL handle argument is a live `T`
    // that C does not free while the call runs (the C contract), and the borrow is
    // used only within the call.
    unsafe { p.as_ref() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// Borrows a handle argument that may be NULL (then `None`).
pub(super) fn opt_borrow<'a, T>(p: *const T) -> Option<&'a T> {
    borrow(p, "").ok()
}

/// Borrows a handle argument mutably for a setter's call, or fails on NULL.
pub(super) fn borrow_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Error> {
    // SAFETY: as in `borrow`, a non-NULL handle is a live `T` for the call; the C
    // contract forbids another thread to use the object while one of its setters
    // runs, so this is the only reference to it meanwhile.
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// Borrows a NUL-terminated UTF-8 string argument for the call, or says what is
/// wrong with it.
pub(super) fn text_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: `p` is not NULL (checked above), and a non-NULL string argument is
    // NUL-terminated and unchanged until the call returns (the C contract); the
    // borrow is used only within the call.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// Like [`text_arg`], with NULL meaning `None`.
pub(super) fn opt_text_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    text_arg(p, what).map(Some)
}

/// Borrows `len` bytes at `p` for the call, or fails on NULL (an empty buffer may
/// be NULL).
pub(super) fn bytes_arg<'a>(p: *const u8, len: usize, what: &str) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: `p` is not NULL (checked above), and a non-NULL buffer argument with
    // its length is readable for that many bytes and unchanged until the call
    // returns (the C contract); the borrow is used only within the call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Writes an out-parameter when it is not NULL (optional ones, such as `len_out`,
/// may be; required ones were checked with [`out_arg`] before any work).
pub(super) fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: `out` is not NULL (checked above), and a non-NULL out-parameter is
        // valid for a write of its type (the C contract); `write` drops nothing of
        // what it held, which C owns.
        unsafe { out.write(value) }
    }
}

/// Hands a new object to C through an out-parameter, boxed: its `*_free` (or
/// `backend_api_close`) gives it back to [`release`] once. Every object the C API
/// creates reaches C through here or [`give_raw`].
pub(super) fn give<T>(out: *mut *mut T, value: T) {
    if !out.is_null() {
        put(out, give_raw(value));
    }
}

/// A new object for C as the return value of a `*_new`, boxed as [`give`] does.
pub(super) fn give_raw<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Hands a new NUL-terminated string to C through `out` (freed with
/// `backend_api_string_free`, which gives it to [`release_string`]), and its
/// length in bytes through `len_out` when that is not NULL.
pub(super) fn give_text(out: *mut *const c_char, len_out: *mut usize, text: &str) {
    if !out.is_null() {
        let text = c_string(text);
        put(len_out, text.as_bytes().len());
        put(out, text.into_raw().cast_const());
    }
}

/// Hands bytes to C through `data_out` (NULL for none; freed with
/// `backend_api_bytes_free`, which gives them to [`release_bytes`] with the same
/// length), and their length through `len_out`.
pub(super) fn give_bytes(data_out: *mut *mut u8, len_out: *mut usize, bytes: Vec<u8>) {
    put(len_out, bytes.len());
    let data = if bytes.is_empty() {
        std::ptr::null_mut()
    } else {
        Box::into_raw(bytes.into_boxed_slice()).cast::<u8>()
    };
    put(data_out, data);
}

/// Frees bytes handed to C by [`give_bytes`]; NULL is a no-op.
pub(super) fn release_bytes(data: *mut u8, len: usize) {
    if !data.is_null() {
        // SAFETY: `data` is not NULL, and bytes given to `backend_api_bytes_free`
        // came from `give_bytes` (a boxed slice) with this `len`, and are not used
        // again (the C contract): the slice is rebuilt and dropped once.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
    }
}

/// Frees a boxed object handed to C by [`give`]; NULL is a no-op.
pub(super) fn release<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: `p` is not NULL, and a handle given to its `*_free` came from
        // `give` (`Box::into_raw`) and is not used again (the C contract): the box
        // is rebuilt and dropped once.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Frees a string handed to C by [`give_text`]; NULL is a no-op.
pub(super) fn release_string(p: *const c_char) {
    if !p.is_null() {
        // SAFETY: `p` is not NULL, and a string given to `backend_api_string_free`
        // came from `give_text` (`CString::into_raw`) and is not used again (the C
        // contract): it is rebuilt and dropped once.
        drop(unsafe { CString::from_raw(p.cast_mut()) });
    }
}

/// Writes `text` and a NUL into the caller's buffer of `len` bytes, cut to fit on a
/// character boundary (the truncated text stays valid UTF-8); returns whether all
/// of it fit. Nothing is written for a NULL buffer or `len` 0.
pub(super) fn fill(buf: *mut c_char, len: usize, text: &str) -> bool {
    if buf.is_null() || len == 0 {
        return false;
    }
    let mut n = text.len().min(len - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: `buf` is not NULL (checked above), and a non-NULL buffer argument is
    // writable for its `len` bytes (the C contract): `n + 1 <= len` bytes are
    // written, from a string that cannot overlap C's buffer.
    let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    out[n] = 0;
    n == text.len()
}

/// The one shape of every `*_set_*`/`*_add_*` call: borrows the object mutably
/// (`what` names it in the NULL error) and runs the setter on it.
pub(super) fn change<T>(
    p: *mut T,
    what: &str,
    f: impl FnOnce(&mut T) -> Result<(), Error>,
) -> Result<Status, Error> {
    f(borrow_mut(p, what)?)?;
    Ok(Status::Ok)
}
