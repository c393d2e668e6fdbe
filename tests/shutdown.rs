//! `backend_api_shutdown` through the C ABI: it cancels what is left and joins every
//! thread of the library, so that after it returns no log callback and no log sink
//! `destroy` runs, and the idle connections clients kept are closed. A binary of its
//! own: the call acts on the whole process.

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backend_api::ffi::*;
use backend_api::Status;
use support::cabi::{client_new, request};

static RECORDS: AtomicUsize = AtomicUsize::new(0);
static DESTROYED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn sink(_: *mut c_void, _: backend_api_log_level, _: *const c_char) {
    RECORDS.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn destroy(_: *mut c_void) {
    DESTROYED.fetch_add(1, Ordering::SeqCst);
}

/// The library's threads (named `backend-api...`) that can still run: those listed
/// in /proc that are not exiting. The kernel marks a thread exiting (PF_EXITING in
/// the flags of its `stat`) as it enters its exit, before it wakes a joiner and
/// before it leaves the list; so a thread just joined may still be listed, but
/// marked. A task gone meanwhile is not counted.
fn library_threads() -> usize {
    const PF_EXITING: u64 = 0x4;
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|t| {
            let stat = t.as_ref().unwrap().path().join("stat");
            std::fs::read_to_string(stat).is_ok_and(|s| {
                // "tid (name) state ppid pgrp session tty_nr tpgid flags ..."
                let (name, rest) = s.rsplit_once(')').unwrap();
                let flags: u64 = rest.split_whitespace().nth(6).unwrap().parse().unwrap();
                name.contains("(backend-api") && flags & PF_EXITING == 0
            })
        })
        .count()
}

#[test]
fn shutdown_cancels_what_is_left_and_joins_every_thread() {
    // A server that accepts and never answers: streams and a listing wait on it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    assert_eq!(library_threads(), 0);
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
    // each call and out-parameters on this stack; the listing's thread uses the client until
    // it is joined, before the client is freed.
    unsafe {
        let client = client_new(&url).unwrap();
        backend_api_client_set_proxy(client, ptr::null(), ptr::null_mut());
        assert_eq!(
            backend_api_client_set_log(
                client,
                Some(sink),
                ptr::null_mut(),
                Some(destroy),
                backend_api_log_level::Info as u32,
                ptr::null_mut(),
            ),
            Status::Ok
        );
        let req = request("test-model", []);
        let mut streams = Vec::new();
        for _ in 0..6 {
            let mut s = ptr::null_mut();
            assert_eq!(
                backend_api_open(client, req, &mut s, ptr::null_mut()),
                Status::Ok
            );
            streams.push(s);
        }
        // A listing in flight on a thread of the program's own.
        let listing_client = client as usize;
        let listing = std::thread::spawn(move || {
            let (mut json, mut err) = (ptr::null(), ptr::null_mut());
            let st = backend_api_models(
                listing_client as *const _,
                ptr::null(),
                ptr::null(),
                &mut json,
                ptr::null_mut(),
                &mut err,
            );
            backend_api_error_free(err);
            backend_api_string_free(json);
            st
        });
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(library_threads(), 6, "a thread a stream, all waiting");
        // Half the streams closed, half left open; the listing still waits.
        for s in streams.drain(..3) {
            backend_api_close(s);
        }
        let t0 = Instant::now();
        let st = backend_api_shutdown(5000);
        let took = t0.elapsed();
        let running = library_threads();
        let records = RECORDS.load(Ordering::SeqCst);
        println!(
            "shutdown: {st:?} after {:.2} ms; library threads still running {running}; {records} records",
            took.as_secs_f64() * 1e3,
        );
        assert_eq!(st, Status::Ok);
        assert_eq!(running, 0, "a thread of the library still runs");
        // The listing's thread is the program's: it returned CANCELLED.
        assert_eq!(listing.join().unwrap(), Status::Cancelled);
        // Streams left open end CANCELLED; their handles stay valid.
        for &s in &streams {
            let mut ch = ptr::null_mut();
            assert_eq!(
                backend_api_next(s, 0, &mut ch, ptr::null_mut()),
                Status::Cancelled
            );
        }
        // Nothing of the library runs any more: no record, and the sink (whose
        // last holders were the streams' threads and the client) is released
        // once the client is freed, on this thread.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(RECORDS.load(Ordering::SeqCst), records);
        assert_eq!(DESTROYED.load(Ordering::SeqCst), 0);
        backend_api_client_free(client);
        assert_eq!(DESTROYED.load(Ordering::SeqCst), 1);
        for s in streams {
            backend_api_close(s);
        }
        backend_api_request_free(req);
        // Nothing left: at once; and the library works again afterwards.
        assert_eq!(backend_api_shutdown(0), Status::Ok);
        let c = client_new(&support::BACKEND.url).unwrap();
        backend_api_client_set_proxy(c, ptr::null(), ptr::null_mut());
        let r = request("test-model", []);
        let mut s = ptr::null_mut();
        assert_eq!(backend_api_open(c, r, &mut s, ptr::null_mut()), Status::Ok);
        let mut got = backend_api_status::Again;
        let mut chunks = 0;
        while got == Status::Again || got == Status::Ok {
            let mut ch = ptr::null_mut();
            got = backend_api_next(s, 20_000, &mut ch, ptr::null_mut());
            if got == Status::Ok {
                chunks += 1;
                backend_api_chunk_free(ch);
            }
        }
        assert_eq!(got, Status::End);
        assert!(chunks > 0);
        backend_api_close(s);
        backend_api_request_free(r);
        backend_api_client_free(c);
    }
    shutdown_and_freeing_the_client_close_its_idle_connections();
}

/// Part of the one test above (the binary's tests would count each other's
/// threads): shutdown closes the idle connections a client kept, as freeing it does.
fn shutdown_and_freeing_the_client_close_its_idle_connections() {
    use support::keepalive::{start, stream_once, Reply};
    let server = start(false, None, |_| Reply::Answer);
    let mut client = backend_api::Client::new(&server.url).unwrap();
    client.set_proxy(None).unwrap();
    stream_once(&client);
    assert!(stream_once(&client).1, "kept");
    assert!(backend_api::threads::shutdown(None));
    assert!(server.wait_closed(1), "shutdown closes the idle connection");
    // The client works afterwards, on connections of its own again.
    assert_eq!(stream_once(&client), ("ab".to_owned(), false));
    assert!(stream_once(&client).1);
    assert_eq!(server.connections(), 2);
    drop(client);
    assert!(
        server.wait_closed(2),
        "freeing the client closes its idle connection"
    );
}
