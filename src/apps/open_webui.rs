//! Open WebUI, the 0.12 line. Every rule read from the open-webui 0.12.4 wheel on PyPI
//! (`open_webui/…`, line numbers of that release) and the image's `backend/start.sh`
//! (github open-webui/open-webui). It runs python-socketio 5.16.2 (pinned in its METADATA)
//! under uvicorn 0.54.0.

use super::*;

pub static PROFILE: AppProfile = AppProfile {
    id: AppId::OpenWebUi,
    name: "Open WebUI",
    versions_read: "0.12.4",
    recognise: Recognition {
        // The official image (ghcr.io/open-webui/open-webui, any tag).
        images: &["open-webui"],
        // `open-webui serve` (the PyPI entry point, open_webui/__init__.py serve()).
        command_words: &["open-webui"],
        command_mentions: &["open_webui.main"],
        packages: &["open-webui"],
        // Variables only Open WebUI reads (env.py:473-510).
        env_vars: &[
            "WEBSOCKET_MANAGER",
            "ENABLE_WEBSOCKET_SUPPORT",
            "WEBSOCKET_REDIS_URL",
            "WEBSOCKET_REDIS_CLUSTER",
            "WEBSOCKET_SENTINEL_HOSTS",
        ],
    },
    // socket/main.py:388-391 `socketio.ASGIApp(sio, socketio_path='/ws/socket.io')`, mounted
    // at /ws by main.py:873 (Starlette keeps the full path): the client's path.
    socketio_path: "/ws/socket.io",
    path_prefix_var: None,
    // start.sh: `PORT="${PORT:-8080}"` … `uvicorn … --port "$PORT"`; `open-webui serve`
    // defaults to 8080 too (__init__.py serve()).
    port: PortRule {
        default: Some(8080),
        env_var: Some("PORT"),
        flags: &["--port"],
    },
    manager: ManagerSettings {
        // env.py:493 `WEBSOCKET_REDIS_URL = os.getenv('WEBSOCKET_REDIS_URL', REDIS_URL)`:
        // set-but-empty stays '' (no fallback), and python-socketio then raises
        // `ValueError: Unsupported Redis URL scheme: ` (async_redis_manager.py:104, 5.18.1):
        // the manager never starts. env.py:381 `REDIS_URL = os.getenv('REDIS_URL', '')`.
        url_vars: &[
            UrlVar {
                name: "WEBSOCKET_REDIS_URL",
                empty: EmptyValue::Kept,
            },
            UrlVar {
                name: "REDIS_URL",
                empty: EmptyValue::Unset,
            },
        ],
        // env.py:476 default ''; socket/main.py:102 and main.py:424 compare with 'redis'
        // exactly (no lower(), no strip()).
        enable: EnableRule::VarEquals {
            var: "WEBSOCKET_MANAGER",
            value: "redis",
        },
        // env.py:509-510; socket/main.py:102-116 builds
        // `redis+sentinel://[auth@]h1:port,…/<db>/<service>` (utils/redis.py:71-86) where the
        // service (master name) is the URL's host, case kept (utils/redis.py:48-49). Hosts
        // split on ',' and stripped (utils/redis.py:68, 85).
        sentinel: Some(SentinelVars {
            hosts: "WEBSOCKET_SENTINEL_HOSTS",
            port: "WEBSOCKET_SENTINEL_PORT",
            default_port: 26379,
        }),
        // env.py:399-400: REDIS_SENTINEL_HOSTS/PORT apply only to REDIS_URL's client
        // (utils/redis.py:96-108 get_redis_client), never to the socket manager.
        other_sentinel_vars: &["REDIS_SENTINEL_HOSTS"],
        // env.py:494 `WEBSOCKET_REDIS_CLUSTER` defaults to REDIS_CLUSTER (env.py:382),
        // `.lower() == 'true'`.
        cluster_vars: &["WEBSOCKET_REDIS_CLUSTER", "REDIS_CLUSTER"],
        // python-socketio's default channel 'socketio' (manager built without a channel,
        // socket/main.py:117-118).
        channels: &["socketio"],
        // socket/main.py:117: AsyncRedisRoomChannelManager unless WEBSOCKET_REDIS_ROOM_CHANNELS
        // is false (env.py:500, default 'True', `.lower() == 'true'`); it SUBSCRIBEs one
        // channel per room, `socketio#<namespace>#<room>` (socket/redis_room_channels.py:17-18,
        // 77-87), and a CONNECT waits for that subscription to be confirmed (lines 35-39):
        // a broken Redis shows as a CONNECT never answered.
        room_channels: Some(RoomChannels {
            var: "WEBSOCKET_REDIS_ROOM_CHANNELS",
            default: true,
            prefix: "socketio#/#",
        }),
        patterns: &[],
        // main.py:424-428, in the lifespan: `sio.manager_initialized = True;
        // sio.manager.initialize()` — every worker subscribes at startup.
        subscribe: SubscribeTiming::Startup,
    },
    // Image: start.sh `--workers "${UVICORN_WORKERS:-1}"` (unset or empty → 1).
    // `open-webui serve`: env.py:461-464 `max(int(os.getenv('UVICORN_WORKERS', '1')), 1)`,
    // invalid → 1, passed as uvicorn.run(workers=…) so WEB_CONCURRENCY is never read
    // (uvicorn reads it only when workers is None, uvicorn/config.py:358). A command that runs
    // uvicorn/gunicorn itself follows that server's rules instead.
    workers: WorkerRule::EnvVar {
        var: "UVICORN_WORKERS",
        default: 1,
        invalid: 1,
    },
    // env.py:473 default 'True', `.lower() == 'true'`; socket/main.py:124,140:
    // `transports=['websocket'] if ENABLE_WEBSOCKET_SUPPORT else ['polling']`.
    transports: TransportRule::WebsocketVar {
        var: "ENABLE_WEBSOCKET_SUPPORT",
        default: true,
    },
    // socket/main.py:126 `always_connect=True`; connect() (socket/main.py:551-575) accepts a
    // CONNECT without auth; `{"token": <JWT>}` only attaches the user.
    connect: ConnectRule::Anonymous,
    // config.py:2192 `os.getenv('CORS_ALLOW_ORIGIN', '*').split(';')`, no trimming; unless
    // exactly ['*'], every item must have an http/https (or CORS_ALLOW_CUSTOM_SCHEME) scheme
    // and a host, else ValueError at import (config.py:2172-2184, 2199-2205): the app refuses
    // to start. The list feeds Starlette's CORSMiddleware (main.py:864-870) and the Socket.IO
    // server (socket/main.py:80), which compare the Origin header exactly.
    cors: CorsRule::EnvList {
        var: "CORS_ALLOW_ORIGIN",
        default: "*",
        separator: ';',
        trimmed: false,
        scheme_required: true,
    },
    // config.py:1689 `WEBUI_URL = os.getenv('WEBUI_URL', '')`: the site's public URL.
    site_origin_vars: &["WEBUI_URL"],
    // `open-webui serve`: open_webui/__init__.py:37-40 `def serve(host: str = '0.0.0.0', …)`
    // (typer option --host, no variable). The image: backend/start.sh:20
    // `HOST="${HOST:-0.0.0.0}"` … `uvicorn open_webui.main:app --host "$HOST"` (github
    // open-webui/open-webui, the 0.12 line).
    listen: ListenRule {
        launcher: Some(HostRule {
            default_host: "0.0.0.0",
            host_flags: &["--host"],
            bind_form: false,
            host_env: None,
            all_interfaces_env: None,
            config_flags: &[],
            cited: "open-webui serve's default host (open_webui 0.12.4 __init__.py:39 host: str = '0.0.0.0')",
            fix: "drop --host or pass `--host 0.0.0.0` to `open-webui serve`",
        }),
        image: Some(HostRule {
            default_host: "0.0.0.0",
            host_flags: &[],
            bind_form: false,
            host_env: Some("HOST"),
            all_interfaces_env: None,
            config_flags: &[],
            cited: "the image's start.sh (backend/start.sh:20 HOST=\"${HOST:-0.0.0.0}\")",
            fix: "unset HOST, or set HOST=0.0.0.0",
        }),
        otherwise: "Open WebUI is started by a command wsdoctor does not read",
    },
};
