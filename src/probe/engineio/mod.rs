//! Live Engine.IO v4 / Socket.IO v5 probe.
//!
//! Gathers facts from a live endpoint and returns them as a [`WsObservations`]; it never
//! judges them (that is `checks::ws`).
//!
//! # Time model
//!
//! The whole probe has ONE budget, `--timeout` (default 3 s): a deadline fixed when the probe
//! starts, which every stage shares (each waits at most until that deadline, never a fresh
//! timeout of its own). The stages:
//!
//! 1. in order, each needing the one before: reachability (DNS, TCP, TLS), then path
//!    discovery with the polling handshake;
//! 2. then, at the same time: (a) the direct websocket handshake, then the Socket.IO CONNECT
//!    over it (over polling when only polling opened a session; the EIO=3 retry when neither
//!    did) and the take-back window after an accepted CONNECT; (b) the polling→websocket
//!    upgrade; (c) CORS with `--origin`; (d) the sticky-session rounds. None of these waits
//!    for another's answer: the sticky rounds use only Engine.IO packets the server answers
//!    at once (no Socket.IO answer), so a CONNECT that is never answered holds none of them;
//!    it only runs to the deadline itself. When polling opened a session, the websocket
//!    handshake in (a) gets half of the time left, so that a 101 followed by silence still
//!    leaves time for CONNECT over polling.
//! 3. `--hold` (the heartbeat) comes after, on the connected websocket session, for as long
//!    as the user asked: an explicit wait, outside the budget.
//!
//! A stage that depends on an answer that never came is not run and costs nothing (no
//! session → no CONNECT; no polling handshake → no upgrade and no sticky rounds); its check
//! says `skip` and names the cause. When the deadline passes, every stage keeps the evidence
//! it had gathered, and [`WsObservations::waiting`] names the stages that were still waiting
//! for an answer. A silent server therefore costs the budget once, not once per stage. Past
//! the deadline the probe only lets go: a session that timed out is dropped without the
//! polite close (which would wait on the server again); measured in `benches/ws.rs`, a server
//! that never answers CONNECT costs the budget + 10 ms.
//!
//! Every HTTP body (polling answers, and the refusal of a websocket upgrade, read by
//! [`websocket::open`] itself) is read to its end, at most [`net::BODY_CAP`] bytes and within
//! the same deadline; a body the deadline or the connection cut short is marked
//! [`net::HttpAnswer::body_incomplete`], never taken for an empty one.

pub mod codec;
pub mod net;
pub mod websocket;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant as TokioInstant;

use codec::{EioKind, OpenPacket, SioPacket};
use net::{HttpAnswer, HttpOutcome, NetError, NetErrorKind, Reachability, ms};
use websocket::{EioSocket, UpgradeAnswer, WsOpen};

/// The longest the probe keeps listening after `40{"sid"}`: a server with
/// `always_connect=True` (Open WebUI) sends the CONNECT ack before its connect handler runs,
/// then takes it back with `41` or `44` when the handler rejects the client (ground-truth).
pub const TAKE_BACK_WINDOW: Duration = Duration::from_millis(250);

/// The shortest listening window: room for a connect handler that looks a user up in a
/// database, on a server close by.
pub const TAKE_BACK_MIN: Duration = Duration::from_millis(100);

/// How long to listen for a take-back, scaled to how fast the server answered the CONNECT
/// (eight answer times, between TAKE_BACK_MIN and TAKE_BACK_WINDOW): a far server gets the
/// whole window, a local one does not make every run wait a quarter of a second.
pub fn take_back_window(answer_after: Duration, timeout: Duration) -> Duration {
    answer_after
        .saturating_mul(8)
        .clamp(TAKE_BACK_MIN, TAKE_BACK_WINDOW)
        .min(timeout)
}

/// The alternative socket.io path tried when the given one answers 404: Open WebUI and
/// Chainlit serve socket.io under `/ws/socket.io`.
pub const ALT_PATHS: [&str; 2] = ["/socket.io", "/ws/socket.io"];

/// What to probe and how.
#[derive(Debug, Clone)]
pub struct WsProbeOptions {
    pub target: Target,
    /// The Socket.IO auth payload sent with CONNECT (`--auth JSON`; `--token T` is
    /// `{"token": T}`). A secret: the command registers it for redaction.
    pub auth: Option<Value>,
    pub origin: Option<String>,
    /// Sticky-session rounds; 0 skips the test.
    pub rounds: u32,
    pub namespace: String,
    pub hold: Option<Duration>,
    pub timeout: Duration,
}

/// The endpoint, normalised: an http(s) base and a socket.io path.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// `scheme://host:port` with scheme http or https.
    pub base: String,
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// The socket.io path asked for, without a trailing slash (`/socket.io`).
    pub path: String,
    /// Whether the user named the path (`--path` or a path in the URL).
    pub path_explicit: bool,
}

impl Target {
    /// Parses `http(s)://` or `ws(s)://` URLs. The path comes from `path`, else from the URL,
    /// else `/socket.io`.
    pub fn parse(input: &str, path: Option<&str>) -> Result<Target, String> {
        let url = url::Url::parse(input.trim())
            .map_err(|e| format!("'{input}' is not a URL ({e}); try http://localhost:8080"))?;
        let tls = match url.scheme() {
            "http" | "ws" => false,
            "https" | "wss" => true,
            other => {
                return Err(format!(
                    "'{input}': scheme '{other}' is not http, https, ws or wss"
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("'{input}' has no host"))?
            .to_string();
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let url_path = url.path().trim_end_matches('/');
        let (path, explicit) = match path {
            Some(p) => (normalise_path(p), true),
            None if !url_path.is_empty() => (normalise_path(url_path), true),
            None => ("/socket.io".to_string(), false),
        };
        let scheme = if tls { "https" } else { "http" };
        let host_part = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        Ok(Target {
            base: format!("{scheme}://{host_part}:{port}"),
            host,
            port,
            tls,
            path,
            path_explicit: explicit,
        })
    }

    /// The Engine.IO URL for `path` with `query`, over http(s) or ws(s).
    pub fn url(&self, path: &str, websocket: bool, query: &str) -> String {
        let base = if websocket {
            self.base
                .replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1)
        } else {
            self.base.clone()
        };
        format!("{base}{path}/?{query}")
    }
}

fn normalise_path(p: &str) -> String {
    let p = p.trim().trim_end_matches('/');
    if p.is_empty() {
        "/socket.io".to_string()
    } else if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

/// One polling handshake tried at one path.
#[derive(Debug, Clone, Serialize)]
pub struct PathAttempt {
    pub path: String,
    pub url: String,
    #[serde(serialize_with = "net::serialize_outcome")]
    pub answer: HttpOutcome,
}

/// The direct websocket handshake.
#[derive(Debug, Clone, Serialize)]
pub struct WsHandshake {
    pub url: String,
    pub outcome: WsOutcome,
    /// The Engine.IO open packet read after the 101.
    pub open: Option<OpenPacket>,
    /// Why no open packet came after a 101.
    pub open_error: Option<NetError>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum WsOutcome {
    Upgraded(UpgradeAnswer),
    Refused(HttpAnswer),
    Failed(NetError),
}

impl WsOutcome {
    pub fn upgraded(&self) -> bool {
        matches!(self, WsOutcome::Upgraded(_))
    }
}

/// The Socket.IO CONNECT exchange.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectObs {
    /// `websocket` or `polling`.
    pub transport: &'static str,
    pub namespace: String,
    /// Whether an auth payload (`--auth` / `--token`) was sent.
    pub with_auth: bool,
    /// The server's answer for our namespace: CONNECT, CONNECT_ERROR or DISCONNECT.
    pub answer: Option<SioPacket>,
    /// A DISCONNECT or CONNECT_ERROR that followed an accepted CONNECT (always_connect).
    pub taken_back: Option<SioPacket>,
    pub error: Option<NetError>,
    /// Engine.IO packets exchanged, `>` sent and `<` received.
    pub packets: Vec<String>,
    /// Time from sending CONNECT to the answer.
    pub elapsed_ms: u64,
}

/// The polling → websocket upgrade (`2probe` / `3probe` / `5`).
#[derive(Debug, Clone, Serialize)]
pub struct UpgradeObs {
    /// The open packet of the polling session that was upgraded.
    pub open: Option<OpenPacket>,
    #[serde(serialize_with = "net::serialize_opt_outcome")]
    pub handshake: Option<HttpOutcome>,
    pub websocket: Option<WsOutcome>,
    /// The server's answer to `2probe` (`3probe` expected).
    pub probe_answer: Option<String>,
    /// `5` was sent after `3probe`.
    pub upgraded: bool,
    /// The answer to a CONNECT sent over the upgraded socket.
    pub after_upgrade: Option<SioPacket>,
    pub error: Option<NetError>,
    pub packets: Vec<String>,
    pub elapsed_ms: u64,
}

/// The same handshakes with the user's `Origin`.
#[derive(Debug, Clone, Serialize)]
pub struct CorsObs {
    pub origin: String,
    #[serde(serialize_with = "net::serialize_outcome")]
    pub polling: HttpOutcome,
    pub websocket: WsOutcome,
}

/// One sticky round that lost its session.
#[derive(Debug, Clone, Serialize)]
pub struct StickyFailure {
    pub round: u32,
    /// `handshake`, `POST 3` (an unsolicited pong) or `POST 1` (close).
    pub step: &'static str,
    pub status: Option<u16>,
    pub body_head: String,
    pub error: Option<NetError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StickyObs {
    pub rounds_planned: u32,
    pub rounds_run: u32,
    /// Rounds whose every request reached a worker that knew the sid.
    pub ok: u32,
    /// Rounds that lost their session (the request with the sid was refused).
    pub lost_session: u32,
    /// Rounds that failed for another reason (handshake refused, network error).
    pub other_failures: u32,
    /// The first failures, as evidence.
    pub failures: Vec<StickyFailure>,
    /// The test stopped early: a request timed out or the overall budget ran out.
    pub stopped: Option<String>,
    /// The probe's budget ran out before the planned rounds were done.
    pub out_of_time: bool,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeartbeatObs {
    pub hold_ms: u64,
    pub held_ms: u64,
    /// Server pings received (and answered) during the hold.
    pub pings: u32,
    pub ping_interval_ms: Option<u64>,
    pub ping_timeout_ms: Option<u64>,
    /// Why the connection ended before the hold did.
    pub closed: Option<NetError>,
    pub packets: Vec<String>,
}

/// Everything the probe found.
#[derive(Debug, Clone, Serialize)]
pub struct WsObservations {
    pub target: Target,
    pub namespace: String,
    pub reach: Reachability,
    /// Polling handshakes (EIO=4) per path tried, in order.
    pub path_attempts: Vec<PathAttempt>,
    /// The path the remaining steps used: the first that did not answer 404.
    pub path: String,
    pub websocket: Option<WsHandshake>,
    /// `GET ?EIO=3&transport=polling`, asked when no v4 handshake succeeded.
    pub eio3: Option<PathAttempt>,
    pub connect: Option<ConnectObs>,
    pub upgrade: Option<UpgradeObs>,
    pub cors: Option<CorsObs>,
    pub sticky: Option<StickyObs>,
    pub heartbeat: Option<HeartbeatObs>,
    /// Requested but not run, with why (e.g. "the server sent no HTTP answer").
    pub stopped: Option<String>,
    pub hold: Option<Duration>,
    pub rounds: u32,
    pub origin: Option<String>,
    /// The probe's one time budget (`--timeout`).
    pub budget_ms: u64,
    /// The stages that were still waiting for an answer when the budget ran out (empty when
    /// every stage finished in time).
    pub waiting: Vec<String>,
    pub elapsed_ms: u64,
}

impl WsObservations {
    /// The polling answer at the chosen path.
    pub fn polling(&self) -> Option<&PathAttempt> {
        self.path_attempts.iter().find(|a| a.path == self.path)
    }

    /// The open packet of the polling handshake at the chosen path.
    pub fn polling_open(&self) -> Option<OpenPacket> {
        match &self.polling()?.answer {
            Ok(a) if a.status == 200 => open_packet_of(&a.body),
            _ => None,
        }
    }
}

/// The open packet at the start of a v4 polling body.
pub fn open_packet_of(body: &[u8]) -> Option<OpenPacket> {
    let text = std::str::from_utf8(body).ok()?;
    let packets = codec::decode_v4_payload(text)?;
    let first = packets.first()?;
    (first.kind == EioKind::Open)
        .then(|| OpenPacket::parse(&first.data))
        .flatten()
}

/// The time left before `deadline` (zero once it passed).
fn left(deadline: TokioInstant) -> Duration {
    deadline.saturating_duration_since(TokioInstant::now())
}

/// The stages that ended waiting for an answer (a timeout), in probe order.
fn stages_waiting(obs: &WsObservations) -> Vec<String> {
    let timed_out = |e: &NetError| e.kind == NetErrorKind::Timeout;
    let mut w = Vec::new();
    if let Some(e) = obs.reach.error.as_ref().filter(|e| timed_out(e)) {
        w.push(format!("reachability ({})", e.stage));
    }
    for a in &obs.path_attempts {
        if matches!(&a.answer, Err(e) if timed_out(e)) {
            w.push(format!("polling handshake at {}", a.path));
        }
    }
    if let Some(ws) = &obs.websocket {
        match (&ws.outcome, &ws.open_error) {
            (WsOutcome::Failed(e), _) if timed_out(e) => w.push("websocket handshake".into()),
            (_, Some(e)) if timed_out(e) => {
                w.push("websocket handshake (the open packet)".into());
            }
            _ => {}
        }
    }
    if matches!(&obs.eio3, Some(PathAttempt { answer: Err(e), .. }) if timed_out(e)) {
        w.push("EIO=3 polling handshake".into());
    }
    if let Some(c) = &obs.connect
        && let Some(e) = c.error.as_ref().filter(|e| timed_out(e))
    {
        w.push(format!("socketio-connect ({})", e.stage));
    }
    if let Some(u) = &obs.upgrade {
        let e = u
            .error
            .as_ref()
            .or(u.handshake.as_ref().and_then(|h| h.as_ref().err()))
            .or(match &u.websocket {
                Some(WsOutcome::Failed(e)) => Some(e),
                _ => None,
            });
        if let Some(e) = e.filter(|e| timed_out(e)) {
            w.push(format!("upgrade ({})", e.stage));
        }
    }
    if let Some(c) = &obs.cors {
        let ws_timeout = matches!(&c.websocket, WsOutcome::Failed(e) if timed_out(e));
        if matches!(&c.polling, Err(e) if timed_out(e)) || ws_timeout {
            w.push("cors".into());
        }
    }
    if let Some(s) = &obs.sticky
        && s.out_of_time
    {
        w.push(format!(
            "sticky-session (round {} of {})",
            s.rounds_run, s.rounds_planned
        ));
    }
    w
}

/// Runs the whole probe.
pub async fn probe(opts: &WsProbeOptions) -> WsObservations {
    let started = Instant::now();
    let budget = opts.timeout;
    let deadline = TokioInstant::now() + budget;
    let target = opts.target.clone();
    let mut obs = WsObservations {
        target: target.clone(),
        namespace: opts.namespace.clone(),
        reach: Reachability {
            host: target.host.clone(),
            port: target.port,
            tls: target.tls,
            addresses: Vec::new(),
            connected: None,
            error: None,
            elapsed_ms: 0,
        },
        path_attempts: Vec::new(),
        path: target.path.clone(),
        websocket: None,
        eio3: None,
        connect: None,
        upgrade: None,
        cors: None,
        sticky: None,
        heartbeat: None,
        stopped: None,
        hold: opts.hold,
        rounds: opts.rounds,
        origin: opts.origin.clone(),
        budget_ms: ms(budget),
        waiting: Vec::new(),
        elapsed_ms: 0,
    };
    let tls = if target.tls {
        match net::tls_config() {
            Ok(c) => Some(c),
            Err(e) => {
                obs.reach.error = Some(e);
                obs.elapsed_ms = ms(started.elapsed());
                return obs;
            }
        }
    } else {
        None
    };

    obs.reach = net::reach(&target.host, target.port, tls.clone(), left(deadline)).await;
    if obs.reach.error.is_some() {
        obs.stopped = Some("the server could not be reached".into());
        obs.waiting = stages_waiting(&obs);
        obs.elapsed_ms = ms(started.elapsed());
        return obs;
    }
    let client = match net::http_client(tls.clone(), false) {
        Ok(c) => c,
        Err(e) => {
            obs.reach.error = Some(e);
            obs.elapsed_ms = ms(started.elapsed());
            return obs;
        }
    };

    // Path discovery: the given path first, then the usual alternatives while the answer is 404.
    let mut candidates = vec![target.path.clone()];
    for alt in ALT_PATHS {
        if !candidates.iter().any(|c| c == alt) {
            candidates.push(alt.to_string());
        }
    }
    for path in &candidates {
        let url = target.url(path, false, "EIO=4&transport=polling");
        let answer = net::send(client.get(&url), left(deadline)).await;
        // A 404, or a page that is not Engine.IO (an SPA catch-all answers 200 HTML for any
        // path), means socket.io is not here: try the next path.
        let not_found = matches!(&answer, Ok(a) if !codec::is_engineio_answer(a.status, &a.body));
        let silent = matches!(&answer, Err(e) if e.kind == NetErrorKind::Timeout);
        obs.path_attempts.push(PathAttempt {
            path: path.clone(),
            url,
            answer,
        });
        if silent {
            obs.stopped = Some(
                "the TCP connection opened but no HTTP answer came before the deadline".into(),
            );
            obs.waiting = stages_waiting(&obs);
            obs.elapsed_ms = ms(started.elapsed());
            return obs;
        }
        if !not_found {
            obs.path = path.clone();
            break;
        }
    }
    if !obs
        .path_attempts
        .iter()
        .any(|a| matches!(&a.answer, Ok(x) if codec::is_engineio_answer(x.status, &x.body)))
    {
        // Nothing answered like Engine.IO: keep the path asked for; the websocket handshake
        // below still gets a chance there.
        obs.path = target.path.clone();
    }
    let path = obs.path.clone();
    let polling_open = obs.polling_open();

    // Stage 2: the direct websocket handshake then CONNECT (with its take-back window), the
    // upgrade, CORS and the sticky rounds at the same time, each until the one deadline (see
    // the module docs).
    let auth = opts.auth.as_ref();
    let namespace = opts.namespace.as_str();
    let polling_answered_http =
        matches!(obs.polling().map(|a| &a.answer), Some(Ok(a)) if a.status != 404);
    let connect_stage = async {
        // The direct websocket handshake (a websocket-only server refuses polling with 400).
        // When polling opened a session, CONNECT can still go over polling if the websocket
        // fails: the handshake then gets half of what is left, so a 101 followed by silence
        // (gunicorn's sync and gthread workers under Flask-SocketIO) leaves time for it.
        let ws_deadline = if polling_open.is_some() {
            TokioInstant::now() + left(deadline) / 2
        } else {
            deadline
        };
        let ws_url = target.url(&path, true, "EIO=4&transport=websocket");
        let (ws, session) = direct_websocket(ws_url, tls.clone(), ws_deadline).await;
        // Neither transport opened a v4 session: a v3 server answers EIO=3 (only a retry tells
        // it apart, both versions refuse the other's with the same 400 text).
        let mut eio3 = None;
        if polling_open.is_none() && ws.open.is_none() && polling_answered_http {
            let url = target.url(&path, false, "EIO=3&transport=polling");
            let answer = net::send(client.get(&url), left(deadline)).await;
            eio3 = Some(PathAttempt {
                path: path.clone(),
                url,
                answer,
            });
        }
        let (connect, session) = if let Some((sock, open)) = session {
            let (c, sock) = connect_ws(sock, namespace, auth, left(deadline)).await;
            let usable = matches!(c.answer, Some(SioPacket::Connect { .. }))
                && c.taken_back.is_none()
                && c.error.is_none();
            if usable {
                (Some(c), Some((sock, open)))
            } else {
                // After the budget ran out, no polite close: it would wait on the server again.
                if !c
                    .error
                    .as_ref()
                    .is_some_and(|e| e.kind == NetErrorKind::Timeout)
                {
                    sock.close().await;
                }
                (Some(c), None)
            }
        } else if let Some(open) = &polling_open {
            let c = connect_polling(
                &client,
                &target,
                &path,
                open,
                namespace,
                auth,
                left(deadline),
            )
            .await;
            (Some(c), None)
        } else {
            (None, None)
        };
        (ws, eio3, connect, session)
    };
    let upgrade_stage = async {
        if polling_open
            .as_ref()
            .is_some_and(OpenPacket::offers_websocket)
        {
            Some(
                upgrade(
                    &client,
                    &target,
                    &path,
                    tls.clone(),
                    namespace,
                    auth,
                    left(deadline),
                )
                .await,
            )
        } else {
            None
        }
    };
    let cors_stage = async {
        let origin = opts.origin.as_ref()?;
        let headers = net::origin_headers(Some(origin));
        let url = target.url(&path, false, "EIO=4&transport=polling");
        let ws_url = target.url(&path, true, "EIO=4&transport=websocket");
        let (polling, websocket) = tokio::join!(
            net::send(client.get(&url).headers(headers), left(deadline)),
            async {
                match websocket::open(&ws_url, Some(origin), tls.clone(), left(deadline)).await {
                    WsOpen::Upgraded(a, stream) => {
                        EioSocket::new(stream).close().await;
                        WsOutcome::Upgraded(a)
                    }
                    WsOpen::Refused(a) => WsOutcome::Refused(a),
                    WsOpen::Failed(e) => WsOutcome::Failed(e),
                }
            }
        );
        Some(CorsObs {
            origin: origin.clone(),
            polling,
            websocket,
        })
    };
    let sticky_stage = async {
        if opts.rounds > 0 && polling_open.is_some() {
            Some(sticky_rounds(&target, &path, tls.clone(), opts.rounds, left(deadline)).await)
        } else {
            None
        }
    };
    let ((ws, eio3, connect, session), upgrade, cors, sticky) =
        tokio::join!(connect_stage, upgrade_stage, cors_stage, sticky_stage);
    obs.websocket = Some(ws);
    obs.eio3 = eio3;
    obs.connect = connect;
    obs.upgrade = upgrade;
    obs.cors = cors;
    obs.sticky = sticky;
    obs.waiting = stages_waiting(&obs);

    // Stage 3: the hold the user asked for, outside the budget.
    if let Some(hold) = opts.hold {
        if let Some((sock, open)) = session {
            obs.heartbeat = Some(heartbeat(sock, open.as_ref(), hold).await);
        }
    } else if let Some((sock, _)) = session {
        sock.close().await;
    }
    obs.elapsed_ms = ms(started.elapsed());
    obs
}

/// The direct websocket handshake (no sid) and its open packet, before `deadline`; the
/// session when it opened.
async fn direct_websocket(
    ws_url: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    deadline: TokioInstant,
) -> (WsHandshake, Option<(EioSocket, Option<OpenPacket>)>) {
    match websocket::open(&ws_url, None, tls, left(deadline)).await {
        WsOpen::Upgraded(answer, stream) => {
            let mut sock = EioSocket::new(stream);
            let (open, open_error) = match sock.recv(deadline, "waiting for the open packet").await
            {
                Ok(p) if p.kind == EioKind::Open => match OpenPacket::parse(&p.data) {
                    Some(o) => (Some(o), None),
                    None => (
                        None,
                        Some(NetError::new(
                            NetErrorKind::Protocol,
                            "reading the open packet",
                            format!("open packet without a sid: {}", p.data),
                        )),
                    ),
                },
                Ok(p) => (
                    None,
                    Some(NetError::new(
                        NetErrorKind::Protocol,
                        "waiting for the open packet",
                        format!("first packet was {:?} {}", p.kind, p.data),
                    )),
                ),
                Err(e) => (None, Some(e)),
            };
            let session = if open.is_some() {
                Some((sock, open.clone()))
            } else {
                sock.close().await;
                None
            };
            let hs = WsHandshake {
                url: ws_url,
                outcome: WsOutcome::Upgraded(answer),
                open,
                open_error,
            };
            (hs, session)
        }
        WsOpen::Refused(a) => (
            WsHandshake {
                url: ws_url,
                outcome: WsOutcome::Refused(a),
                open: None,
                open_error: None,
            },
            None,
        ),
        WsOpen::Failed(e) => (
            WsHandshake {
                url: ws_url,
                outcome: WsOutcome::Failed(e),
                open: None,
                open_error: None,
            },
            None,
        ),
    }
}

/// One websocket session from scratch: the upgrade, the open packet, CONNECT and its answer,
/// without the take-back wait. The core of the probe, timed by `benches/ws.rs`.
pub async fn websocket_connect(
    target: &Target,
    path: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    namespace: &str,
    auth: Option<&Value>,
    timeout: Duration,
) -> Result<SioPacket, NetError> {
    let url = target.url(path, true, "EIO=4&transport=websocket");
    let mut sock = match websocket::open(&url, None, tls, timeout).await {
        WsOpen::Upgraded(_, stream) => EioSocket::new(stream),
        WsOpen::Refused(a) => {
            return Err(NetError::new(
                NetErrorKind::Protocol,
                "websocket upgrade",
                format!("HTTP {}", a.status),
            ));
        }
        WsOpen::Failed(e) => return Err(e),
    };
    let deadline = TokioInstant::now() + timeout;
    let result = async {
        let open = sock.recv(deadline, "waiting for the open packet").await?;
        if open.kind != EioKind::Open {
            return Err(NetError::new(
                NetErrorKind::Protocol,
                "waiting for the open packet",
                format!("first packet was {:?}", open.kind),
            ));
        }
        sock.send(&codec::connect_message(namespace, auth), deadline)
            .await?;
        next_sio(
            &mut sock,
            deadline,
            namespace,
            "waiting for the CONNECT answer",
        )
        .await
    }
    .await;
    sock.close().await;
    result
}

/// Sends CONNECT on an open websocket session and waits for the answer, then briefly for a
/// take-back.
async fn connect_ws(
    mut sock: EioSocket,
    namespace: &str,
    auth: Option<&Value>,
    timeout: Duration,
) -> (ConnectObs, EioSocket) {
    let started = Instant::now();
    let mut c = ConnectObs {
        transport: "websocket",
        namespace: namespace.to_string(),
        with_auth: auth.is_some(),
        answer: None,
        taken_back: None,
        error: None,
        packets: Vec::new(),
        elapsed_ms: 0,
    };
    let deadline = TokioInstant::now() + timeout;
    if let Err(e) = sock
        .send(&codec::connect_message(namespace, auth), deadline)
        .await
    {
        c.error = Some(e);
    }
    while c.error.is_none() && c.answer.is_none() {
        match next_sio(
            &mut sock,
            deadline,
            namespace,
            "waiting for the CONNECT answer",
        )
        .await
        {
            Ok(p) => c.answer = Some(p),
            Err(e) => c.error = Some(e),
        }
    }
    c.elapsed_ms = ms(started.elapsed());
    if matches!(c.answer, Some(SioPacket::Connect { .. })) {
        let window = TokioInstant::now() + take_back_window(started.elapsed(), timeout);
        match next_sio(&mut sock, window, namespace, "after CONNECT").await {
            Ok(p) => c.taken_back = Some(p),
            Err(e) if e.kind == NetErrorKind::Timeout => {}
            Err(e) => c.error = Some(e),
        }
    }
    c.packets = sock.log.clone();
    (c, sock)
}

/// The next connect / disconnect / connect-error packet for `namespace` (events and noops are
/// skipped; an Engine.IO close ends the wait).
async fn next_sio(
    sock: &mut EioSocket,
    deadline: TokioInstant,
    namespace: &str,
    stage: &str,
) -> Result<SioPacket, NetError> {
    loop {
        let p = sock.recv(deadline, stage).await?;
        match p.kind {
            EioKind::Message => {
                if let Some(sp) = SioPacket::parse(&p.data)
                    && sp.namespace() == Some(namespace)
                {
                    return Ok(sp);
                }
            }
            EioKind::Close => {
                return Err(NetError::new(
                    NetErrorKind::Reset,
                    stage,
                    "the server closed the Engine.IO session (packet 1)",
                ));
            }
            _ => {}
        }
    }
}

/// CONNECT over polling: `POST 40` with the sid, then `GET` until the answer.
async fn connect_polling(
    client: &reqwest::Client,
    target: &Target,
    path: &str,
    open: &OpenPacket,
    namespace: &str,
    auth: Option<&Value>,
    timeout: Duration,
) -> ConnectObs {
    let started = Instant::now();
    let mut c = ConnectObs {
        transport: "polling",
        namespace: namespace.to_string(),
        with_auth: auth.is_some(),
        answer: None,
        taken_back: None,
        error: None,
        packets: Vec::new(),
        elapsed_ms: 0,
    };
    let url = target.url(
        path,
        false,
        &format!("EIO=4&transport=polling&sid={}", encode_query(&open.sid)),
    );
    let deadline = TokioInstant::now() + timeout;
    let msg = codec::connect_message(namespace, auth);
    c.packets.push(format!("> POST {msg}"));
    match post(client, &url, &msg, remaining(deadline)).await {
        Ok(a) if a.status == 200 => {}
        Ok(a) => {
            c.error = Some(NetError::new(
                NetErrorKind::Protocol,
                "POST of the CONNECT packet",
                format!("HTTP {}: {}", a.status, a.body_head),
            ));
        }
        Err(e) => c.error = Some(e),
    }
    let mut window: Option<TokioInstant> = None;
    while c.error.is_none() {
        let until = window.unwrap_or(deadline);
        let wait = remaining(until);
        if wait.is_zero() {
            if window.is_none() {
                c.error = Some(NetError::timeout("waiting for the CONNECT answer", timeout));
            }
            break;
        }
        let answer = match net::send(client.get(&url), wait).await {
            Err(e) if e.kind == NetErrorKind::Timeout => {
                if window.is_none() {
                    c.error = Some(NetError::timeout("waiting for the CONNECT answer", timeout));
                }
                break;
            }
            Err(e) => {
                c.error = Some(e);
                break;
            }
            Ok(a) => a,
        };
        if a_status_not_ok(&answer, &mut c) {
            break;
        }
        let text = answer.body_text();
        c.packets.push(format!(
            "< GET {}",
            text.chars().take(300).collect::<String>()
        ));
        let Some(packets) = codec::decode_v4_payload(&text) else {
            c.error = Some(NetError::new(
                NetErrorKind::Protocol,
                "reading a polling payload",
                format!("not an Engine.IO payload: {}", answer.body_head),
            ));
            break;
        };
        for p in packets {
            match p.kind {
                EioKind::Ping => {
                    c.packets.push("> POST 3".into());
                    let _ = post(client, &url, "3", remaining(deadline)).await;
                }
                EioKind::Close => {
                    c.error = Some(NetError::new(
                        NetErrorKind::Reset,
                        "polling",
                        "the server closed the Engine.IO session (packet 1)",
                    ));
                }
                EioKind::Message => {
                    if let Some(sp) = SioPacket::parse(&p.data)
                        && sp.namespace() == Some(namespace)
                    {
                        if c.answer.is_none() {
                            c.answer = Some(sp);
                        } else if c.taken_back.is_none() {
                            c.taken_back = Some(sp);
                        }
                    }
                }
                _ => {}
            }
        }
        match (&c.answer, &c.taken_back) {
            (Some(SioPacket::Connect { .. }), None) => {
                if window.is_none() {
                    c.elapsed_ms = ms(started.elapsed());
                    window =
                        Some(TokioInstant::now() + take_back_window(started.elapsed(), timeout));
                }
            }
            (Some(_), _) => break,
            (None, _) => {}
        }
    }
    if c.elapsed_ms == 0 {
        c.elapsed_ms = ms(started.elapsed());
    }
    c
}

/// Records a non-200 polling answer as the error; true when it was one.
fn a_status_not_ok(answer: &HttpAnswer, c: &mut ConnectObs) -> bool {
    if answer.status == 200 {
        return false;
    }
    c.error = Some(NetError::new(
        NetErrorKind::Protocol,
        "polling for the CONNECT answer",
        format!("HTTP {}: {}", answer.status, answer.body_head),
    ));
    true
}

async fn post(client: &reqwest::Client, url: &str, body: &str, timeout: Duration) -> HttpOutcome {
    net::send(
        client
            .post(url)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(body.to_string()),
        timeout,
    )
    .await
}

fn remaining(deadline: TokioInstant) -> Duration {
    deadline.saturating_duration_since(TokioInstant::now())
}

/// Characters a query value keeps as they are: RFC 3986 unreserved. Engine.IO sids use
/// `-` and `_`, and socketioxide compares the raw query value, so encoding them loses the
/// session ("Session ID unknown").
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode_query(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// A fresh polling session upgraded to websocket: `2probe` → `3probe`, then `5`, then a
/// CONNECT over the upgraded socket to show it carries messages.
async fn upgrade(
    client: &reqwest::Client,
    target: &Target,
    path: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    namespace: &str,
    auth: Option<&Value>,
    timeout: Duration,
) -> UpgradeObs {
    let started = Instant::now();
    let mut u = UpgradeObs {
        open: None,
        handshake: None,
        websocket: None,
        probe_answer: None,
        upgraded: false,
        after_upgrade: None,
        error: None,
        packets: Vec::new(),
        elapsed_ms: 0,
    };
    let url = target.url(path, false, "EIO=4&transport=polling");
    let answer = net::send(client.get(&url), timeout).await;
    let open = match &answer {
        Ok(a) if a.status == 200 => open_packet_of(&a.body),
        _ => None,
    };
    u.handshake = Some(answer);
    let Some(open) = open else {
        u.elapsed_ms = ms(started.elapsed());
        return u;
    };
    let ws_url = target.url(
        path,
        true,
        &format!("EIO=4&transport=websocket&sid={}", encode_query(&open.sid)),
    );
    u.open = Some(open);
    let mut sock = match websocket::open(&ws_url, None, tls, timeout).await {
        WsOpen::Upgraded(a, stream) => {
            u.websocket = Some(WsOutcome::Upgraded(a));
            EioSocket::new(stream)
        }
        WsOpen::Refused(a) => {
            u.websocket = Some(WsOutcome::Refused(a));
            u.elapsed_ms = ms(started.elapsed());
            return u;
        }
        WsOpen::Failed(e) => {
            u.websocket = Some(WsOutcome::Failed(e));
            u.elapsed_ms = ms(started.elapsed());
            return u;
        }
    };
    let deadline = TokioInstant::now() + timeout;
    let result: Result<(), NetError> = async {
        sock.send("2probe", deadline).await?;
        let p = loop {
            let p = sock.recv(deadline, "waiting for 3probe").await?;
            if p.kind != EioKind::Noop {
                break p;
            }
        };
        let text = format!("{}{}", kind_digit(p.kind), p.data);
        u.probe_answer = Some(text);
        if !(p.kind == EioKind::Pong && p.data == "probe") {
            return Ok(());
        }
        sock.send("5", deadline).await?;
        u.upgraded = true;
        sock.send(&codec::connect_message(namespace, auth), deadline)
            .await?;
        u.after_upgrade = Some(
            next_sio(
                &mut sock,
                deadline,
                namespace,
                "waiting for the CONNECT answer",
            )
            .await?,
        );
        Ok(())
    }
    .await;
    u.packets = sock.log.clone();
    match result {
        // After the budget ran out, no polite close: it would wait on the server again.
        Err(e) if e.kind == NetErrorKind::Timeout => u.error = Some(e),
        Err(e) => {
            u.error = Some(e);
            sock.close().await;
        }
        Ok(()) => sock.close().await,
    }
    u.elapsed_ms = ms(started.elapsed());
    u
}

fn kind_digit(k: EioKind) -> char {
    match k {
        EioKind::Open => '0',
        EioKind::Close => '1',
        EioKind::Ping => '2',
        EioKind::Pong => '3',
        EioKind::Message => '4',
        EioKind::Upgrade => '5',
        EioKind::Noop => '6',
    }
}

/// Failures kept as evidence.
const STICKY_SHOWN: usize = 5;

/// `rounds` × (polling handshake, `POST 3` with the sid, `POST 1` with the sid), each request
/// on a NEW TCP connection, as a load balancer may route each request anywhere, all before
/// `timeout` (the share of the probe's budget left to the test).
///
/// The two POSTs need no Socket.IO answer, so a connect handler that never answers cannot
/// hold the test: a worker that knows the sid answers each at once with 200 `ok`
/// (python-engineio 4.15 `async_server.py` `handle_request` POST → `socket.receive`: a PONG
/// before the server's first ping only re-arms nothing, a CLOSE closes the session; Node
/// engine.io 6.6 `lib/socket.ts` `onPacket` "pong" refreshes the ping timer and
/// `lib/transports/polling.ts` `onData` closes on "close"; socketioxide likewise answers
/// `ok`). The closing `1` also frees the session instead of leaving it to the ping timeout.
/// A request that reaches a worker that does not know the sid gets 400 `"Invalid session
/// <sid>"` (python-engineio) or `{"code":1,"message":"Session ID unknown"}` (Node engine.io).
pub async fn sticky_rounds(
    target: &Target,
    path: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    rounds: u32,
    timeout: Duration,
) -> StickyObs {
    let started = Instant::now();
    let deadline = TokioInstant::now() + timeout;
    let mut s = StickyObs {
        rounds_planned: rounds,
        rounds_run: 0,
        ok: 0,
        lost_session: 0,
        other_failures: 0,
        failures: Vec::new(),
        stopped: None,
        out_of_time: false,
        elapsed_ms: 0,
    };
    let client = match net::http_client(tls, true) {
        Ok(c) => c,
        Err(e) => {
            s.stopped = Some(e.describe());
            return s;
        }
    };
    let hs_url = target.url(path, false, "EIO=4&transport=polling");
    let fresh = |rb: reqwest::RequestBuilder| rb.header("connection", "close");
    'rounds: for round in 1..=rounds {
        if left(deadline).is_zero() {
            s.out_of_time = true;
            s.stopped = Some(format!(
                "the probe's time budget ({}) ran out after {} of {rounds} rounds",
                humantime::format_duration(Duration::from_millis(ms(timeout))),
                s.rounds_run
            ));
            break;
        }
        s.rounds_run = round;
        let fail = |step, outcome: &HttpOutcome| StickyFailure {
            round,
            step,
            status: outcome.as_ref().ok().map(|a| a.status),
            body_head: outcome
                .as_ref()
                .map(|a| a.body_head.clone())
                .unwrap_or_default(),
            error: outcome.as_ref().err().cloned(),
        };
        let hs = net::send(fresh(client.get(&hs_url)), left(deadline)).await;
        let open = match &hs {
            Ok(a) if a.status == 200 => open_packet_of(&a.body),
            _ => None,
        };
        let Some(open) = open else {
            if matches!(&hs, Err(e) if e.kind == NetErrorKind::Timeout) && left(deadline).is_zero()
            {
                // The budget ran out during this round: not a failure of the server.
                s.rounds_run = round - 1;
                s.out_of_time = true;
                s.stopped = Some(format!(
                    "the probe's time budget ran out during round {round} (waiting for the \
                     handshake)"
                ));
                break;
            }
            s.other_failures += 1;
            if s.failures.len() < STICKY_SHOWN {
                s.failures.push(fail("handshake", &hs));
            }
            if matches!(&hs, Err(e) if e.kind == NetErrorKind::Timeout) {
                s.stopped = Some(format!("round {round}: the handshake timed out"));
                break;
            }
            continue;
        };
        let url = target.url(
            path,
            false,
            &format!("EIO=4&transport=polling&sid={}", encode_query(&open.sid)),
        );
        for (step, packet) in [("POST 3", "3"), ("POST 1", "1")] {
            let outcome = net::send(
                fresh(
                    client
                        .post(&url)
                        .header("content-type", "text/plain;charset=UTF-8")
                        .body(packet),
                ),
                left(deadline),
            )
            .await;
            match &outcome {
                Ok(a) if a.status == 200 => {}
                Ok(a) if a.status == 400 || a.status == 404 => {
                    s.lost_session += 1;
                    if s.failures.len() < STICKY_SHOWN {
                        s.failures.push(fail(step, &outcome));
                    }
                    continue 'rounds;
                }
                Err(e) if e.kind == NetErrorKind::Timeout && left(deadline).is_zero() => {
                    s.rounds_run = round - 1;
                    s.out_of_time = true;
                    s.stopped = Some(format!(
                        "the probe's time budget ran out during round {round} (waiting for \
                         the answer to {step})"
                    ));
                    break 'rounds;
                }
                other => {
                    s.other_failures += 1;
                    if s.failures.len() < STICKY_SHOWN {
                        s.failures.push(fail(step, other));
                    }
                    if matches!(other, Err(e) if e.kind == NetErrorKind::Timeout) {
                        s.stopped = Some(format!("round {round}: the {step} timed out"));
                        break 'rounds;
                    }
                    continue 'rounds;
                }
            }
        }
        s.ok += 1;
    }
    s.elapsed_ms = ms(started.elapsed());
    s
}

/// Stays connected for `hold`, answering pings, and records whether and when the connection
/// ended early.
async fn heartbeat(mut sock: EioSocket, open: Option<&OpenPacket>, hold: Duration) -> HeartbeatObs {
    // The hold counts from the websocket's opening: the connection has been open (and idle
    // apart from the CONNECT) since then, and that is what a proxy's idle timeout measures.
    let started = sock.opened;
    let pings_before = sock.pings;
    let log_before = sock.log.len();
    let end = TokioInstant::from_std(started) + hold;
    let mut closed = None;
    loop {
        match sock.recv(end, "holding the connection").await {
            Ok(p) if p.kind == EioKind::Close => {
                closed = Some(NetError::new(
                    NetErrorKind::Reset,
                    "holding the connection",
                    "the server closed the Engine.IO session (packet 1)",
                ));
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind == NetErrorKind::Timeout => break,
            Err(e) => {
                closed = Some(e);
                break;
            }
        }
    }
    let held = started.elapsed();
    let packets = sock
        .log
        .get(log_before..)
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let pings = sock.pings - pings_before;
    sock.close().await;
    HeartbeatObs {
        hold_ms: ms(hold),
        held_ms: ms(held),
        pings,
        ping_interval_ms: open.and_then(|o| o.ping_interval_ms),
        ping_timeout_ms: open.and_then(|o| o.ping_timeout_ms),
        closed,
        packets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_parsing() {
        let t = Target::parse("ws://localhost:8080", None).unwrap();
        assert_eq!(t.base, "http://localhost:8080");
        assert_eq!(t.path, "/socket.io");
        assert!(!t.path_explicit);
        assert_eq!(
            t.url("/socket.io", true, "EIO=4&transport=websocket"),
            "ws://localhost:8080/socket.io/?EIO=4&transport=websocket"
        );
        let t = Target::parse("https://chat.example/ws/socket.io/", None).unwrap();
        assert_eq!(t.base, "https://chat.example:443");
        assert_eq!(t.path, "/ws/socket.io");
        assert!(t.path_explicit);
        let t = Target::parse("wss://h", Some("ws/socket.io/")).unwrap();
        assert!(t.tls);
        assert_eq!(t.path, "/ws/socket.io");
        assert!(Target::parse("redis://h", None).is_err());
        assert_eq!(encode_query("a-b_c.d~e f/g"), "a-b_c.d~e%20f%2Fg");
        assert!(Target::parse("not a url", None).is_err());
        let t = Target::parse("http://[::1]:9/", None).unwrap();
        assert_eq!(t.base, "http://[::1]:9");
    }
}
