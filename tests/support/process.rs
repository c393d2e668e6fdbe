//! Child processes that announce where they listen: the test backend, the g4f
//! launcher and the benchmark's servers all print `READY <port>` first.

use std::io::{BufRead, BufReader};
use std::process::Child;

/// Reads the child's first line from its piped standard output, `READY <port>`,
/// and returns the port; panics with what it said instead.
pub fn ready_port(child: &mut Child) -> u16 {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("the child's stdout is piped"))
        .read_line(&mut line)
        .expect("read the child's first line");
    line.strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child said {line:?}, not READY <port>"))
}

/// The Python of a venv in the project's cache (`BACKEND_API_CACHE`, else
/// `~/.cache/backend-api`), made by scripts/g4f-venvs.sh or scripts/openai-venv.sh;
/// `None` when it is missing.
pub fn venv_python(name: &str) -> Option<std::path::PathBuf> {
    let base = std::env::var_os("BACKEND_API_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(&std::env::var("HOME").unwrap()).join(".cache/backend-api")
        });
    let py = base.join(name).join("bin/python");
    py.exists().then_some(py)
}

/// Says loudly that a test is skipped; under CI (`CI=true`) a skip fails instead.
pub fn skip_or_fail(msg: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("\n######## SKIPPED: {msg} ########\n");
}
