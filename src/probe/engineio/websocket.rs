//! The WebSocket side of the probe (tokio-tungstenite over rustls): the upgrade request and
//! an Engine.IO session over the socket that answers pings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant as TokioInstant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

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

/// Sends the upgrade request. No `Origin` header unless `origin` is given: some clients send
/// their own URL as Origin by default, and a server with a CORS list then refuses even a
/// healthy handshake (ground-truth).
pub async fn open(
    url: &str,
    origin: Option<&str>,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> WsOpen {
    let started = Instant::now();
    let mut request = match url.into_client_request() {
        Ok(r) => r,
        Err(e) => return WsOpen::Failed(classify(&e, "building the websocket request")),
    };
    if let Some(o) = origin
        && let Ok(v) = o.parse()
    {
        request.headers_mut().insert("origin", v);
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let connector = match tls {
        Some(cfg) => Connector::Rustls(cfg),
        None => Connector::Plain,
    };
    let fut = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(connector),
    );
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => WsOpen::Failed(NetError::timeout(
            "waiting for the websocket upgrade",
            timeout,
        )),
        Ok(Ok((stream, resp))) => {
            let mut headers = Vec::new();
            for name in [
                "server",
                "upgrade",
                "connection",
                "sec-websocket-extensions",
            ] {
                for v in resp.headers().get_all(name) {
                    headers.push((
                        name.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into(),
                    ));
                }
            }
            WsOpen::Upgraded(
                UpgradeAnswer {
                    status: resp.status().as_u16(),
                    headers,
                    elapsed_ms: ms(started.elapsed()),
                },
                Box::new(stream),
            )
        }
        Ok(Err(WsError::Http(resp))) => {
            // tungstenite keeps what followed the headers in the same read as the body: enough
            // for the short texts servers and proxies answer with ("Invalid websocket upgrade").
            let status = resp.status().as_u16();
            let raw = resp.body().clone().unwrap_or_default();
            let chunked = resp
                .headers()
                .get("transfer-encoding")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
            // nginx sends error bodies chunked (`1b\r\n"Invalid websocket upgrade"\r\n0`):
            // tungstenite hands back the raw bytes.
            let mut body = if chunked { dechunk(&raw) } else { raw };
            let truncated = body.len() > super::net::BODY_CAP;
            body.truncate(super::net::BODY_CAP);
            let mut a = HttpAnswer::new(status, resp.headers(), body, truncated);
            a.elapsed_ms = ms(started.elapsed());
            WsOpen::Refused(a)
        }
        Ok(Err(e)) => WsOpen::Failed(classify(&e, "websocket upgrade")),
    }
}

/// Decodes a chunked body as far as it goes (the tail may be cut short).
pub fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = start.saturating_add(size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        if end + 2 > rest.len() {
            break;
        }
        rest = &rest[end + 2..];
    }
    out
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
    use super::dechunk;

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
