//! Which certificates a client trusts: the platform's store by default (on Linux the
//! system bundle, which `SSL_CERT_FILE` names), the bundled Mozilla roots on request, a
//! PEM file added to either (`add_ca_file`) or trusted alone (`set_ca_file`).
//!
//! Two throwaway CAs (tests/tls): CA 1 signs server 1, CA 2 signs server 2. The matrix
//! runs in a child process of this test binary whose `SSL_CERT_FILE` is CA 1, so "the
//! system's bundle" holds exactly CA 1.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use backend_api::client::TrustStore;
use backend_api::{Client, Next, Request, Status, Stream};

/// Opens a stream and reads it to the end: Ok when the TLS handshake and the answer
/// went through, else the status of the error.
fn fetch(client: &Client) -> Result<(), Status> {
    let mut request = Request::new();
    request.add_message("user", "hi");
    let stream = Stream::open(client, &request).map_err(|e| e.status)?;
    let mut chunks = 0;
    loop {
        match stream.next(Some(Duration::from_secs(20))) {
            Next::Chunk(_) => chunks += 1,
            Next::End if chunks > 0 => return Ok(()),
            Next::Error(e) => return Err(e.status),
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn ca(which: &str) -> String {
    tls(which).join("ca.pem").to_str().unwrap().to_owned()
}

fn tls(which: &str) -> PathBuf {
    match which {
        "1" => support::tls::tls_dir(),
        _ => support::tls::tls_dir().join("second"),
    }
}

/// The outcome against server 1 and server 2 of a client made by `setup`.
fn both(url1: &str, url2: &str, setup: impl Fn(&mut Client)) -> [Result<(), Status>; 2] {
    [url1, url2].map(|url| {
        let mut client = Client::new(url).unwrap();
        client.set_proxy(None).unwrap();
        setup(&mut client);
        fetch(&client)
    })
}

const TLS: Result<(), Status> = Err(Status::Tls);

#[test]
#[ignore = "run by trust_matrix_with_ca1_as_the_system_bundle, in a child process"]
fn child_trust_matrix() {
    assert_eq!(
        std::env::var("SSL_CERT_FILE").unwrap(),
        ca("1"),
        "run me through trust_matrix_with_ca1_as_the_system_bundle"
    );
    let (url1, url2) = (
        support::tls::start_in(&tls("1")),
        support::tls::start_in(&tls("2")),
    );

    // The default: the platform's store, here the system bundle of SSL_CERT_FILE.
    assert_eq!(both(&url1, &url2, |_| {}), [Ok(()), TLS], "default");
    // A CA added to it: both servers.
    assert_eq!(
        both(&url1, &url2, |c| c.add_ca_file(&ca("2")).unwrap()),
        [Ok(()), Ok(())],
        "platform + CA 2 added"
    );
    // A CA file alone: only its server.
    assert_eq!(
        both(&url1, &url2, |c| c.set_ca_file(&ca("2")).unwrap()),
        [TLS, Ok(())],
        "CA 2 alone"
    );
    // The bundled Mozilla roots know neither test CA; with CA 2 added, server 2.
    assert_eq!(
        both(&url1, &url2, |c| c
            .set_trust_store(TrustStore::Bundled)
            .unwrap()),
        [TLS, TLS],
        "bundled roots"
    );
    assert_eq!(
        both(&url1, &url2, |c| {
            c.set_trust_store(TrustStore::Bundled).unwrap();
            c.add_ca_file(&ca("2")).unwrap();
        }),
        [TLS, Ok(())],
        "bundled roots + CA 2 added"
    );
    // Back to the platform's store after a CA file: CA 1 again, and what was added stays.
    assert_eq!(
        both(&url1, &url2, |c| {
            c.set_ca_file(&ca("2")).unwrap();
            c.set_trust_store(TrustStore::Platform).unwrap();
        }),
        [Ok(()), TLS],
        "set_trust_store ends set_ca_file"
    );
    // The same through the C ABI: the bundled roots with CA 2 added; a bad store.
    let c_abi = |url: &str| {
        use backend_api::ffi::*;
        use std::ptr::null_mut;
        let cs = |s: &str| std::ffi::CString::new(s).unwrap();
        // SAFETY: live objects, NUL-terminated strings, each freed once.
        unsafe {
            let mut c = null_mut();
            assert_eq!(
                backend_api_client_new(cs(url).as_ptr(), &mut c, null_mut()),
                Status::Ok
            );
            backend_api_client_set_proxy(c, std::ptr::null(), null_mut());
            assert_eq!(
                backend_api_client_set_trust_store(c, 2, null_mut()),
                Status::InvalidArgument
            );
            assert_eq!(
                backend_api_client_set_trust_store(
                    c,
                    backend_api::ffi::backend_api_trust_store::Bundled as u32,
                    null_mut()
                ),
                Status::Ok
            );
            assert_eq!(
                backend_api_client_add_ca_file(c, cs(&ca("2")).as_ptr(), null_mut()),
                Status::Ok
            );
            let r = backend_api_request_new();
            backend_api_request_add_message(r, cs("user").as_ptr(), cs("hi").as_ptr(), null_mut());
            let mut s = null_mut();
            assert_eq!(backend_api_open(c, r, &mut s, null_mut()), Status::Ok);
            let mut chunk = null_mut();
            let st = backend_api_next(s, 20_000, &mut chunk, null_mut());
            backend_api_chunk_free(chunk);
            backend_api_close(s);
            backend_api_request_free(r);
            backend_api_client_free(c);
            if st == Status::Ok {
                Ok(())
            } else {
                Err(st.to_core().expect("a status, not MAX_ENUM"))
            }
        }
    };
    assert_eq!(
        [c_abi(&url1), c_abi(&url2)],
        [TLS, Ok(())],
        "C: bundled roots + CA 2 added"
    );
    // Verification off trusts anything.
    assert_eq!(
        both(&url1, &url2, |c| c.set_verify_tls(false)),
        [Ok(()), Ok(())],
        "verification off"
    );
    println!("trust matrix: 8 of 8 as expected");
}

#[test]
fn trust_matrix_with_ca1_as_the_system_bundle() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tls_trust::child_trust_matrix",
            "--include-ignored",
            "--nocapture",
        ])
        .env("SSL_CERT_FILE", ca("1"))
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("trust matrix: 8 of 8") && text.contains("1 passed"),
        "child: {text}"
    );
}

#[test]
fn the_test_cas_are_not_in_this_machines_store() {
    // Without SSL_CERT_FILE the platform's store is the machine's own: neither test CA.
    if std::env::var_os("SSL_CERT_FILE").is_some() {
        return; // the child process above
    }
    let url = support::tls::start_in(&tls("1"));
    let mut client = Client::new(&url).unwrap();
    client.set_proxy(None).unwrap();
    assert_eq!(fetch(&client), TLS);
}

#[test]
fn bad_ca_files_change_nothing() {
    let url = support::tls::start_in(&tls("1"));
    let mut client = Client::new(&url).unwrap();
    client.set_proxy(None).unwrap();
    client.set_ca_file(&ca("1")).unwrap();
    assert_eq!(
        client.add_ca_file("/nonexistent.pem").unwrap_err().status,
        Status::InvalidArgument
    );
    let not_pem = support::tls::tls_dir().join("README.md");
    assert_eq!(
        client
            .set_ca_file(not_pem.to_str().unwrap())
            .unwrap_err()
            .status,
        Status::Tls
    );
    assert_eq!(fetch(&client), Ok(()), "still trusting CA 1 alone");
}

/// The system bundle is read once per client, on its first TLS connection: a
/// client keeps trusting what the store held then, a new client (or the store
/// chosen again) reads it anew.
#[test]
#[ignore = "run by the_trust_store_is_read_once_per_client, in a child process"]
fn child_trust_store_read_once() {
    let bundle = PathBuf::from(std::env::var("SSL_CERT_FILE").unwrap());
    assert!(
        bundle.starts_with(std::env::temp_dir()),
        "run me through the_trust_store_is_read_once_per_client"
    );
    std::fs::copy(ca("1"), &bundle).unwrap();
    let url1 = support::tls::start_in(&tls("1"));
    let make = || {
        let mut client = Client::new(&url1).unwrap();
        client.set_proxy(None).unwrap();
        client
    };
    let mut client = make();
    assert_eq!(fetch(&client), Ok(()), "CA 1 in the bundle");
    // The system's store changes: it no longer holds CA 1.
    std::fs::copy(ca("2"), &bundle).unwrap();
    assert_eq!(fetch(&client), Ok(()), "the client read its store once");
    assert_eq!(fetch(&client.clone()), Ok(()), "and its clones share it");
    assert_eq!(fetch(&make()), TLS, "a new client reads the store anew");
    client.set_trust_store(TrustStore::Platform).unwrap();
    assert_eq!(
        fetch(&client),
        TLS,
        "choosing the store again reads it again"
    );
    println!("trust store read once: as expected");
}

#[test]
fn the_trust_store_is_read_once_per_client() {
    let bundle = std::env::temp_dir().join(format!("trust-once-{}.pem", std::process::id()));
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tls_trust::child_trust_store_read_once",
            "--include-ignored",
            "--nocapture",
        ])
        .env("SSL_CERT_FILE", &bundle)
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&bundle);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("trust store read once: as expected"),
        "child: {text}"
    );
}
