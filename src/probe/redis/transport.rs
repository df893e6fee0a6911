//! Reaching a Redis: DNS, TCP and TLS done here, each within what is left of the probe's
//! [`Budget`], so a failure is named by the stage that failed (redis-rs folds them all into one I/O error). The
//! connected stream is then handed to redis-rs' `MultiplexedConnection` with an empty
//! handshake (no HELLO, no AUTH, no `CLIENT SETINFO`, no SELECT): the probe sends AUTH and
//! SELECT itself, so their answers are observed one by one.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use redis::{RedisConnectionInfo, Value};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::budget::Budget;
use super::target::HostPort;

/// The stage at which reaching the server failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectFailureKind {
    /// The name does not resolve.
    Dns,
    /// Resolution did not finish within the budget.
    DnsTimeout,
    /// The host answered the SYN with a reset: nothing listens on that port.
    Refused,
    /// No answer to the SYN within the budget (firewall drop, wrong address).
    Timeout,
    /// The network or host is unreachable (no route).
    Unreachable,
    /// Any other socket error.
    Other,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectFailure {
    pub kind: ConnectFailureKind,
    pub message: String,
    /// The addresses the name resolved to (empty when DNS failed).
    pub resolved: Vec<String>,
}

/// What a TLS handshake failure means, read from the rustls error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsFailureKind {
    /// The certificate chain does not end at a trusted CA.
    UntrustedCertificate,
    /// The certificate is not valid for the host name used.
    NameMismatch,
    /// Expired or not yet valid.
    Expired,
    /// The peer answered with something that is not TLS (a plain Redis port).
    NotTls,
    /// The peer closed the connection during the handshake.
    Closed,
    /// No handshake answer within the budget.
    Timeout,
    Other,
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsFailure {
    pub kind: TlsFailureKind,
    pub message: String,
}

/// Any stream the probe can speak RESP over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Resolves `addr` and opens a TCP connection, within what is left of `budget`.
pub async fn tcp_connect(
    addr: &HostPort,
    budget: &Budget,
) -> Result<(TcpStream, SocketAddr, Vec<String>), ConnectFailure> {
    let started = tokio::time::Instant::now();
    let lookup = budget
        .run(tokio::net::lookup_host((addr.host.as_str(), addr.port)))
        .await;
    let addrs: Vec<SocketAddr> = match lookup {
        None => {
            return Err(ConnectFailure {
                kind: ConnectFailureKind::DnsTimeout,
                message: format!(
                    "resolving '{}' did not finish within {}",
                    addr.host,
                    budget.waited_since(started)
                ),
                resolved: Vec::new(),
            });
        }
        Some(Err(e)) => {
            return Err(ConnectFailure {
                kind: ConnectFailureKind::Dns,
                message: format!("'{}' does not resolve: {e}", addr.host),
                resolved: Vec::new(),
            });
        }
        Some(Ok(it)) => it.collect(),
    };
    let resolved: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    if addrs.is_empty() {
        return Err(ConnectFailure {
            kind: ConnectFailureKind::Dns,
            message: format!("'{}' resolved to no address", addr.host),
            resolved,
        });
    }
    let mut last: Option<ConnectFailure> = None;
    for a in &addrs {
        if budget.is_spent() {
            break;
        }
        let tried = tokio::time::Instant::now();
        match budget.run(TcpStream::connect(a)).await {
            Some(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, *a, resolved));
            }
            Some(Err(e)) => {
                let kind = match e.kind() {
                    std::io::ErrorKind::ConnectionRefused => ConnectFailureKind::Refused,
                    std::io::ErrorKind::TimedOut => ConnectFailureKind::Timeout,
                    std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::AddrNotAvailable => ConnectFailureKind::Unreachable,
                    _ => ConnectFailureKind::Other,
                };
                last = Some(ConnectFailure {
                    kind,
                    message: format!("connecting to {a}: {e}"),
                    resolved: resolved.clone(),
                });
            }
            None => {
                last = Some(ConnectFailure {
                    kind: ConnectFailureKind::Timeout,
                    message: format!(
                        "no answer from {a} within {} (the TCP handshake did not complete)",
                        budget.waited_since(tried)
                    ),
                    resolved: resolved.clone(),
                });
            }
        }
    }
    Err(last.unwrap_or(ConnectFailure {
        kind: ConnectFailureKind::Timeout,
        message: format!(
            "no connection within {} (the --timeout budget was spent before the TCP handshake)",
            budget.describe()
        ),
        resolved,
    }))
}

/// Accepts any certificate: only for `#insecure`, redis-rs' own opt-out, which the user
/// asked for explicitly.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config(insecure: bool) -> Result<rustls::ClientConfig, TlsFailure> {
    let other = |e: String| TlsFailure {
        kind: TlsFailureKind::Other,
        message: e,
    };
    if insecure {
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        return Ok(
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| other(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth(),
        );
    }
    // The OS trust store, honouring SSL_CERT_FILE / SSL_CERT_DIR (dependency-notes §4.2):
    // the same store the HTTP and WebSocket probes use.
    use rustls_platform_verifier::ConfigVerifierExt;
    rustls::ClientConfig::with_platform_verifier().map_err(|e| other(e.to_string()))
}

/// Runs a TLS handshake over `tcp` within what is left of `budget`.
pub async fn tls_handshake(
    tcp: TcpStream,
    host: &str,
    insecure: bool,
    budget: &Budget,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TlsFailure> {
    let config = tls_config(insecure)?;
    let name =
        rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| TlsFailure {
            kind: TlsFailureKind::Other,
            message: format!("'{host}' is not a valid TLS server name: {e}"),
        })?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let started = tokio::time::Instant::now();
    match budget.run(connector.connect(name, tcp)).await {
        None => Err(TlsFailure {
            kind: TlsFailureKind::Timeout,
            message: format!(
                "no TLS handshake answer within {}",
                budget.waited_since(started)
            ),
        }),
        Some(Ok(s)) => Ok(s),
        Some(Err(e)) => Err(classify_tls_error(&e)),
    }
}

fn classify_tls_error(e: &std::io::Error) -> TlsFailure {
    use rustls::{CertificateError, Error as TlsError};
    let inner = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>());
    let kind = match inner {
        Some(TlsError::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                TlsFailureKind::UntrustedCertificate
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailureKind::NameMismatch
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFailureKind::Expired,
            _ => TlsFailureKind::Other,
        },
        Some(TlsError::InvalidMessage(_)) | Some(TlsError::InappropriateMessage { .. }) => {
            TlsFailureKind::NotTls
        }
        Some(_) => TlsFailureKind::Other,
        None => match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => TlsFailureKind::Closed,
            _ => TlsFailureKind::Other,
        },
    };
    TlsFailure {
        kind,
        message: e.to_string(),
    }
}

/// Why a command got no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CmdErrorKind {
    /// `NOAUTH Authentication required.`
    NoAuth,
    /// `WRONGPASS invalid username-password pair or user is disabled.`
    WrongPass,
    /// `NOPERM …`: the ACL forbids the command.
    NoPerm,
    /// `ERR unknown command` / `unknown subcommand`: renamed (`rename-command CONFIG ""`) or
    /// absent in this server.
    UnknownCommand,
    /// `ERR max number of clients reached` (sent on accept, then the server closes).
    MaxClients,
    /// `ERR AUTH <password> called without any password configured for the default user`.
    NoPasswordConfigured,
    /// `LOADING Redis is loading the dataset in memory`.
    Loading,
    /// `DENIED Redis is running in protected mode …`: no password set and the client is not
    /// on loopback; sent on accept, then the server closes.
    ProtectedMode,
    /// Any other error reply.
    ServerError,
    /// No answer before the probe's time budget ran out.
    Timeout,
    /// The connection was closed before an answer.
    Closed,
    /// The server sent bytes that are not a RESP reply, or more than [`MAX_READ_BYTES`]
    /// (something other than Redis, or a hostile server).
    Protocol,
    /// Any other client-side error (unexpected reply shape, socket error).
    Client,
}

#[derive(Debug, Clone, Serialize)]
pub struct CmdError {
    pub kind: CmdErrorKind,
    pub message: String,
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl CmdError {
    pub fn new(kind: CmdErrorKind, message: impl Into<String>) -> Self {
        CmdError {
            kind,
            message: message.into(),
        }
    }

    /// Classifies a redis-rs error by the server's error code and text.
    pub fn from_redis(e: &redis::RedisError) -> CmdError {
        let code = e.code().unwrap_or("");
        let detail = e.detail().unwrap_or("");
        let text = if code.is_empty() {
            e.to_string()
        } else {
            format!("{code} {detail}").trim().to_string()
        };
        Self::classify(code, detail, text, e)
    }

    /// Classifies an error line the server sent unasked (`-ERR max number of clients
    /// reached`, `-DENIED Redis is running in protected mode …`) before closing.
    pub fn from_server_line(line: &str) -> CmdError {
        let line = line.trim().trim_start_matches('-');
        let (code, detail) = line.split_once(' ').unwrap_or((line, ""));
        let lower = detail.to_ascii_lowercase();
        let kind = match code {
            "ERR" if lower.contains("max number of clients") => CmdErrorKind::MaxClients,
            "DENIED" => CmdErrorKind::ProtectedMode,
            _ => CmdErrorKind::ServerError,
        };
        CmdError::new(kind, line.to_string())
    }

    fn classify(code: &str, detail: &str, text: String, e: &redis::RedisError) -> CmdError {
        let lower = detail.to_ascii_lowercase();
        let kind = match code {
            "NOAUTH" => CmdErrorKind::NoAuth,
            "WRONGPASS" => CmdErrorKind::WrongPass,
            "NOPERM" => CmdErrorKind::NoPerm,
            "LOADING" => CmdErrorKind::Loading,
            "DENIED" => CmdErrorKind::ProtectedMode,
            "ERR" if lower.contains("max number of clients") => CmdErrorKind::MaxClients,
            "ERR" if lower.contains("without any password configured") => {
                CmdErrorKind::NoPasswordConfigured
            }
            "ERR" if lower.contains("unknown command") || lower.contains("unknown subcommand") => {
                CmdErrorKind::UnknownCommand
            }
            // Redis < 6 answers `AUTH user pass` this way: no ACL users.
            "ERR" if lower.contains("invalid password") => CmdErrorKind::WrongPass,
            "" => {
                if e.is_timeout() {
                    CmdErrorKind::Timeout
                } else if e.kind() == redis::ErrorKind::Parse || text.contains("Parse error") {
                    CmdErrorKind::Protocol
                } else if e.is_connection_dropped() || e.is_io_error() {
                    CmdErrorKind::Closed
                } else {
                    CmdErrorKind::Client
                }
            }
            _ => CmdErrorKind::ServerError,
        };
        CmdError {
            kind,
            message: text,
        }
    }
}

/// One open connection and the task that drives it; dropping it closes the socket.
pub struct Session {
    con: MultiplexedConnection,
    driver: JoinHandle<()>,
    budget: Budget,
    /// Set once the server sent more than [`MAX_READ_BYTES`].
    over_read_limit: Arc<AtomicBool>,
    /// The error that ended the conversation (a timeout, a closed connection, a reply that
    /// is not RESP): later commands fail with it at once instead of each waiting.
    /// RESP answers in order, so nothing can come after an answer that never came.
    dead: Option<CmdError>,
    /// Names of the commands sent, in order (for the report's evidence and the tests).
    pub sent: Vec<String>,
    /// The command that was waiting when the budget ran out.
    pub ran_out_on: Option<String>,
}

/// The most a session reads from one server: CLIENT LIST of a Redis at its default
/// `maxclients 10000` is about 3 MiB; a server streaming a `$2147483647` bulk string is cut
/// off here instead of growing redis-rs' buffer for the whole budget.
pub const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// A stream that fails reads once [`MAX_READ_BYTES`] have been read through it.
struct Capped {
    inner: Box<dyn Io>,
    left: u64,
    over_read_limit: Arc<AtomicBool>,
}

impl AsyncRead for Capped {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.left == 0 {
            self.over_read_limit.store(true, Ordering::Relaxed);
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "reply too large",
            )));
        }
        // The last read may go past the read limit by one buffer (redis-rs reads 8 KiB at a
        // time); the next one fails.
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.left = self.left.saturating_sub(n);
        r
    }
}

impl AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Session {
    /// Wraps a connected stream. redis-rs sends nothing here: the connection info has no
    /// password, db 0, RESP2 and `CLIENT SETINFO` switched off.
    pub async fn start(stream: Box<dyn Io>, budget: &Budget) -> Result<Session, CmdError> {
        let info = RedisConnectionInfo::default().set_skip_set_lib_name();
        // redis-rs' own response timeout never fires first: every wait ends with the budget.
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(Some(budget.total() + Duration::from_secs(1)));
        let over_read_limit = Arc::new(AtomicBool::new(false));
        let stream = Capped {
            inner: stream,
            left: MAX_READ_BYTES,
            over_read_limit: Arc::clone(&over_read_limit),
        };
        let (con, driver) = budget
            .run(MultiplexedConnection::new_with_config(
                &info, stream, config,
            ))
            .await
            .ok_or_else(|| CmdError::new(CmdErrorKind::Timeout, "connection setup timed out"))?
            .map_err(|e| CmdError::from_redis(&e))?;
        let driver = tokio::spawn(driver);
        Ok(Session {
            con,
            driver,
            budget: *budget,
            over_read_limit,
            dead: None,
            sent: Vec::new(),
            ran_out_on: None,
        })
    }

    /// Sends one command (name and arguments) and waits for its answer within what is left
    /// of the budget. `label` is what the report calls the command (never its arguments:
    /// AUTH carries the password).
    pub async fn cmd(&mut self, label: &str, args: &[&str]) -> Result<Value, CmdError> {
        if let Some(e) = &self.dead {
            return Err(CmdError::new(
                e.kind,
                format!("{label} not sent: an earlier command got no answer ({e})"),
            ));
        }
        if self.budget.is_spent() {
            return Err(CmdError::new(
                CmdErrorKind::Timeout,
                format!(
                    "{label} not sent: the --timeout budget of {} was spent",
                    self.budget.describe()
                ),
            ));
        }
        let r = self.send(label, args).await;
        if self.over_read_limit.load(Ordering::Relaxed) {
            let e = CmdError::new(
                CmdErrorKind::Protocol,
                format!(
                    "the answer to {label} went past {} MiB: refused (not a Redis reply, or a hostile server)",
                    MAX_READ_BYTES / (1024 * 1024)
                ),
            );
            self.dead = Some(e.clone());
            return Err(e);
        }
        if let Err(e) = &r
            && matches!(
                e.kind,
                CmdErrorKind::Timeout | CmdErrorKind::Closed | CmdErrorKind::Protocol
            )
        {
            if e.kind == CmdErrorKind::Timeout {
                self.ran_out_on = Some(label.to_string());
            }
            self.dead = Some(e.clone());
        }
        r
    }

    async fn send(&mut self, label: &str, args: &[&str]) -> Result<Value, CmdError> {
        self.sent.push(label.to_string());
        let Some((name, rest)) = args.split_first() else {
            return Err(CmdError::new(CmdErrorKind::Client, "empty command"));
        };
        let mut c = redis::cmd(name);
        for a in rest {
            c.arg(*a);
        }
        let budget = self.budget;
        let sent_at = tokio::time::Instant::now();
        match budget.run(c.query_async::<Value>(&mut self.con)).await {
            None => Err(CmdError::new(
                CmdErrorKind::Timeout,
                format!(
                    "no answer to {label} within {}",
                    budget.waited_since(sent_at)
                ),
            )),
            Some(Err(e)) => Err(CmdError::from_redis(&e)),
            // RESP3 can carry an error as a value; the probe speaks RESP2, but be safe.
            Some(Ok(Value::ServerError(e))) => {
                Err(CmdError::from_redis(&redis::RedisError::from(e)))
            }
            Some(Ok(v)) => Ok(v),
        }
    }
}

/// Opens a second plain connection and listens, without sending anything, for a line the
/// server sends on accept before closing: Redis does this at `maxclients` (`-ERR max number
/// of clients reached`) and in protected mode (`-DENIED …`). Used only after the first
/// command failed with a closed connection (the write can fail before that line is read).
pub async fn listen_for_refusal(addr: &HostPort, budget: &Budget) -> Option<CmdError> {
    use tokio::io::AsyncReadExt;
    let (mut tcp, _, _) = tcp_connect(addr, budget).await.ok()?;
    let mut buf = [0u8; 512];
    // A healthy Redis sends nothing unasked: wait at most a second (and never past the
    // budget) for a refusal.
    let window = budget.remaining().min(Duration::from_secs(1));
    let n = tokio::time::timeout(window, tcp.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    let line = text.lines().next()?;
    line.starts_with('-')
        .then(|| CmdError::from_server_line(line))
}

/// Connects (TCP, then TLS when asked) and starts a session: used for sentinels and cluster
/// nodes, where only reachability and a few answers matter.
pub async fn open(addr: &HostPort, tls: Option<bool>, budget: &Budget) -> Result<Session, String> {
    let (tcp, _, _) = tcp_connect(addr, budget).await.map_err(|e| e.message)?;
    let stream: Box<dyn Io> = match tls {
        Some(insecure) => Box::new(
            tls_handshake(tcp, &addr.host, insecure, budget)
                .await
                .map_err(|e| format!("TLS: {}", e.message))?,
        ),
        None => Box::new(tcp),
    };
    Session::start(stream, budget).await.map_err(|e| e.message)
}

/// A bulk or simple string reply as text.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Okay => Some("OK".to_string()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

pub fn value_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        other => value_text(other).and_then(|s| s.trim().parse().ok()),
    }
}

/// The items of an array (or set) reply.
pub fn value_items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) | Value::Set(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// A flat `[k1, v1, k2, v2, …]` reply (CONFIG GET, PUBSUB NUMSUB, SENTINEL …) as pairs;
/// RESP3 maps are accepted too.
pub fn value_pairs(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| value_text(k).map(|k| (k, v.clone())))
            .collect(),
        _ => value_items(v)
            .chunks(2)
            .filter_map(|c| match c {
                [k, v] => value_text(k).map(|k| (k, (*v).clone())),
                _ => None,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_lines_sent_on_accept() {
        let e = CmdError::from_server_line("-ERR max number of clients reached\r");
        assert_eq!(e.kind, CmdErrorKind::MaxClients);
        assert_eq!(e.message, "ERR max number of clients reached");
        let e = CmdError::from_server_line(
            "-DENIED Redis is running in protected mode because protected mode is enabled",
        );
        assert_eq!(e.kind, CmdErrorKind::ProtectedMode);
        assert_eq!(
            CmdError::from_server_line("-ERR something").kind,
            CmdErrorKind::ServerError
        );
    }
}
