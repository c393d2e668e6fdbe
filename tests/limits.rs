//! Bounds on what the library reads or keeps, through the C API: media files
//! (size checked before reading, only regular files, at once) and bytes, and the
//! setters of the media and answer limits.

use std::ptr;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use support::cabi::{client_new, cs, take_error};

/// `backend_api_request_add_media_file` on a fresh request: its status and message
/// and how long it took, or `None` when it had not returned after 5 s.
fn add_media_file(path: &std::path::Path) -> Option<(Status, String, Duration)> {
    let path = path.to_str().unwrap().to_owned();
    let (tx, rx) = channel();
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    std::thread::spawn(move || unsafe {
        let req = backend_api_request_new();
        let mut err = ptr::null_mut();
        let start = Instant::now();
        let s = backend_api_request_add_media_file(req, cs(&path).as_ptr(), &mut err);
        let took = start.elapsed();
        let m = if s == Status::Ok {
            String::new()
        } else {
            take_error(err).1
        };
        backend_api_request_free(req);
        let _ = tx.send((s, m, took));
    });
    rx.recv_timeout(Duration::from_secs(5)).ok()
}

/// The peak resident memory of this process, in MiB (Linux).
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    Some(
        kb.trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()?
            / 1024,
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("backend-api-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_at_once() {
    let fifo = scratch("pipe.png");
    let c = cs(fifo.to_str().unwrap());
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let got = add_media_file(&fifo);
    let _ = std::fs::remove_file(&fifo);
    eprintln!("FIFO: {got:?}");
    let (status, message, took) = got.expect("add_media_file returned");
    assert_eq!(status, Status::Media, "{message}");
    assert!(message.contains("not a regular file"), "{message}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn a_file_over_the_media_limit_is_refused_before_it_is_read() {
    let big = scratch("big.png");
    let f = std::fs::File::create(&big).unwrap();
    std::io::Write::write_all(&mut &f, b"\x89PNG\r\n\x1a\n").unwrap();
    f.set_len(64 << 20).unwrap(); // sparse: 64 MiB, over the 20 MiB default
    let before = peak_rss_mib();
    let got = add_media_file(&big);
    let after = peak_rss_mib();
    let _ = std::fs::remove_file(&big);
    eprintln!("64 MiB file: {got:?}; peak RSS {before:?} -> {after:?} MiB");
    let (status, message, _) = got.expect("add_media_file returned");
    assert_eq!(status, Status::Limit, "{message}");
    assert!(message.contains("67108864 bytes"), "{message}");
    if let (Some(b), Some(a)) = (before, after) {
        assert!(a < b + 16, "read anyway: {b} -> {a} MiB");
    }
}

#[test]
fn media_limit_setter_and_bytes() {
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let req = backend_api_request_new();
        let mut err = ptr::null_mut();
        let s = backend_api_request_set_max_media(req, 0, &mut err);
        assert_eq!(s, Status::InvalidArgument);
        eprintln!("set_max_media(0): {}", take_error(err).1);
        assert_eq!(
            backend_api_request_set_max_media(ptr::null_mut(), 1, ptr::null_mut()),
            Status::InvalidArgument
        );
        assert_eq!(
            backend_api_request_set_max_media(req, 5, ptr::null_mut()),
            Status::Ok
        );
        let gif = b"GIF89a";
        let s = backend_api_request_add_media_bytes(
            req,
            gif.as_ptr(),
            gif.len(),
            ptr::null(),
            &mut err,
        );
        assert_eq!(s, Status::Limit);
        let m = take_error(err).1;
        eprintln!("6 bytes over a 5-byte limit: {m}");
        assert!(m.contains("limit of 5 bytes"), "{m}");
        assert_eq!(
            backend_api_request_set_max_media(req, 6, ptr::null_mut()),
            Status::Ok
        );
        let s = backend_api_request_add_media_bytes(
            req,
            gif.as_ptr(),
            gif.len(),
            ptr::null(),
            ptr::null_mut(),
        );
        assert_eq!(s, Status::Ok);
        backend_api_request_free(req);
    }
}

#[test]
fn answer_limit_setter() {
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let c = client_new("http://127.0.0.1:9").unwrap();
        let mut err = ptr::null_mut();
        assert_eq!(
            backend_api_client_set_max_answer(c, 0, &mut err),
            Status::InvalidArgument
        );
        eprintln!("set_max_answer(0): {}", take_error(err).1);
        assert_eq!(
            backend_api_client_set_max_answer(ptr::null_mut(), 1, ptr::null_mut()),
            Status::InvalidArgument
        );
        assert_eq!(
            backend_api_client_set_max_answer(c, 1, ptr::null_mut()),
            Status::Ok
        );
        backend_api_client_free(c);
    }
}
