//! Strings: freeing the ones the library hands out (`backend_api_string_free`),
//! and the text helper every C program of the library needs for its own
//! messages (URL redaction), so that it applies the library's rules rather than
//! a copy of them.

use super::enums::backend_api_status;
use std::ffi::{c_char, CString};
use std::ptr;

use super::guard::{guard_or, str_arg};
use crate::error::Status;
use crate::secret::redact_url;

/// Writes `url` with its credentials hidden into `buf`, NUL-terminated: the
/// `user:password@` part of the authority becomes `***@`, cut at the LAST `@`
/// before the host (`http://u:p@ss@h/` shows as `http://***@h/`), the rule the
/// library's own messages follow. Returns `OK`; `LIMIT` when `buf` is too small
/// (then `buf` holds as much as fits of the redacted text, still NUL-terminated,
/// so a truncated message never shows the password either); `INVALID_ARGUMENT`
/// when `url` or `buf` is NULL, `len` is 0, or `url` is not UTF-8. `*needed_out`
/// (when not NULL) gets the size the whole result needs, its NUL included.
/// Takes no ownership; any thread.
///
/// # Safety
/// `url` is NULL or NUL-terminated; `buf` NULL or writable for `len` bytes;
/// `needed_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_redact_url(
    url: *const c_char,
    buf: *mut c_char,
    len: usize,
    needed_out: *mut usize,
) -> backend_api_status {
    // SAFETY: the caller keeps this function's contract (# Safety above): `url` is NULL or NUL-
    // terminated; `buf` NULL or writable for `len` bytes; `needed_out` NULL or writable.
    unsafe {
        if buf.is_null() || len == 0 {
            return backend_api_status::InvalidArgument;
        }
        guard_or(Status::Internal, || {
            let Ok(url) = str_arg(url, "url") else {
                return Status::InvalidArgument;
            };
            let shown = redact_url(url);
            if !needed_out.is_null() {
                *needed_out = shown.len() + 1;
            }
            // Cut on a character boundary: the truncated text stays valid UTF-8.
            let mut n = shown.len().min(len - 1);
            while !shown.is_char_boundary(n) {
                n -= 1;
            }
            ptr::copy_nonoverlapping(shown.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
            if n < shown.len() {
                Status::Limit
            } else {
                Status::Ok
            }
        })
        .into()
    }
}

/// Frees a string this library handed out. NULL is a no-op; must not be called
/// twice. Any thread.
///
/// # Safety
/// `s` is NULL or a string from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_string_free(s: *const c_char) {
    // SAFETY: the caller keeps this function's contract (# Safety above): `s` is NULL or a string
    // from this library, not used afterwards.
    unsafe {
        if !s.is_null() {
            guard_or((), || drop(CString::from_raw(s.cast_mut())));
        }
    }
}
