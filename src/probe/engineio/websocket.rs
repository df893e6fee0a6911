//! The WebSocket side of the probe (tokio-tungstenite over rustls): the upgrade request and
//! an Engine.IO session over the socket that answers pings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant as TokioInstant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::codec::{EioKind, EioPacket};
use super::net::{HttpAnswer, NetError, NetErrorKind, classify, ms};

/// The largest frame or message the probe accepts: a server sending a 100 MB frame is cut off
/// here instead of filling memory. Engine.IO's own default maxPayload is 1 MB.
pub const MAX_MESSAGE: usize = 1024 * 1024;
/// Packets kept as evidence per session.
const LOG_CAP: usize = 40;
/// Characters of one packet kept as evidence.
const PACKET_SHOWN: usize = 300;

pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The 101 answer's status and the headers worth showing.
#[derive(Debug, Clone, Serialize)]
pub struct UpgradeAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub elapsed_ms: u64,
}

pub enum WsOpen {
    Upgraded(UpgradeAnswer, Box<WsStream>),
    /// The server (or a proxy) answered the upgrade request with a plain HTTP response.
    Refused(HttpAnswer),
    Failed(NetError),
}

/// The most header bytes read from an upgrade answer.
const HEAD_CAP: usize = 16 * 1024;

/// Sends the upgrade request. No `Origin` header unless `origin` is given: some clients send
/// their own URL as Origin by default, and a server with a CORS list then refuses even a
/// healthy handshake (ground-truth).
///
/// The HTTP side of the handshake is done here rather than by tungstenite, because a refusal
/// is evidence: tungstenite hands back only the body bytes that arrived in the same read as
/// the headers, and Werkzeug/gunicorn (Flask-SocketIO) write the body in a later write, so
/// "Not an accepted origin." read as an empty body about one run in eight. Here the body is
/// read to its end (Content-Length, chunked, or close) under [`super::net::BODY_CAP`] and the
/// deadline; a body cut by the deadline is marked incomplete, never taken for an empty one.
pub async fn open(
    url: &str,
    origin: Option<&str>,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> WsOpen {
    let started = Instant::now();
    let deadline = TokioInstant::now() + timeout;
    let mut opened = match open_until(url, origin, tls, deadline).await {
        Ok(o) => o,
        Err(e) => return WsOpen::Failed(e),
    };
    match &mut opened {
        WsOpen::Upgraded(a, _) => a.elapsed_ms = ms(started.elapsed()),
        WsOpen::Refused(a) => a.elapsed_ms = ms(started.elapsed()),
        WsOpen::Failed(_) => {}
    }
    opened
}

async fn open_until(
    url: &str,
    origin: Option<&str>,
    tls: Option<Arc<rustls::ClientConfig>>,
    deadline: TokioInstant,
) -> Result<WsOpen, NetError> {
    let timeout = deadline.saturating_duration_since(TokioInstant::now());
    let timed_out = |stage: &str| NetError::timeout(stage.to_string(), timeout);
    let parsed = url::Url::parse(url).map_err(|e| {
        NetError::new(
            NetErrorKind::Other,
            "building the websocket request",
            e.to_string(),
        )
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| {
            NetError::new(
                NetErrorKind::Other,
                "building the websocket request",
                "no host",
            )
        })?
        .to_string();
    let bare_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let secure = parsed.scheme() == "wss";
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if secure { 443 } else { 80 });
    let tcp =
        match tokio::time::timeout_at(deadline, TcpStream::connect((bare_host.as_str(), port)))
            .await
        {
            Err(_) => return Err(timed_out("waiting for the websocket upgrade")),
            Ok(Err(e)) => return Err(classify(&e, "websocket upgrade")),
            Ok(Ok(s)) => s,
        };
    let _ = tcp.set_nodelay(true);
    let mut stream = match (secure, tls) {
        (true, Some(cfg)) => {
            let name = rustls::pki_types::ServerName::try_from(bare_host.clone())
                .map_err(|e| NetError::new(NetErrorKind::Tls, "tls handshake", e.to_string()))?;
            let connector = tokio_rustls::TlsConnector::from(cfg);
            match tokio::time::timeout_at(deadline, connector.connect(name, tcp)).await {
                Err(_) => return Err(timed_out("tls handshake")),
                Ok(Err(e)) => {
                    let mut ne = classify(&e, "tls handshake");
                    if ne.kind == NetErrorKind::Other {
                        ne.kind = NetErrorKind::Tls;
                    }
                    return Err(ne);
                }
                Ok(Ok(s)) => MaybeTlsStream::Rustls(s),
            }
        }
        (true, None) => {
            return Err(NetError::new(
                NetErrorKind::Tls,
                "tls handshake",
                "wss:// without a TLS configuration",
            ));
        }
        (false, _) => MaybeTlsStream::Plain(tcp),
    };
    let key = generate_key();
    let mut target = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        target.push('?');
        target.push_str(q);
    }
    let host_header = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\
         User-Agent: wsdoctor/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(o) = origin.filter(|o| !o.contains(['\r', '\n'])) {
        request.push_str(&format!("Origin: {o}\r\n"));
    }
    request.push_str("\r\n");
    match tokio::time::timeout_at(deadline, stream.write_all(request.as_bytes())).await {
        Err(_) => return Err(timed_out("sending the websocket upgrade")),
        Ok(Err(e)) => return Err(classify(&e, "sending the websocket upgrade")),
        Ok(Ok(())) => {}
    }
    // The status line and headers.
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > HEAD_CAP {
            return Err(NetError::new(
                NetErrorKind::Protocol,
                "websocket upgrade",
                format!("no end of the HTTP headers in the first {HEAD_CAP} bytes"),
            ));
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return Err(timed_out("waiting for the websocket upgrade")),
            Ok(Err(e)) => return Err(classify(&e, "websocket upgrade")),
            Ok(Ok(0)) => {
                return Err(NetError::new(
                    NetErrorKind::Reset,
                    "websocket upgrade",
                    if buf.is_empty() {
                        "the connection was closed without an HTTP answer".to_string()
                    } else {
                        "the connection was closed in the middle of the HTTP headers".to_string()
                    },
                ));
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let (status, headers) = parse_head(&buf[..head_end])?;
    let rest = buf[head_end..].to_vec();
    if status == 101 {
        let accept = headers
            .get("sec-websocket-accept")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
        let expected = derive_accept_key(key.as_bytes());
        if accept.as_deref() != Some(expected.as_str()) {
            return Err(NetError::new(
                NetErrorKind::Protocol,
                "websocket upgrade",
                format!(
                    "101 with a wrong Sec-WebSocket-Accept ({:?}, expected {expected:?})",
                    accept.unwrap_or_default()
                ),
            ));
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let ws =
            WebSocketStream::from_partially_read(stream, rest, Role::Client, Some(config)).await;
        let mut shown = Vec::new();
        for name in [
            "server",
            "upgrade",
            "connection",
            "sec-websocket-extensions",
        ] {
            for v in headers.get_all(name) {
                shown.push((
                    name.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into(),
                ));
            }
        }
        return Ok(WsOpen::Upgraded(
            UpgradeAnswer {
                status,
                headers: shown,
                elapsed_ms: 0,
            },
            Box::new(ws),
        ));
    }
    let (body, truncated, incomplete) = read_body(&mut stream, &headers, rest, deadline).await;
    let mut a = HttpAnswer::new(status, &headers, body, truncated);
    a.body_incomplete = incomplete;
    Ok(WsOpen::Refused(a))
}

/// The status and headers of an HTTP/1.x answer head.
fn parse_head(head: &[u8]) -> Result<(u16, HeaderMap), NetError> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status.filter(|_| version.starts_with("HTTP/1.")) else {
        return Err(NetError::new(
            NetErrorKind::Protocol,
            "websocket upgrade",
            format!(
                "not an HTTP answer: {:?}",
                status_line.chars().take(80).collect::<String>()
            ),
        ));
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
    Ok((status, headers))
}

/// Reads a refusal's body to its end: Content-Length bytes, the chunked terminator, or the
/// end of the connection, at most [`super::net::BODY_CAP`] bytes and until `deadline`.
/// Returns the body, whether it was cut at the cap, and why it is incomplete if it is.
async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    headers: &HeaderMap,
    mut raw: Vec<u8>,
    deadline: TokioInstant,
) -> (Vec<u8>, bool, Option<String>) {
    let cap = super::net::BODY_CAP;
    let chunked = headers.get("transfer-encoding").is_some_and(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .to_ascii_lowercase()
            .contains("chunked")
    });
    let length = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let closes = headers
        .get("connection")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    // Without a length, chunking or Connection: close an HTTP/1.1 answer has no body.
    if !chunked && length.is_none() && !closes {
        return (Vec::new(), false, None);
    }
    loop {
        if chunked {
            let (body, complete) = dechunk_complete(&raw);
            if complete {
                let truncated = body.len() > cap;
                return (body.into_iter().take(cap).collect(), truncated, None);
            }
        } else if let Some(n) = length
            && raw.len() >= n
        {
            raw.truncate(n);
            let truncated = raw.len() > cap;
            raw.truncate(cap);
            return (raw, truncated, None);
        }
        if raw.len() > cap + 64 {
            let body = if chunked { dechunk(&raw) } else { raw };
            return (body.into_iter().take(cap).collect(), true, None);
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => {
                let body = if chunked { dechunk(&raw) } else { raw };
                return (
                    body,
                    false,
                    Some("the body did not end before the deadline".to_string()),
                );
            }
            Ok(Ok(0)) => {
                let body = if chunked { dechunk(&raw) } else { raw };
                let incomplete = (chunked || length.is_some_and(|n| body.len() < n))
                    .then(|| "the connection closed before the body ended".to_string());
                return (body, false, incomplete);
            }
            Ok(Err(e)) => {
                let body = if chunked { dechunk(&raw) } else { raw };
                return (body, false, Some(format!("reading the body failed: {e}")));
            }
            Ok(Ok(n)) => raw.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Decodes a chunked body as far as it goes, and says whether the last (size 0) chunk came.
pub fn dechunk_complete(raw: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        if size == 0 {
            return (out, true);
        }
        let start = eol + 2;
        let end = start.saturating_add(size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        if end + 2 > rest.len() {
            break;
        }
        rest = &rest[end + 2..];
    }
    (out, false)
}

/// Decodes a chunked body as far as it goes (the tail may be cut short).
pub fn dechunk(raw: &[u8]) -> Vec<u8> {
    dechunk_complete(raw).0
}

/// An Engine.IO session over a WebSocket. Pings (`2`) are answered with pongs (`3`) as a
/// client must, or the server drops the session after pingTimeout.
pub struct EioSocket {
    stream: Box<WsStream>,
    /// Packets received and sent (`<` / `>`), for the report.
    pub log: Vec<String>,
    pub pings: u32,
    /// When the websocket opened: a proxy's idle timeout counts from the last frame, and
    /// the first frames come right after the opening.
    pub opened: Instant,
}

impl EioSocket {
    pub fn new(stream: Box<WsStream>) -> Self {
        EioSocket {
            stream,
            log: Vec::new(),
            pings: 0,
            opened: Instant::now(),
        }
    }

    fn note(&mut self, dir: &str, text: &str) {
        if self.log.len() < LOG_CAP {
            let shown: String = text.chars().take(PACKET_SHOWN).collect();
            self.log.push(format!("{dir} {shown}"));
        }
    }

    pub async fn send(&mut self, text: &str, deadline: TokioInstant) -> Result<(), NetError> {
        self.note(">", text);
        match tokio::time::timeout_at(deadline, self.stream.send(Message::text(text))).await {
            Err(_) => Err(NetError::new(
                NetErrorKind::Timeout,
                "sending a websocket frame",
                "the deadline passed",
            )),
            Ok(Err(e)) => Err(classify(&e, "sending a websocket frame")),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// The next Engine.IO packet that is not a ping (pings are answered and counted).
    pub async fn recv(
        &mut self,
        deadline: TokioInstant,
        stage: &str,
    ) -> Result<EioPacket, NetError> {
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => {
                    return Err(NetError::new(
                        NetErrorKind::Timeout,
                        stage,
                        "no packet before the deadline",
                    ));
                }
                Ok(None) => {
                    return Err(NetError::new(
                        NetErrorKind::Reset,
                        stage,
                        "the connection was closed without a close frame",
                    ));
                }
                Ok(Some(Err(e))) => return Err(classify(&e, stage)),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => {
                    let text = t.as_str().to_string();
                    self.note("<", &text);
                    let Some(p) = EioPacket::parse(&text) else {
                        return Err(NetError::new(
                            NetErrorKind::Protocol,
                            stage,
                            format!(
                                "not an Engine.IO packet: {:?}",
                                text.chars().take(80).collect::<String>()
                            ),
                        ));
                    };
                    if p.kind == EioKind::Ping && p.data.is_empty() {
                        self.pings += 1;
                        self.send("3", deadline).await?;
                        continue;
                    }
                    return Ok(p);
                }
                Message::Binary(b) => self.note("<", &format!("<binary frame, {} bytes>", b.len())),
                Message::Close(frame) => {
                    let why = frame.map_or_else(
                        || "no close code".to_string(),
                        |f| format!("code {} {:?}", u16::from(f.code), f.reason.as_str()),
                    );
                    self.note("<", &format!("<close frame: {why}>"));
                    return Err(NetError::new(
                        NetErrorKind::Reset,
                        stage,
                        format!("the peer closed the websocket ({why})"),
                    ));
                }
                // tungstenite answers websocket-level pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Closes politely, without waiting long for the peer.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(200), (*self.stream).close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal written as gunicorn writes it: headers first, the chunked body in later
    /// writes (the bytes arrive in three reads).
    #[tokio::test]
    async fn a_body_written_after_the_headers_is_read_to_its_end() {
        let (mut server, mut client) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            for part in [
                &b"19\r\n\"Not an "[..],
                b"accepted origin.\"\r\n",
                b"0\r\n\r\n",
            ] {
                tokio::time::sleep(Duration::from_millis(20)).await;
                server.write_all(part).await.expect("write");
            }
            server
        });
        let (status, headers) =
            parse_head(b"HTTP/1.1 400 BAD REQUEST\r\nTransfer-Encoding: chunked\r\n\r\n")
                .expect("head");
        assert_eq!(status, 400);
        let deadline = TokioInstant::now() + Duration::from_secs(5);
        let (body, truncated, incomplete) =
            read_body(&mut client, &headers, Vec::new(), deadline).await;
        assert_eq!(body, b"\"Not an accepted origin.\"".to_vec());
        assert!(!truncated);
        assert_eq!(incomplete, None);
        drop(writer.await);

        // A body the deadline cuts short is marked incomplete, not taken for the whole one.
        let (_server, mut client) = tokio::io::duplex(64);
        let (_, headers) =
            parse_head(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\n").expect("head");
        let deadline = TokioInstant::now() + Duration::from_millis(50);
        let (body, _, incomplete) =
            read_body(&mut client, &headers, b"abc".to_vec(), deadline).await;
        assert_eq!(body, b"abc".to_vec());
        assert!(incomplete.is_some());
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn dechunks_nginx_error_bodies() {
        assert_eq!(
            dechunk(b"1b\r\n\"Invalid websocket upgrade\"\r\n0\r\n\r\n"),
            b"\"Invalid websocket upgrade\"".to_vec()
        );
        assert_eq!(dechunk(b"5\r\nabc"), b"abc".to_vec());
        assert_eq!(dechunk(b"zz\r\nabc"), Vec::<u8>::new());
        assert_eq!(dechunk(b"ffffffffffffffffff\r\nabc"), Vec::<u8>::new());
    }
}
