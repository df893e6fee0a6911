//! Engine.IO v4 / Socket.IO v5 text packet codec, client side, plus detection of the Engine.IO
//! v3 polling framing.
//!
//! Hand-written on purpose: the crates that parse these packets either come with a whole client
//! (rust_engineio / rust_socketio and their forks pull their own reqwest and tungstenite builds
//! and would hide the raw answers we must show), speak only Engine.IO v3 (`engine_io_parser`), or
//! are server-side (socketioxide's parsers). The probe needs only the text packets, ~150 lines.
//!
//! Wire format (socket.io-protocol / engine.io-protocol docs):
//! - Engine.IO packet = one type digit (`0` open, `1` close, `2` ping, `3` pong, `4` message,
//!   `5` upgrade, `6` noop) + data. v4 polling batches packets with the record separator `\x1e`.
//! - Engine.IO v3 polling frames each packet as `<len>:<packet>` (text, or with `b64=1`), or in
//!   binary as `\x00<len digits>\xff<packet>`.
//! - Socket.IO packet inside an Engine.IO message: one type digit (`0` CONNECT, `1` DISCONNECT,
//!   `2` EVENT, `3` ACK, `4` CONNECT_ERROR, …), an optional `/namespace,`, then JSON.

use serde::Serialize;
use serde_json::Value;

/// The record separator between packets of a v4 polling payload.
pub const RECORD_SEPARATOR: char = '\x1e';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EioKind {
    Open,
    Close,
    Ping,
    Pong,
    Message,
    Upgrade,
    Noop,
}

impl EioKind {
    fn from_digit(c: char) -> Option<Self> {
        Some(match c {
            '0' => Self::Open,
            '1' => Self::Close,
            '2' => Self::Ping,
            '3' => Self::Pong,
            '4' => Self::Message,
            '5' => Self::Upgrade,
            '6' => Self::Noop,
            _ => return None,
        })
    }
}

/// One Engine.IO packet, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EioPacket {
    pub kind: EioKind,
    pub data: String,
}

impl EioPacket {
    pub fn parse(text: &str) -> Option<Self> {
        let mut chars = text.chars();
        let kind = EioKind::from_digit(chars.next()?)?;
        Some(EioPacket {
            kind,
            data: chars.as_str().to_string(),
        })
    }
}

/// Splits a v4 polling payload at `\x1e`. `None` when a part is not an Engine.IO packet.
pub fn decode_v4_payload(body: &str) -> Option<Vec<EioPacket>> {
    body.split(RECORD_SEPARATOR).map(EioPacket::parse).collect()
}

/// Decodes an Engine.IO v3 polling payload: text `<len>:<packet>…` or binary
/// `\x00<digits>\xff<packet>…` (length counted in characters, as v3 servers do). `None` when
/// the body is not v3 framing: that is how an EIO=3 answer is told from a v4 one.
pub fn decode_v3_payload(body: &[u8]) -> Option<Vec<EioPacket>> {
    let mut packets = Vec::new();
    if body.first() == Some(&0) || body.first() == Some(&1) {
        let mut rest = body;
        while !rest.is_empty() {
            let is_string = match rest[0] {
                0 => true,
                1 => false,
                _ => return None,
            };
            let end = rest.iter().position(|b| *b == 0xff)?;
            if end == 0 {
                return None;
            }
            let mut len: usize = 0;
            for d in &rest[1..end] {
                if *d > 9 {
                    return None;
                }
                len = len.checked_mul(10)?.checked_add(usize::from(*d))?;
            }
            let start = end + 1;
            let stop = start.checked_add(len)?;
            let data = rest.get(start..stop)?;
            if is_string {
                packets.push(EioPacket::parse(std::str::from_utf8(data).ok()?)?);
            }
            rest = &rest[stop..];
        }
        return (!packets.is_empty()).then_some(packets);
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut rest = text;
    while !rest.is_empty() {
        let colon = rest.find(':')?;
        let len: usize = rest[..colon].parse().ok()?;
        let after = &rest[colon + 1..];
        // The length counts characters, not bytes.
        let byte_len = after
            .char_indices()
            .nth(len)
            .map_or(after.len(), |(i, _)| i);
        if after.chars().count() < len {
            return None;
        }
        packets.push(EioPacket::parse(&after[..byte_len])?);
        rest = &after[byte_len..];
    }
    (!packets.is_empty()).then_some(packets)
}

/// The Engine.IO open packet's JSON, as the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenPacket {
    pub sid: String,
    pub upgrades: Vec<String>,
    pub ping_interval_ms: Option<u64>,
    pub ping_timeout_ms: Option<u64>,
    pub max_payload: Option<u64>,
    /// The JSON as received (shown as evidence).
    pub raw: Value,
}

impl OpenPacket {
    pub fn parse(data: &str) -> Option<Self> {
        let raw: Value = serde_json::from_str(data).ok()?;
        let sid = raw.get("sid")?.as_str()?.to_string();
        let upgrades = raw
            .get("upgrades")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Some(OpenPacket {
            sid,
            upgrades,
            ping_interval_ms: raw.get("pingInterval").and_then(Value::as_u64),
            ping_timeout_ms: raw.get("pingTimeout").and_then(Value::as_u64),
            max_payload: raw.get("maxPayload").and_then(Value::as_u64),
            raw,
        })
    }

    pub fn offers_websocket(&self) -> bool {
        self.upgrades.iter().any(|u| u == "websocket")
    }
}

/// A Socket.IO packet of the kinds the probe reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SioPacket {
    /// `40[/ns,]{"sid":…}`: the namespace accepted the client.
    Connect { namespace: String, data: Value },
    /// `41[/ns,]`: the server disconnected the client from the namespace.
    Disconnect { namespace: String },
    /// `44[/ns,]{"message":…}` (v5) or `44[/ns,]"message"` (v4): CONNECT_ERROR.
    ConnectError { namespace: String, data: Value },
    /// Anything else (events, acks, binary): kept as text.
    Other { text: String },
}

impl SioPacket {
    /// Parses the data of an Engine.IO message packet (the text after the leading `4`).
    pub fn parse(text: &str) -> Option<Self> {
        let mut chars = text.chars();
        let kind = chars.next()?;
        let rest = chars.as_str();
        let (namespace, payload) = split_namespace(rest);
        let data = || -> Value {
            if payload.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(payload).unwrap_or_else(|_| Value::String(payload.into()))
            }
        };
        Some(match kind {
            '0' => SioPacket::Connect {
                namespace,
                data: data(),
            },
            '1' => SioPacket::Disconnect { namespace },
            '4' => SioPacket::ConnectError {
                namespace,
                data: data(),
            },
            '0'..='9' => SioPacket::Other {
                text: text.to_string(),
            },
            _ => return None,
        })
    }

    /// The namespace a connect, disconnect or connect-error packet is about.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            SioPacket::Connect { namespace, .. }
            | SioPacket::Disconnect { namespace }
            | SioPacket::ConnectError { namespace, .. } => Some(namespace),
            SioPacket::Other { .. } => None,
        }
    }
}

/// `/admin,{…}` → (`/admin`, `{…}`); no leading `/` → (`/`, everything).
fn split_namespace(rest: &str) -> (String, &str) {
    if rest.starts_with('/') {
        match rest.find(',') {
            Some(i) => (rest[..i].to_string(), &rest[i + 1..]),
            None => (rest.to_string(), ""),
        }
    } else {
        ("/".to_string(), rest)
    }
}

/// The Engine.IO message that asks to join `namespace`, with `auth` as the CONNECT payload:
/// `40`, `40{"token":"…"}`, `40/admin,{…}`.
pub fn connect_message(namespace: &str, auth: Option<&Value>) -> String {
    let mut s = String::from("40");
    if namespace != "/" && !namespace.is_empty() {
        s.push_str(namespace);
        s.push(',');
    }
    if let Some(a) = auth {
        s.push_str(&a.to_string());
    }
    s
}

/// The message of a CONNECT_ERROR payload (`{"message": …}` in v5, a bare string in v4).
pub fn connect_error_message(data: &Value) -> String {
    match data {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| data.to_string(), str::to_string),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The message of an Engine.IO error answer: python-engineio sends a JSON string
/// (`"Invalid transport"`), Node engine.io an object (`{"code":0,"message":"Transport
/// unknown"}`). `None` when the body is neither.
pub fn engineio_error_message(body: &str) -> Option<String> {
    match serde_json::from_str::<Value>(body.trim()).ok()? {
        Value::String(s) => Some(s),
        Value::Object(m) => m.get("message").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Phrases Engine.IO servers put in their refusals (python-engineio, Node engine.io,
/// socketioxide), lower-cased. An answer carrying one comes from an Engine.IO server even
/// when its body is not JSON.
pub const ENGINEIO_REFUSALS: [&str; 10] = [
    "invalid transport",
    "transport unknown",
    "unknown transport",
    "unsupported version",
    "unsupported protocol version",
    "invalid session",
    "session id unknown",
    "unknown session",
    "not an accepted origin",
    "bad handshake method",
];

/// Whether a body names the unsupported-protocol-version refusal.
pub fn is_version_refusal(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("unsupported version") || b.contains("unsupported protocol version")
}

/// Whether a body names the unknown-session refusal (`Invalid session <sid>` from
/// python-engineio, `Session ID unknown` from Node engine.io).
pub fn is_unknown_session(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("invalid session")
        || b.contains("session id unknown")
        || b.contains("unknown session")
}

/// Whether a body names the transport refusal of a server that does not accept polling
/// (python-engineio `"Invalid transport"`, Node `Transport unknown`).
pub fn is_transport_refusal(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("invalid transport")
        || b.contains("transport unknown")
        || b.contains("unknown transport")
}

/// Whether an HTTP answer to a polling request came from an Engine.IO server: an open packet
/// (v4 or v3 framing) or one of the known refusals.
pub fn is_engineio_answer(status: u16, body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    if status == 200 {
        let v4_open = decode_v4_payload(&text)
            .and_then(|p| p.into_iter().next())
            .is_some_and(|p| p.kind == EioKind::Open);
        return v4_open || decode_v3_payload(body).is_some();
    }
    if !(400..500).contains(&status) || status == 404 {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    ENGINEIO_REFUSALS.iter().any(|r| lower.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_batch_with_ping_and_connect() {
        let p = decode_v4_payload("2\u{1e}40{\"sid\":\"abc\"}").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].kind, EioKind::Ping);
        assert_eq!(p[1].kind, EioKind::Message);
        assert_eq!(
            SioPacket::parse(&p[1].data),
            Some(SioPacket::Connect {
                namespace: "/".into(),
                data: serde_json::json!({"sid": "abc"})
            })
        );
    }

    #[test]
    fn open_packet_fields() {
        let p = decode_v4_payload(
            r#"0{"sid":"x","upgrades":["websocket"],"pingTimeout":20000,"pingInterval":25000,"maxPayload":1000000}"#,
        )
        .unwrap();
        let open = OpenPacket::parse(&p[0].data).unwrap();
        assert_eq!(open.sid, "x");
        assert!(open.offers_websocket());
        assert_eq!(open.ping_interval_ms, Some(25000));
        assert_eq!(open.max_payload, Some(1_000_000));
    }

    #[test]
    fn not_a_payload() {
        assert!(decode_v4_payload("Not Found").is_none());
        assert!(decode_v4_payload("").is_none());
        assert!(decode_v3_payload(b"\"Invalid transport\"").is_none());
        assert!(decode_v3_payload(b"0{\"sid\":1}").is_none());
    }

    #[test]
    fn v3_text_and_binary_framing() {
        let body = "97:0{\"sid\":\"s\",\"upgrades\":[\"websocket\"],\"pingTimeout\":60000,\"pingInterval\":25000}2:40";
        let open_len = "0{\"sid\":\"s\",\"upgrades\":[\"websocket\"],\"pingTimeout\":60000,\"pingInterval\":25000}".len();
        let body = body.replacen("97", &open_len.to_string(), 1);
        let p = decode_v3_payload(body.as_bytes()).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].kind, EioKind::Open);
        assert_eq!(p[1].data, "0");
        let mut bin = vec![0u8, 1, 1, 0xff];
        bin.extend_from_slice(b"0{\"sid\":\"abcdefg\"}");
        let bin_open_len = b"0{\"sid\":\"abcdefg\"}".len();
        assert_eq!(bin_open_len, 18);
        bin[1] = 1;
        bin[2] = 8;
        let p = decode_v3_payload(&bin).unwrap();
        assert_eq!(OpenPacket::parse(&p[0].data).unwrap().sid, "abcdefg");
        // A truncated or hostile length does not panic.
        assert!(decode_v3_payload(b"99999999999999999999999:0").is_none());
        assert!(decode_v3_payload(&[0, 9, 9, 9, 0xff, b'0']).is_none());
    }

    #[test]
    fn hostile_payloads_never_panic() {
        // Every byte string of length ≤ 4 over the bytes that matter to the framings.
        let alphabet: [u8; 9] = [0, 1, 0xff, b'0', b'4', b'9', b':', 0x1e, b'{'];
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let next: Vec<Vec<u8>> = inputs
                .iter()
                .flat_map(|p| {
                    alphabet.iter().map(move |b| {
                        let mut v = p.clone();
                        v.push(*b);
                        v
                    })
                })
                .collect();
            inputs.extend(next);
        }
        for input in &inputs {
            let _ = decode_v3_payload(input);
            let text = String::from_utf8_lossy(input);
            let _ = decode_v4_payload(&text);
            let _ = SioPacket::parse(&text);
            let _ = OpenPacket::parse(&text);
            let _ = engineio_error_message(&text);
            let _ = is_engineio_answer(200, input);
        }
    }

    #[test]
    fn socketio_packets() {
        assert_eq!(
            SioPacket::parse(r#"4{"message":"authentication failed"}"#),
            Some(SioPacket::ConnectError {
                namespace: "/".into(),
                data: serde_json::json!({"message": "authentication failed"})
            })
        );
        assert_eq!(
            SioPacket::parse("1/admin,"),
            Some(SioPacket::Disconnect {
                namespace: "/admin".into()
            })
        );
        assert_eq!(
            connect_error_message(&serde_json::json!({"message": "nope"})),
            "nope"
        );
        assert_eq!(connect_message("/", None), "40");
        assert_eq!(
            connect_message("/admin", Some(&serde_json::json!({"token": "t"}))),
            r#"40/admin,{"token":"t"}"#
        );
        assert_eq!(SioPacket::parse(""), None);
    }

    #[test]
    fn engineio_refusals() {
        assert_eq!(
            engineio_error_message("\"Invalid transport\""),
            Some("Invalid transport".into())
        );
        assert_eq!(
            engineio_error_message(r#"{"code":1,"message":"Session ID unknown"}"#),
            Some("Session ID unknown".into())
        );
        assert!(is_engineio_answer(400, b"\"Invalid transport\""));
        assert!(is_engineio_answer(
            400,
            b"\"The client is using an unsupported version of the Socket.IO or Engine.IO protocols\""
        ));
        assert!(!is_engineio_answer(404, b"Not Found"));
        assert!(!is_engineio_answer(200, b"<!doctype html><html>"));
        assert!(!is_engineio_answer(502, b"<html>502 Bad Gateway</html>"));
        assert!(is_unknown_session("\"Invalid session abc\""));
        assert!(is_version_refusal(
            r#"{"code":5,"message":"Unsupported protocol version"}"#
        ));
    }
}
