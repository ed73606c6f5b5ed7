//! A keep-alive HTTP connection serving 100,000 requests: the server's memory must not
//! grow with the number of requests (each read waiting for the next request used to
//! leave a 30-second timer behind).

#![cfg(target_os = "linux")]

mod common;

use std::process::Command;

#[test]
fn a_hundred_thousand_requests_on_one_connection_keep_memory_flat() {
    let program = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/stress/HTTP长连接内存.qi"
    );
    let output = common::run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_qi"))
            .args(["run", program])
            .env("QI_THREADS", "2")
            .env("NO_COLOR", "1"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kib: Vec<u64> = stdout
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(kib.len(), 4, "{stdout}");
    // After the first 25,000 requests, at most 10% (and 1 MiB of allocator slack) more.
    let (first, last) = (kib[0], kib[3]);
    assert!(
        last <= first + first / 10 + 1024,
        "内存随请求增长：{kib:?} KiB"
    );
}
