//! The integration tests that can share a process, built as one binary: one
//! module per behaviour, each against real servers on loopback (the in-process
//! backend of the `support` crate, the test backend program, the real g4f servers
//! where their venvs exist). Tests that change or measure the whole process run
//! in binaries of their own beside this one: `limits` (peak memory), `footprint`
//! (threads, descriptors and resident memory), `proxy_env` (sets the process's
//! environment), `shutdown` (acts on the whole process) and `phases` (timed, alone).
//!
//! One module: `cargo test --test suite streaming::`; one test: add its name.

mod answer_and_retries;
mod c_build;
mod c_programs;
mod conversation;
mod decoding;
mod g4f_interop;
mod header;
mod json_pointer;
mod keep_alive;
mod openai_interop;
mod openai_protocol;
mod request_body;
mod secrets;
mod server_faults;
mod streaming;
mod timing_promises;
mod tls_trust;
