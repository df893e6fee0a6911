//! Flask-SocketIO 5.x. Rules read from flask-socketio 5.7.0 (`flask_socketio/__init__.py`)
//! and the python-socketio 5.18.1 / python-engineio 4.15.1 it runs on.

use super::*;

pub static PROFILE: AppProfile = AppProfile {
    id: AppId::FlaskSocketIo,
    name: "Flask-SocketIO",
    versions_read: "5.7.0",
    recognise: Recognition {
        images: &[],
        command_words: &[],
        // `pip install flask-socketio && …`, `python -c "import flask_socketio"`.
        command_mentions: &["flask_socketio", "flask-socketio", "Flask-SocketIO"],
        packages: &["flask-socketio"],
        env_vars: &[],
    },
    // __init__.py:250-253: `path` / `resource` kwargs, default 'socket.io'.
    socketio_path: "/socket.io",
    path_prefix_var: None,
    // socketio.run(app) defaults to port 5000 (__init__.py:577-585); under gunicorn the
    // server's bind applies (see python_socketio::SERVERS).
    port: PortRule {
        default: Some(5000),
        env_var: Some("PORT"),
        flags: &["--port"],
    },
    manager: ManagerSettings {
        // The queue URL is the `message_queue=` argument in app code (__init__.py:214-228):
        // no variable is read by Flask-SocketIO itself. By convention apps pass an env
        // variable; wsdoctor reads these and says it assumes so.
        url_vars: &[
            UrlVar {
                name: "MESSAGE_QUEUE",
                empty: EmptyValue::Unset,
            },
            UrlVar {
                name: "SOCKETIO_MESSAGE_QUEUE",
                empty: EmptyValue::Unset,
            },
            UrlVar {
                name: "REDIS_URL",
                empty: EmptyValue::Unset,
            },
        ],
        // __init__.py:219-228: redis:// and rediss:// → socketio.RedisManager; kafka:// →
        // KafkaManager; zmq → ZmqManager; anything else (unix://, valkey://) → KombuManager.
        enable: EnableRule::InCode {
            how: "SocketIO(app, message_queue=…) in the app code",
        },
        sentinel: None,
        other_sentinel_vars: &[],
        cluster_vars: &[],
        // __init__.py:216 `channel = self.server_options.pop('channel', 'flask-socketio')`.
        channels: &["flask-socketio"],
        room_channels: None,
        patterns: &[],
        // A sync socketio.Server: the manager starts with the first Engine.IO connect
        // (socketio/server.py:652-656).
        subscribe: SubscribeTiming::FirstClient,
    },
    // gunicorn -w / WEB_CONCURRENCY (python_socketio::SERVERS); `python app.py` runs one
    // process (socketio.run).
    workers: WorkerRule::Server,
    // SocketIO(transports=…) in code; engineio's default is polling then websocket.
    transports: TransportRule::InCode,
    // Decided by the app's @socketio.on('connect') handler.
    connect: ConnectRule::Unknown,
    // engineio base_server.py:284-316: cors_allowed_origins None → the server's own origin
    // only; a list → exactly those (its own origin is NOT added); '*' → all.
    cors: CorsRule::Elsewhere {
        what: "Flask-SocketIO takes cors_allowed_origins in the app code; a list allows only the listed origins, not the server's own",
    },
    site_origin_vars: &[],
    // flask_socketio/__init__.py:577-612 (5.7.0) `socketio.run(app, host=None)` binds
    // 127.0.0.1 unless the code passes host= (or SERVER_NAME names one): app code.
    listen: ListenRule {
        launcher: None,
        image: None,
        otherwise: "socketio.run(app, host=…) in the app's code picks the address (Flask-SocketIO 5.7.0 __init__.py:612 defaults to 127.0.0.1: a container needs host=\"0.0.0.0\")",
    },
};
