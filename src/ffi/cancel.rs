//! Cancellers: reference-counted handles that cancel a stream or a model listing
//! from any thread, valid on their own after the stream is closed.

use super::enums::backend_api_status;
use std::ptr;

use super::error::{backend_api_error, report};
use super::guard::{borrow, entry, give, give_raw, out_arg, release};
use super::stream::backend_api_stream;
use crate::cancel::Canceller;
use crate::error::Status;

/// A handle that cancels one stream (see `backend_api_stream_canceller`) or the
/// model listings it is given to (see `backend_api_canceller_new`).
#[allow(non_camel_case_types)]
pub struct backend_api_canceller(Canceller);

/// Creates a canceller for `backend_api_models`: cancelling it makes the listings
/// given it return `CANCELLED` at once. It stays cancelled. Free it with
/// `backend_api_canceller_free`. NULL only when memory runs out. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_canceller_new() -> *mut backend_api_canceller {
    entry!(or ptr::null_mut(), {
        give_raw(backend_api_canceller(Canceller::new()))
    })
}

/// Writes to `*out` a new canceller of `stream`: `backend_api_canceller_cancel` on
/// it equals `backend_api_cancel` on the stream, and stays safe after
/// `backend_api_close` (it then does nothing). This is how another thread cancels
/// a stream that its owner may close at any moment: take the canceller while the
/// stream is open, hand it over, free it when done. On success `*out` owns it
/// (free it with `backend_api_canceller_free`). Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_stream_canceller(
    stream: *const backend_api_stream,
    out: *mut *mut backend_api_canceller,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        let c = borrow(stream, "stream")?.0.canceller();
        give(out, backend_api_canceller(c));
        Ok(Status::Ok)
    })
}

/// Cancels what the canceller belongs to: the connection is shut, a blocked
/// `backend_api_next` or `backend_api_models` returns at once, and the state stays
/// cancelled (a stream that already reached END or an error keeps it). Never waits
/// for the stream's thread. Safe to repeat, from any thread, at any time before
/// `backend_api_canceller_free`, also after the stream was closed. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_canceller_cancel(canceller: *const backend_api_canceller) {
    entry!(or(), {
        if let Ok(c) = borrow(canceller, "canceller") {
            c.0.cancel();
        }
    })
}

/// Frees a canceller (it does not cancel). NULL is a no-op; must not be called
/// twice. Any thread, once no other thread uses this canceller.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_canceller_free(canceller: *mut backend_api_canceller) {
    entry!(or(), { release(canceller) })
}

impl backend_api_canceller {
    pub(crate) fn get(&self) -> &Canceller {
        &self.0
    }
}
