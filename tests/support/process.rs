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
