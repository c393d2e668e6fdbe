//! Log records to a C callback, with the caller's `user_data` kept alive until
//! nothing can call the callback any more (then handed to its destroy function).

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::client::backend_api_client;
use super::enums::{backend_api_log_level, backend_api_status};
use super::error::{backend_api_error, report};
use super::guard::{c_string, change, entry};
use crate::error::Error;
use crate::log::{LogLevel, Logger};

/// A log callback: `user_data` as given, the record's level and its message.
#[allow(non_camel_case_types)]
pub type backend_api_log_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: backend_api_log_level,
        message: *const c_char,
    ),
>;

/// Releases the `user_data` of a log callback.
#[allow(non_camel_case_types)]
pub type backend_api_destroy_callback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The caller's callback and `user_data`, which the caller promised may be used
/// from any thread; `destroy` runs when the last holder (the client, or a stream
/// still finishing after close) lets go.
struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, backend_api_log_level, *const c_char),
    user_data: *mut c_void,
    destroy: backend_api_destroy_callback,
}

// SAFETY: a `Sink` is only the caller's callback, `user_data` and `destroy`, and
// `backend_api_client_set_log` states that the callback runs on the library's
// threads and `destroy` on any thread: by passing them, the caller vouches that
// they may move to another thread.
unsafe impl Send for Sink {}
// SAFETY: the same rules say the callback may run on several threads at once, so
// sharing a `Sink` (calling it from several threads) is what the caller allowed.
unsafe impl Sync for Sink {}

impl Sink {
    fn call(&self, level: LogLevel, message: &str) {
        let text = c_string(message);
        // The copy is made: the record starts now (see `Canceller::unless_cancelled`).
        crate::cancel::record_starts();
        // SAFETY: `callback` is the C function the caller gave (NULL meant logging
        // off and made no `Sink`); `user_data` stays valid until `destroy` runs,
        // which is only when this `Sink` is dropped; `text` outlives the call.
        unsafe {
            (self.callback)(
                self.user_data,
                backend_api_log_level::from(level),
                text.as_ptr(),
            )
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(d) = self.destroy {
            // SAFETY: `destroy` is the caller's function for this `user_data`; each
            // `Sink` is dropped once, after its last callback (every holder let go),
            // so it runs once, when no callback can run any more, as documented.
            unsafe { d(self.user_data) }
        }
    }
}

/// Receives log records: `callback(user_data, level, message)` for each record up
/// to `max_level` (a `backend_api_log_level`). A NULL `callback` turns logging off
/// (`max_level` is then ignored). Without this call, records go to standard error
/// when the environment variable `BACKEND_API_LOG` names a level (`error` ... `trace`).
///
/// The callback's rules:
/// - it runs on the library's own threads (one per stream), possibly several at
///   once: it must be thread-safe;
/// - it must not call into this library, must not unwind (no C++ exception, no
///   Rust panic) and must not `longjmp` out;
/// - `message` is NUL-terminated UTF-8, valid during the call only; it never holds
///   the api key, secret header values or a URL's password;
/// - a stream sends no records once its cancel or close has begun, and close never
///   waits for a callback in progress: a callback may block on a lock the closing
///   thread holds without deadlocking it.
///
/// `destroy` (may be NULL) is called with `user_data` exactly once, on any thread,
/// when no callback can run any more: after the client is freed (or given another
/// logger) and every stream of it has finished, which may be shortly after their
/// close. Until then `user_data` must stay valid. If this call fails, `destroy` is
/// not called and nothing is kept. Not concurrently with other calls on the same
/// client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_log(
    client: *mut backend_api_client,
    callback: backend_api_log_callback,
    user_data: *mut c_void,
    destroy: backend_api_destroy_callback,
    max_level: u32,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            let logger = match callback {
                None => Logger::off(),
                Some(callback) => {
                    let max = backend_api_log_level::from_code(max_level)
                        .ok_or_else(|| Error::invalid(format!("unknown log level {max_level}")))?;
                    let sink = Sink {
                        callback,
                        user_data,
                        destroy,
                    };
                    Logger::starting_itself(
                        Arc::new(move |level, message: &str| sink.call(level, message)),
                        max,
                    )
                }
            };
            c.set_logger(logger);
            Ok(())
        })
    })
}
