//! The library as a whole: its version (compiled and loaded) and `shutdown`,
//! which waits for every thread of the library to finish.

use std::ffi::c_char;

use super::enums::backend_api_status;
use super::guard::entry;

/// Version macros; a test checks them against Cargo.toml.
pub const BACKEND_API_VERSION_MAJOR: u32 = 0;
pub const BACKEND_API_VERSION_MINOR: u32 = 3;
pub const BACKEND_API_VERSION_PATCH: u32 = 0;
/// The version as one number, `0xMMmmpp` (major, minor, patch), for `#if`
/// comparisons: `#if BACKEND_API_VERSION_NUM >= 0x000200`.
pub const BACKEND_API_VERSION_NUM: u32 = (BACKEND_API_VERSION_MAJOR << 16)
    | (BACKEND_API_VERSION_MINOR << 8)
    | BACKEND_API_VERSION_PATCH;

/// The library version, such as `"0.2.0"`. Static; any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_version() -> *const c_char {
    entry!(or c"".as_ptr(), {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// The version of the library loaded at run time as `0xMMmmpp`: compare it with
/// `BACKEND_API_VERSION_NUM`, the version the program was compiled against. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_version_num() -> u32 {
    entry!(or BACKEND_API_VERSION_NUM, { BACKEND_API_VERSION_NUM })
}

/// Waits for the library to go quiet, the role of `curl_global_cleanup`: cancels
/// every stream and model listing still in flight (their `next` returns
/// `CANCELLED` unless they had ended; the handles stay valid and must still be
/// closed), then waits until every thread of the library (streams, the resolver
/// pool) has finished and been joined, up to `timeout_ms` (negative: for as long as
/// it takes; a name lookup in the system's resolver cannot be interrupted). Returns
/// `OK` when none is left: from then on no log callback and no log sink `destroy`
/// runs on a thread of the library. `TIMED_OUT` when some still run (call again).
///
/// Streams and listings opened while it runs are cancelled at once, and it does
/// not wait for them: threads that keep opening streams cannot hold it.
///
/// Call it before unloading the library (`dlclose`, `FreeLibrary`) and before
/// returning from `main` when a log sink uses objects with static lifetime (a C++
/// logger destroyed at exit). Streams and listings may be started again
/// afterwards. Any thread but a log callback's.
///
/// `fork` (as libcurl and OpenSSL state theirs): a child of `fork` may call
/// `exec` or `_exit` at once, as always. It may also go on using the library: it
/// makes clients and opens streams of its own as a new process would (the
/// resolver pool starts empty in the child, also when a lookup was in flight at
/// the fork). What it inherited from the parent stays the parent's: the child
/// may only close (or free) inherited streams, cancellers and clients, which
/// releases its own copies and never touches the parent's connections; `next` on
/// an inherited stream gets nothing (the stream's thread exists only in the
/// parent). `backend_api_shutdown` in the child returns at once for what it
/// inherited (the parent's threads are not the child's), so an `atexit` shutdown
/// does not hang a child's `exit`. Log callbacks of inherited streams never run
/// in the child. (Windows has no `fork`.)
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_shutdown(timeout_ms: i64) -> backend_api_status {
    entry!(or backend_api_status::Internal, {
        let timeout = u64::try_from(timeout_ms)
            .ok()
            .map(std::time::Duration::from_millis);
        if crate::threads::shutdown(timeout) {
            backend_api_status::Ok
        } else {
            backend_api_status::TimedOut
        }
    })
}
