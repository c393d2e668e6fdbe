//! The phase matrix (tests/c/phases_test.c), in a process of its own so that no
//! other test loads the machine while it times: every phase of a request x every
//! way to wait x every action (also on a connection reused from an earlier answer),
//! each cell within its bound, threads and descriptors
//! back to the baseline after it; then closes while connecting and resolving, a
//! thread limit, and `backend_api_shutdown`; and the edges 0.3.0 got wrong (a
//! Retry-After longer than IDLE, SOCKS and TOTAL, proxy refusals, 8 MiB log
//! records, descriptors, fork, opens during shutdown, lookups given up). Timed: not run under the sanitizers
//! or Valgrind.

#[path = "suite/c_build.rs"]
mod c_build;

#[test]
fn c_phase_matrix() {
    let (stdout, _) = c_build::run(&c_build::build("phases_test", &[]), &[], &[]);
    assert!(stdout.contains("matrix: 225 cells"), "{stdout}");
}
