//! Slow and stalled clients against a real `accord serve`: the shutdown deadline,
//! header and body deadlines, the request deadline and the bound on open connections
//! (docs/limits.md).

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{Backend, fresh_db};
use crate::process::start_with;

/// The host and port of a base URL (`http://127.0.0.1:1234` → `127.0.0.1:1234`).
fn host(base: &str) -> &str {
    base.trim_start_matches("http://")
}

/// Opens a connection and sends the start of a request, never its end.
async fn half_a_header(base: &str) -> TcpStream {
    let mut socket = TcpStream::connect(host(base)).await.expect("connect");
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: accord\r\n")
        .await
        .expect("write");
    socket
}

fn sigterm(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_stops_the_server_at_the_shutdown_deadline_despite_a_half_sent_header() {
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    let mut server = start_with(&db.url, &["--shutdown-timeout", "1s"]).await;
    let _stalled = half_a_header(&server.base).await;
    // The server has taken the connection in before it is told to stop.
    assert_eq!(server.get("/healthz").await.status, 200);
    sigterm(server.child.id().expect("pid"));
    // Before the deadline existed the server waited for that header for ever.
    let exit = tokio::time::timeout(Duration::from_secs(15), server.child.wait())
        .await
        .expect("the server stopped within 15 s of SIGTERM (its deadline is 1 s)")
        .expect("wait");
    assert!(exit.success(), "{exit:?}");
}
