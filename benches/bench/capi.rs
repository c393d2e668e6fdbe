//! The C ABI as the bench uses it: a client, opening a stream of the canned
//! server's plan, draining it.

use std::ffi::CString;
use std::ptr;

use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use serde_json::{json, Value};
use support::cabi;

pub fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub struct Client(pub *mut backend_api_client);
// SAFETY: the header's thread rules: a client may be used (opened from) on any thread.
unsafe impl Send for Client {}
// SAFETY: the header's thread rules: streams may be opened from one client on several threads at
// once.
unsafe impl Sync for Client {}

impl Client {
    pub fn new(url: &str) -> Client {
        let mut c = ptr::null_mut();
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        unsafe {
            assert_eq!(
                backend_api_client_new(cs(url).as_ptr(), &mut c, ptr::null_mut()),
                Status::Ok
            );
            backend_api_client_set_proxy(c, ptr::null(), ptr::null_mut());
        }
        Client(c)
    }

    pub fn open(&self, fields: &Value) -> *mut backend_api_stream {
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        unsafe {
            let req = cabi::request("bench", fields.as_object().unwrap());
            let mut s = ptr::null_mut();
            assert_eq!(
                backend_api_open(self.0, req, &mut s, ptr::null_mut()),
                Status::Ok
            );
            backend_api_request_free(req);
            s
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        unsafe { backend_api_client_free(self.0) }
    }
}

/// Drains a stream through `backend_api_next`, freeing each chunk; returns the count.
pub fn drain(s: *mut backend_api_stream, mut each: impl FnMut(*mut backend_api_chunk)) -> usize {
    let mut n = 0;
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        loop {
            let mut c = ptr::null_mut();
            match backend_api_next(s, -1, &mut c, ptr::null_mut()) {
                Status::Ok => {
                    each(c);
                    backend_api_chunk_free(c);
                    n += 1;
                }
                Status::End => break,
                other => panic!("stream ended with {other:?}"),
            }
        }
        backend_api_close(s);
    }
    n
}

pub fn fields(framing: &str, chunks: usize, size: usize) -> Value {
    json!({"bench_framing": framing, "bench_chunks": chunks, "bench_size": size})
}
