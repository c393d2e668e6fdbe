//! A TLS server on loopback with the test certificate of tests/tls, answering
//! every request with a short NDJSON stream.

use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const BODY: &str = "{\"type\": \"content\", \"content\": \"secure\"}\n";

pub fn tls_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tls")
}

/// Starts the server; returns its `https://127.0.0.1:PORT` URL.
pub fn start() -> String {
    start_in(&tls_dir())
}

/// A TLS server configuration with the `server.pem` and `server.key` of `dir`.
pub fn server_config(dir: &Path) -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(config)
}

/// [`start`] with the `server.pem` and `server.key` of another folder.
pub fn start_in(dir: &Path) -> String {
    let config = server_config(dir);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, sock);
                let _ = serve(&mut tls);
            });
        }
    });
    url
}

fn serve(tls: &mut (impl Read + Write)) -> std::io::Result<()> {
    if super::http::read_request(&mut BufReader::new(&mut *tls))?.is_none() {
        return Ok(());
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        BODY.len()
    );
    tls.write_all(head.as_bytes())?;
    tls.write_all(BODY.as_bytes())?;
    tls.flush()
}
