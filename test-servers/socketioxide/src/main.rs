//! A tiny socketioxide server for wsdoctor's integration tests.
//!
//! Usage: sioxide-test-server [--port N] [--path /socket.io] [--auth-token T] [--polling-only]
//! Prints `LISTENING <port>` on stdout once bound (port 0 picks a free one).
//! With `--auth-token`, the `/` namespace rejects a CONNECT whose auth payload lacks
//! `{"token": T}` with CONNECT_ERROR `{"message":"authentication failed"}`.

use std::io::Write;

use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef};

#[derive(Debug)]
struct AuthError;

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "authentication failed")
    }
}

impl std::error::Error for AuthError {}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut port: u16 = 0;
    let mut path = "/socket.io".to_string();
    let mut token: Option<String> = None;
    let mut polling_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--path" => path = args.next().unwrap_or(path),
            "--auth-token" => token = args.next(),
            "--polling-only" => polling_only = true,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let builder = SocketIo::builder().req_path(path);
    let builder = if polling_only {
        builder.transports([socketioxide::TransportType::Polling])
    } else {
        builder
    };
    let (layer, io) = builder.build_layer();
    if let Some(expected) = token {
        let check = move |Data(auth): Data<serde_json::Value>| {
            let expected = expected.clone();
            async move {
                if auth.get("token").and_then(|t| t.as_str()) == Some(expected.as_str()) {
                    Ok(())
                } else {
                    Err(AuthError)
                }
            }
        };
        use socketioxide::handler::ConnectHandler;
        io.ns("/", (async move |_s: SocketRef| {}).with(check));
    } else {
        io.ns("/", async move |_s: SocketRef| {});
    }
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    let bound = listener.local_addr().expect("addr").port();
    println!("LISTENING {bound}");
    let _ = std::io::stdout().flush();
    axum::serve(listener, app).await.expect("serve");
}
