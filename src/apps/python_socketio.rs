//! python-socketio (generic), and the ASGI/WSGI servers it runs under. Rules read from
//! python-socketio 5.18.1 / python-engineio 4.15.1, uvicorn 0.54.0, gunicorn 23.0.0 and
//! hypercorn 0.18.0 (site-packages of the versions named). Also the fallback profile for an
//! app wsdoctor does not know.

use super::*;

pub static PROFILE: AppProfile = AppProfile {
    id: AppId::PythonSocketIo,
    name: "python-socketio",
    versions_read: "5.18.1",
    recognise: Recognition {
        images: &[],
        command_words: &[],
        // `uvicorn app:socketio_app`, `pip install python-socketio`.
        command_mentions: &["python-socketio", "socketio."],
        packages: &["python-socketio"],
        env_vars: &[],
    },
    // socketio/asgi.py:42 and socketio/middleware.py:31: `socketio_path='socket.io'`.
    socketio_path: "/socket.io",
    path_prefix_var: None,
    // The servers below bind 8000 by default.
    port: PortRule {
        default: Some(8000),
        env_var: Some("PORT"),
        flags: &["--port"],
    },
    manager: ManagerSettings {
        // AsyncRedisManager(url) / RedisManager(url) in app code; REDIS_URL by convention.
        url_vars: &[UrlVar {
            name: "REDIS_URL",
            empty: EmptyValue::Unset,
        }],
        enable: EnableRule::InCode {
            how: "socketio.AsyncServer(client_manager=socketio.AsyncRedisManager(url)) in the app code",
        },
        // Sentinel is part of the URL: redis+sentinel://h1:p,h2:p/db/service
        // (redis_manager.py:21-44).
        sentinel: None,
        other_sentinel_vars: &[],
        cluster_vars: &[],
        // async_redis_manager.py:65 / redis_manager.py:87: channel='socketio'.
        channels: &["socketio"],
        room_channels: None,
        patterns: &[],
        // async_server.py:688-692 / server.py:652-656: the manager is initialised (and
        // subscribes) on the first Engine.IO connect of each process.
        subscribe: SubscribeTiming::FirstClient,
    },
    workers: WorkerRule::Server,
    // Server(transports=…) in code; default polling then websocket.
    transports: TransportRule::InCode,
    connect: ConnectRule::Unknown,
    // engineio base_server.py:284-316: None → same origin only; list → exactly those.
    cors: CorsRule::Elsewhere {
        what: "python-socketio takes cors_allowed_origins in the app code (default: the server's own origin only)",
    },
    site_origin_vars: &[],
    // Under a server on the command line, that server's rule (SERVERS below).
    listen: ListenRule {
        launcher: None,
        image: None,
        otherwise: "the app's code starts its server (e.g. uvicorn.run(app, host=…), web.run_app(…)) with an address wsdoctor does not read",
    },
};

/// A Python ASGI/WSGI server wsdoctor reads worker and port settings of.
#[derive(Debug)]
pub struct ServerRule {
    pub program: &'static str,
    pub workers_flags: &'static [&'static str],
    /// A variable the server reads as its worker count when no flag is given.
    pub workers_env: Option<&'static str>,
    /// A variable holding extra command-line arguments.
    pub cmd_args_env: Option<&'static str>,
    pub port_flags: &'static [&'static str],
    pub port_env: Option<&'static str>,
    pub default_port: u16,
    /// The address it binds.
    pub listen: HostRule,
}

pub static SERVERS: &[ServerRule] = &[
    // uvicorn/main.py:111-117 `--workers` "Defaults to the $WEB_CONCURRENCY environment
    // variable if available, or 1" (config.py:358-359, only when workers is None);
    // main.py:71-73 `--port` default 8000.
    ServerRule {
        program: "uvicorn",
        workers_flags: &["--workers"],
        workers_env: Some("WEB_CONCURRENCY"),
        cmd_args_env: None,
        port_flags: &["--port"],
        port_env: None,
        default_port: 8000,
        // uvicorn/main.py:63-68 `--host` default "127.0.0.1"; main.py:61 click
        // `auto_envvar_prefix="UVICORN"` makes UVICORN_HOST set it too.
        listen: HostRule {
            default_host: "127.0.0.1",
            host_flags: &["--host"],
            bind_form: false,
            host_env: Some("UVICORN_HOST"),
            all_interfaces_env: None,
            config_flags: &[],
            cited: "uvicorn's default host (uvicorn 0.54.0 main.py:66 default=\"127.0.0.1\")",
            fix: "add `--host 0.0.0.0` to the uvicorn command (or set UVICORN_HOST=0.0.0.0)",
        },
    },
    // gunicorn/config.py:642-660 `-w/--workers`, default int($WEB_CONCURRENCY or 1);
    // config.py:80-81 GUNICORN_CMD_ARGS is parsed as more arguments; config.py:595-598 bind
    // default 127.0.0.1:8000, or 0.0.0.0:$PORT. Worker classes (-k): sync (default),
    // eventlet, gevent, gthread, tornado, uvicorn.workers.UvicornWorker,
    // geventwebsocket…GeventWebSocketWorker: each worker is one Socket.IO process.
    ServerRule {
        program: "gunicorn",
        workers_flags: &["-w", "--workers"],
        workers_env: Some("WEB_CONCURRENCY"),
        cmd_args_env: Some("GUNICORN_CMD_ARGS"),
        port_flags: &["-b", "--bind"],
        port_env: Some("PORT"),
        default_port: 8000,
        // config.py:595-598 bind default ['127.0.0.1:8000'], or ['0.0.0.0:$PORT'] when PORT is
        // set; util.py:244-247 `-b :8000` (empty host) binds 0.0.0.0. `-c FILE` (and a
        // ./gunicorn.conf.py in the working directory) may set `bind` too.
        listen: HostRule {
            default_host: "127.0.0.1",
            host_flags: &["-b", "--bind"],
            bind_form: true,
            host_env: None,
            all_interfaces_env: Some("PORT"),
            config_flags: &["-c", "--config"],
            cited: "gunicorn's default bind (gunicorn 23.0.0 config.py:598 ['127.0.0.1:8000'])",
            fix: "bind all interfaces: `gunicorn -b 0.0.0.0:PORT …` (or `-b :PORT`)",
        },
    },
    // hypercorn/__main__.py:217-220,300 `-w/--workers`, config.py:114 default 1, no env;
    // config.py:58 bind 127.0.0.1:8000.
    ServerRule {
        program: "hypercorn",
        workers_flags: &["-w", "--workers"],
        workers_env: None,
        cmd_args_env: None,
        port_flags: &["-b", "--bind"],
        port_env: None,
        default_port: 8000,
        // __main__.py:44-53 `-b/--bind` (repeatable); config.py:58 `_bind =
        // ["127.0.0.1:8000"]`; `-c/--config` may bind too.
        listen: HostRule {
            default_host: "127.0.0.1",
            host_flags: &["-b", "--bind"],
            bind_form: true,
            host_env: None,
            all_interfaces_env: None,
            config_flags: &["-c", "--config"],
            cited: "hypercorn's default bind (hypercorn 0.18.0 config.py:58 [\"127.0.0.1:8000\"])",
            fix: "bind all interfaces: `hypercorn -b 0.0.0.0:PORT …`",
        },
    },
];
