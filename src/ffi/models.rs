//! The model listing, and the strings this library hands out.

use super::enums::backend_api_status;
use std::ffi::{c_char, CString};

use super::cancel::backend_api_canceller;
use super::client::backend_api_client;
use super::guard::{backend_api_error, guard, guard_or, hand_out_text, obj, opt_str_arg, out_arg};
use crate::error::Status;

/// Fetches the model listing: `GET /backend-api/v2/models` (an object mapping
/// provider names to model names) or, with a `provider`, `/backend-api/v2/models/<provider>`
/// (a list of model objects). Blocks the calling thread, bounded by the client's
/// timeouts (CONNECT, HEADERS, then IDLE for the whole body, and TOTAL when set).
/// `canceller` (may be NULL; see `backend_api_canceller_new`) lets another thread
/// end the wait at once with `CANCELLED`.
///
/// On success `*json_out` owns the NUL-terminated JSON text (free it with
/// `backend_api_string_free`) and `*len_out`, when not NULL, gets its length.
/// Any thread, also concurrently on one client.
///
/// # Safety
/// Pointers are NULL or valid; `provider` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_models(
    client: *const backend_api_client,
    provider: *const c_char,
    canceller: *const backend_api_canceller,
    json_out: *mut *const c_char,
    len_out: *mut usize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    // SAFETY: the caller keeps this function's contract (# Safety above): pointers are NULL or
    // valid; `provider` NULL or NUL-terminated.
    unsafe {
        guard(err, || {
            out_arg(json_out, "json_out")?;
            let text = crate::models::models(
                &obj(client, "client")?.0,
                opt_str_arg(provider, "provider")?,
                canceller.as_ref().map(backend_api_canceller::get),
            )?;
            hand_out_text(json_out, len_out, &text);
            Ok(Status::Ok)
        })
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
