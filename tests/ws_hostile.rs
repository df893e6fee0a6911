//! A server that streams an endless body costs the probe 64 KiB and one deadline, not memory
//! without bound.

mod ws_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ws_support::run_ws;

#[test]
fn endless_body_is_capped_and_the_probe_ends() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_server = Arc::clone(&stop);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let stop = Arc::clone(&stop_server);
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
                let chunk = [b'x'; 16 * 1024];
                // Streams until the client goes away (or the test ends).
                while !stop.load(Ordering::Relaxed) {
                    if s.write_all(&chunk).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let run = run_ws(
        "2s",
        &[&format!("http://127.0.0.1:{port}"), "--rounds", "2"],
    );
    stop.store(true, Ordering::Relaxed);
    assert_eq!(run.status("ws.http-reachable"), "pass", "{}", run.stdout);
    assert_eq!(run.status("ws.polling-handshake"), "fail");
    let answer = &run.check("ws.polling-handshake")["evidence"]["answer"];
    assert_eq!(answer["body_truncated"], true);
    assert_eq!(answer["body_len"], 64 * 1024);
    assert!(
        run.message("ws.polling-handshake")
            .contains("not an Engine.IO open packet"),
        "{}",
        run.message("ws.polling-handshake")
    );
    assert_eq!(run.code, 1);
}
