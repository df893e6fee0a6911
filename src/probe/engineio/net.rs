//! Network plumbing of the Engine.IO probe: TLS configuration, the staged reachability test
//! (DNS, TCP, TLS told apart), HTTP requests with a deadline and a capped body, and the
//! classification of transport errors.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

/// At most this much of any HTTP body is read: a hostile server streaming forever costs
/// 64 KiB, not memory without bound. Engine.IO handshakes are a few hundred bytes.
pub const BODY_CAP: usize = 64 * 1024;
/// How much of a body the report shows.
pub const BODY_HEAD: usize = 200;

/// Why a network step produced no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetErrorKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port (RST to the SYN).
    Refused,
    /// The deadline passed (connect, TLS, or waiting for an answer: `stage` says which).
    Timeout,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The peer reset or closed the connection mid-exchange.
    Reset,
    /// The peer answered something that is not HTTP / WebSocket.
    Protocol,
    Other,
}

impl NetErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NetErrorKind::Dns => "dns",
            NetErrorKind::Refused => "refused",
            NetErrorKind::Timeout => "timeout",
            NetErrorKind::Tls => "tls",
            NetErrorKind::Reset => "reset",
            NetErrorKind::Protocol => "protocol",
            NetErrorKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetError {
    pub kind: NetErrorKind,
    /// The step that failed, e.g. `dns lookup`, `tcp connect`, `tls handshake`,
    /// `waiting for the HTTP answer`.
    pub stage: String,
    /// The error text with its causes.
    pub detail: String,
}

impl NetError {
    pub fn new(kind: NetErrorKind, stage: impl Into<String>, detail: impl Into<String>) -> Self {
        NetError {
            kind,
            stage: stage.into(),
            detail: detail.into(),
        }
    }

    pub fn timeout(stage: impl Into<String>, after: Duration) -> Self {
        // Whole milliseconds: a deadline's remainder would print as "1s 234ms 567us 890ns".
        let after = Duration::from_millis(ms(after));
        NetError::new(
            NetErrorKind::Timeout,
            stage,
            format!("no answer within {}", humantime::format_duration(after)),
        )
    }

    pub fn describe(&self) -> String {
        format!(
            "{} during {}: {}",
            self.kind.as_str(),
            self.stage,
            self.detail
        )
    }
}

/// Text of an error and all its causes, `a: b: c`, without repeats.
pub fn error_chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Classifies an error by the causes it carries (io kinds, rustls errors, resolver text).
pub fn classify(e: &(dyn StdError + 'static), stage: &str) -> NetError {
    let detail = error_chain(e);
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return NetError::new(NetErrorKind::Tls, "tls handshake", detail);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(kind) = io_kind(io) {
                return NetError::new(kind, stage, detail);
            }
            if let Some(inner) = io.get_ref()
                && inner.downcast_ref::<rustls::Error>().is_some()
            {
                return NetError::new(NetErrorKind::Tls, "tls handshake", detail);
            }
        }
        cur = err.source();
    }
    let lower = detail.to_ascii_lowercase();
    let kind = if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        NetErrorKind::Dns
    } else if lower.contains("certificate") || lower.contains("tls") {
        NetErrorKind::Tls
    } else if lower.contains("connection closed")
        || lower.contains("incomplete message")
        || lower.contains("reset")
    {
        NetErrorKind::Reset
    } else if lower.contains("invalid http") || lower.contains("parse") {
        NetErrorKind::Protocol
    } else {
        NetErrorKind::Other
    };
    NetError::new(kind, stage, detail)
}

fn io_kind(io: &std::io::Error) -> Option<NetErrorKind> {
    use std::io::ErrorKind as K;
    match io.kind() {
        K::ConnectionRefused => Some(NetErrorKind::Refused),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            Some(NetErrorKind::Reset)
        }
        K::TimedOut => Some(NetErrorKind::Timeout),
        _ => {
            let s = io.to_string().to_ascii_lowercase();
            if s.contains("failed to lookup address") || s.contains("name or service not known") {
                Some(NetErrorKind::Dns)
            } else {
                None
            }
        }
    }
}

/// The one rustls configuration of the probe: the OS trust store (honours SSL_CERT_FILE /
/// SSL_CERT_DIR), shared by reqwest, tungstenite and the reachability test.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, NetError> {
    use rustls_platform_verifier::ConfigVerifierExt;
    // Idempotent; main does it first, a library caller may not have.
    let _ = rustls::crypto::ring::default_provider().install_default();
    rustls::ClientConfig::with_platform_verifier()
        .map(Arc::new)
        .map_err(|e| {
            NetError::new(
                NetErrorKind::Tls,
                "loading the system trust store",
                e.to_string(),
            )
        })
}

/// What the staged connection test found.
#[derive(Debug, Clone, Serialize)]
pub struct Reachability {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// Addresses the name resolved to.
    pub addresses: Vec<String>,
    /// The address the TCP connection was made to.
    pub connected: Option<String>,
    pub error: Option<NetError>,
    pub elapsed_ms: u64,
}

/// DNS, then TCP, then (for https/wss) TLS, each under `timeout`, so the failure names its
/// stage: a DNS error, a refused port, a filtered port (timeout) and a certificate problem
/// need different fixes.
pub async fn reach(
    host: &str,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Reachability {
    let started = Instant::now();
    let mut r = Reachability {
        host: host.to_string(),
        port,
        tls: tls.is_some(),
        addresses: Vec::new(),
        connected: None,
        error: None,
        elapsed_ms: 0,
    };
    let finish = |mut r: Reachability, e: Option<NetError>| {
        r.error = e;
        r.elapsed_ms = ms(started.elapsed());
        r
    };
    let lookup_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    // One deadline for the three stages: the probe's budget, not three of them.
    let deadline = tokio::time::Instant::now() + timeout;
    let addrs = match tokio::time::timeout_at(
        deadline,
        tokio::net::lookup_host((lookup_host.as_str(), port)),
    )
    .await
    {
        Err(_) => return finish(r, Some(NetError::timeout("dns lookup", timeout))),
        Ok(Err(e)) => {
            return finish(
                r,
                Some(NetError::new(
                    NetErrorKind::Dns,
                    "dns lookup",
                    format!("{host}: {e}"),
                )),
            );
        }
        Ok(Ok(a)) => a.collect::<Vec<_>>(),
    };
    r.addresses = addrs.iter().map(ToString::to_string).collect();
    if addrs.is_empty() {
        return finish(
            r,
            Some(NetError::new(
                NetErrorKind::Dns,
                "dns lookup",
                format!("{host} resolves to no address"),
            )),
        );
    }
    let mut last_err = None;
    let mut stream = None;
    for addr in &addrs {
        match tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect(addr)).await {
            Err(_) => {
                last_err = Some(NetError::timeout(format!("tcp connect to {addr}"), timeout));
                break;
            }
            Ok(Err(e)) => {
                let kind = io_kind(&e).unwrap_or(NetErrorKind::Other);
                last_err = Some(NetError::new(
                    kind,
                    format!("tcp connect to {addr}"),
                    e.to_string(),
                ));
            }
            Ok(Ok(s)) => {
                r.connected = Some(addr.to_string());
                stream = Some(s);
                break;
            }
        }
    }
    let Some(stream) = stream else {
        return finish(r, last_err);
    };
    if let Some(cfg) = tls {
        let name = match rustls::pki_types::ServerName::try_from(lookup_host.clone()) {
            Ok(n) => n,
            Err(e) => {
                return finish(
                    r,
                    Some(NetError::new(
                        NetErrorKind::Tls,
                        "tls handshake",
                        e.to_string(),
                    )),
                );
            }
        };
        let connector = tokio_rustls::TlsConnector::from(cfg);
        match tokio::time::timeout_at(deadline, connector.connect(name, stream)).await {
            Err(_) => return finish(r, Some(NetError::timeout("tls handshake", timeout))),
            Ok(Err(e)) => {
                let mut ne = classify(&e, "tls handshake");
                if ne.kind == NetErrorKind::Other {
                    ne.kind = NetErrorKind::Tls;
                }
                return finish(r, Some(ne));
            }
            Ok(Ok(_)) => {}
        }
    }
    finish(r, None)
}

/// An HTTP answer, reduced to what a diagnosis needs.
#[derive(Debug, Clone, Serialize)]
pub struct HttpAnswer {
    pub status: u16,
    /// Headers that explain an answer: Server, Via, Content-Type, Upgrade, Connection,
    /// Access-Control-Allow-Origin, Location.
    pub headers: Vec<(String, String)>,
    /// Names of the cookies set (values can be session secrets).
    pub set_cookie_names: Vec<String>,
    /// The first [`BODY_HEAD`] bytes of the body, lossily decoded.
    pub body_head: String,
    /// Bytes read (at most [`BODY_CAP`]).
    pub body_len: usize,
    pub body_truncated: bool,
    /// Why the body is shorter than the server meant it to be (the deadline passed, the
    /// connection ended early): such a body is never read as "empty".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_incomplete: Option<String>,
    /// The body read (capped); not rendered.
    #[serde(skip)]
    pub body: Vec<u8>,
    pub elapsed_ms: u64,
}

const SHOWN_HEADERS: [&str; 7] = [
    "server",
    "via",
    "content-type",
    "upgrade",
    "connection",
    "access-control-allow-origin",
    "location",
];

impl HttpAnswer {
    pub fn new(status: u16, headers: &HeaderMap, body: Vec<u8>, truncated: bool) -> Self {
        let mut shown = Vec::new();
        for name in SHOWN_HEADERS {
            for v in headers.get_all(name) {
                shown.push((
                    name.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into(),
                ));
            }
        }
        let set_cookie_names = headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| {
                let s = String::from_utf8_lossy(v.as_bytes()).to_string();
                s.split('=').next().map(|n| n.trim().to_string())
            })
            .collect();
        let head_end = body.len().min(BODY_HEAD);
        HttpAnswer {
            status,
            headers: shown,
            set_cookie_names,
            body_head: String::from_utf8_lossy(&body[..head_end]).into_owned(),
            body_len: body.len(),
            body_truncated: truncated,
            body_incomplete: None,
            body,
            elapsed_ms: 0,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn server(&self) -> Option<&str> {
        self.header("server")
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request's outcome: an answer (any status) or why there was none.
pub type HttpOutcome = Result<HttpAnswer, NetError>;

/// Serialises an [`HttpOutcome`] flat: the answer's fields, or `{"error": {…}}`.
pub fn serialize_outcome<S: serde::Serializer>(o: &HttpOutcome, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Failed<'a> {
        error: &'a NetError,
    }
    match o {
        Ok(a) => a.serialize(s),
        Err(e) => Failed { error: e }.serialize(s),
    }
}

/// [`serialize_outcome`] for an optional outcome.
pub fn serialize_opt_outcome<S: serde::Serializer>(
    o: &Option<HttpOutcome>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match o {
        Some(o) => serialize_outcome(o, s),
        None => s.serialize_none(),
    }
}

/// The HTTP client of the probe. `fresh_connections` opens a new TCP connection for every
/// request: with keep-alive, the kernel spreads *connections* (not requests) over uvicorn
/// workers, so a reused connection always reaches the same worker and a sticky-session test
/// would pass falsely (ground-truth: 30/30 with keep-alive, 28–29/30 failures without).
pub fn http_client(
    tls: Option<Arc<rustls::ClientConfig>>,
    fresh_connections: bool,
) -> Result<reqwest::Client, NetError> {
    let mut b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .http1_only()
        .no_proxy()
        .user_agent(concat!("wsdoctor/", env!("CARGO_PKG_VERSION")));
    if fresh_connections {
        b = b.pool_max_idle_per_host(0);
    }
    if let Some(cfg) = tls {
        b = b.tls_backend_preconfigured((*cfg).clone());
    }
    b.build()
        .map_err(|e| classify(&e, "building the HTTP client"))
}

/// Sends a request and reads its body to the end, at most [`BODY_CAP`] bytes, all before
/// `timeout`. An answer whose body the deadline (or a broken connection) cut short is kept,
/// marked [`HttpAnswer::body_incomplete`]: the status and headers are evidence, and a partial
/// body must not be read as the whole one.
pub async fn send(req: reqwest::RequestBuilder, timeout: Duration) -> HttpOutcome {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut resp = match tokio::time::timeout_at(deadline, req.send()).await {
        Err(_) => return Err(NetError::timeout("waiting for the HTTP answer", timeout)),
        Ok(Err(e)) => return Err(classify(&e, "sending the HTTP request")),
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    let mut truncated = false;
    let mut incomplete = None;
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) => {
                incomplete = Some(format!(
                    "the body did not end within {}",
                    humantime::format_duration(timeout)
                ));
                break;
            }
            Ok(Ok(Some(chunk))) => {
                let room = BODY_CAP - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                incomplete = Some(format!(
                    "reading the body failed: {}",
                    classify(&e, "reading the HTTP body").detail
                ));
                break;
            }
        }
    }
    let mut a = HttpAnswer::new(status, &headers, body, truncated);
    a.body_incomplete = incomplete;
    a.elapsed_ms = ms(started.elapsed());
    Ok(a)
}

/// `Origin` for a request, when the user asked for one.
pub fn origin_headers(origin: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(o) = origin
        && let Ok(v) = HeaderValue::from_str(o)
    {
        h.insert(HeaderName::from_static("origin"), v);
    }
    h
}

pub fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}
