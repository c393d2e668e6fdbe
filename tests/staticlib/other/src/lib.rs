//! Exports one C function that uses Rust's standard library (allocation, formatting,
//! panics caught at the boundary), so the archive carries the Rust runtime.

use std::ffi::{c_char, CStr};

/// Length in bytes of "<name>, from another Rust library", or -1 on a NULL or a panic.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn other_rust_greeting_len(name: *const c_char) -> i64 {
    if name.is_null() {
        return -1;
    }
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned();
    std::panic::catch_unwind(|| format!("{name}, from another Rust library").len() as i64)
        .unwrap_or(-1)
}
