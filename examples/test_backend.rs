//! The bundled offline backend as a program: `test_backend [--port P]` prints
//! `READY <port>` once it listens on 127.0.0.1, and exits when its standard input
//! closes (so a test that dies leaves no server behind) unless `--no-stdin-watch`.
//! The scenario fields it understands are listed in tests/support/backend.rs.

use std::io::{Read, Write};

use support::backend;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .map_or(0, |p| p.parse::<u16>().expect("--port takes a number"));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind 127.0.0.1");
    let port = listener.local_addr().unwrap().port();
    println!("READY {port}");
    std::io::stdout().flush().unwrap();
    if !args.iter().any(|a| a == "--no-stdin-watch") {
        std::thread::spawn(|| {
            let mut sink = [0u8; 256];
            while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    backend::serve(listener).await;
}
