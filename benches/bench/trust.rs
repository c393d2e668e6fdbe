//! CPU per HTTPS stream by trust store: sequential streams from the TLS server
//! of tests/support, each on a new connection, in a process of its own per
//! store (the `https` mode), which reports the CPU its streams took.

use std::path::Path;
use std::process::Command;
use std::ptr;

use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use serde_json::json;

use crate::capi::{cs, drain, Client};
use crate::measure::{cpu_seconds, median};
use crate::report::Report;

/// The test CA that signed the TLS server's certificate.
fn test_ca() -> String {
    support::tls::tls_dir().join("ca.pem").display().to_string()
}

/// The `https URL STORE K` mode: K streams, one after the other, with the trust
/// settings STORE names; prints the CPU seconds they took (the client made first).
pub fn https_mode(args: &[String]) {
    let [url, store, k] = args else {
        panic!("usage: bench https URL STORE K");
    };
    let client = Client::new(url);
    let ca = cs(&test_ca());
    // SAFETY: C API calls on the client made here, with C strings that outlive each call.
    let set = unsafe {
        let c = client.0;
        match store.as_str() {
            "platform" => Status::Ok,
            "bundled" => match backend_api_client_set_trust_store(c, 1, ptr::null_mut()) {
                Status::Ok => backend_api_client_add_ca_file(c, ca.as_ptr(), ptr::null_mut()),
                other => other,
            },
            "ca-file" => backend_api_client_set_ca_file(c, ca.as_ptr(), ptr::null_mut()),
            "off" => backend_api_client_set_verify_tls(c, false, ptr::null_mut()),
            other => panic!("unknown store {other}"),
        }
    };
    assert_eq!(set, Status::Ok);
    let k: usize = k.parse().unwrap();
    let cpu = cpu_seconds();
    for _ in 0..k {
        assert_eq!(drain(client.open(&json!({})), |_| {}), 1);
    }
    println!("{}", cpu_seconds() - cpu);
}

pub fn run(report: &mut Report, quick: bool) {
    let url = support::tls::start();
    let k = if quick { 20 } else { 100 };
    // The platform store as a system's, with the test CA added to it (in files of
    // its own: the system's are not touched).
    let bundle = std::env::temp_dir().join(format!("bench-roots-{}.pem", std::process::id()));
    let mut roots = std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    roots.extend(std::fs::read(test_ca()).unwrap());
    std::fs::write(&bundle, roots).unwrap();
    let stores = ["platform", "bundled", "ca-file", "off"];
    let mut runs: Vec<Vec<f64>> = stores.iter().map(|_| Vec::new()).collect();
    for _ in 0..3 {
        for (store, got) in stores.iter().zip(&mut runs) {
            let mut c = Command::new(std::env::current_exe().unwrap());
            c.args(["https", &url, store, &k.to_string()]);
            c.env("SSL_CERT_FILE", &bundle);
            if Path::new("/etc/ssl/certs").is_dir() {
                c.env("SSL_CERT_DIR", "/etc/ssl/certs");
            }
            let out = c.output().unwrap();
            match String::from_utf8_lossy(&out.stdout).trim().parse::<f64>() {
                Ok(cpu) if out.status.success() => got.push(cpu / k as f64 * 1e3),
                _ => eprintln!(
                    "!!!! the https streams with the {store} store failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
    }
    let _ = std::fs::remove_file(&bundle);
    let ms: Vec<Option<f64>> = runs.iter().map(|r| median(r, |x| *x)).collect();
    let off = ms[3];
    let mut table = Vec::new();
    for (store, ms) in stores.iter().zip(&ms) {
        let Some(ms) = *ms else { continue };
        table.push(json!({"store": store, "cpu_ms_per_stream": ms}));
        let ratio = off.map(|o| ms / o);
        report.row(
            format!("CPU per HTTPS stream, {store} trust store"),
            format!("{ms:.2} ms"),
            ratio.map_or(String::new(), |r| format!("x{r:.2} of verification off")),
            if *store == "platform" {
                "<= 2x off"
            } else {
                "-"
            },
            (*store == "platform").then(|| ratio.is_some_and(|r| r <= 2.0)),
        );
    }
    report.set("https_cpu_by_store", json!(table));
}
