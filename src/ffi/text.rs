//! Strings: freeing the ones the library hands out (`backend_api_string_free`),
//! and the text helper every C program of the library needs for its own
//! messages (URL redaction), so that it applies the library's rules rather than
//! a copy of them.

use super::enums::backend_api_status;
use std::ffi::c_char;

use super::guard::{entry, fill, put, release_string, text_arg};
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
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_redact_url(
    url: *const c_char,
    buf: *mut c_char,
    len: usize,
    needed_out: *mut usize,
) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        if buf.is_null() || len == 0 {
            return backend_api_status::InvalidArgument;
        }
        let Ok(url) = text_arg(url, "url") else {
            return backend_api_status::InvalidArgument;
        };
        let shown = redact_url(url);
        put(needed_out, shown.len() + 1);
        if fill(buf, len, &shown) {
            backend_api_status::Ok
        } else {
            backend_api_status::Limit
        }
    })
}

/// Frees a string this library handed out. NULL is a no-op; must not be called
/// twice. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_string_free(s: *const c_char) {
    entry!(or(), { release_string(s) })
}
