//! Node socket.io with @socket.io/redis-adapter. Read from the sources on GitHub (it cannot
//! run here): socketio/socket.io packages/socket.io 4.8.3 (lib/index.ts) and
//! socketio/socket.io-redis-adapter 8.3.0 (lib/index.ts, lib/sharded-adapter.ts).

use super::*;

pub static PROFILE: AppProfile = AppProfile {
    id: AppId::NodeSocketIo,
    name: "Node socket.io",
    versions_read: "4.8.3 (redis-adapter 8.3.0)",
    recognise: Recognition {
        images: &[],
        command_words: &[],
        command_mentions: &["socket.io"],
        // package.json dependencies.
        packages: &["socket.io", "@socket.io/redis-adapter", "socket.io-redis"],
        env_vars: &[],
    },
    // packages/socket.io/lib/index.ts:323 `this.path(opts.path || "/socket.io")`.
    socketio_path: "/socket.io",
    path_prefix_var: None,
    // The app's own `listen(port)`; PORT by convention, no default.
    port: PortRule {
        default: None,
        env_var: Some("PORT"),
        flags: &[],
    },
    manager: ManagerSettings {
        // createClient({ url }) in app code; REDIS_URL by convention.
        url_vars: &[UrlVar {
            name: "REDIS_URL",
            empty: EmptyValue::Unset,
        }],
        enable: EnableRule::InCode {
            how: "io.adapter(createAdapter(pubClient, subClient)) in the app code",
        },
        sentinel: None,
        other_sentinel_vars: &[],
        cluster_vars: &[],
        // redis-adapter lib/index.ts:136-180, key default "socket.io": SUBSCRIBE
        // `socket.io-request#/#`, `socket.io-response#/#` (and `…#<uid>#`), PSUBSCRIBE
        // `socket.io#/#*`. (The sharded adapter, lib/sharded-adapter.ts:82-94, uses
        // SSUBSCRIBE `socket.io#/#` instead.)
        channels: &["socket.io-request#/#", "socket.io-response#/#"],
        room_channels: None,
        patterns: &["socket.io#/#*"],
        // socket.io lib/index.ts:451-461: setting the adapter initialises it on every
        // namespace, and "/" exists from `new Server()`: subscribed at startup.
        subscribe: SubscribeTiming::Startup,
    },
    // One node process, unless pm2 `-i N` (cluster mode needs @socket.io/sticky).
    workers: WorkerRule::Pm2,
    // new Server({ transports }) in code; default polling then websocket.
    transports: TransportRule::InCode,
    // Accepted unless an io.use() middleware refuses it.
    connect: ConnectRule::Unknown,
    cors: CorsRule::Elsewhere {
        what: "socket.io takes its cors option in the app code (no CORS headers by default)",
    },
    site_origin_vars: &[],
    // server.listen(port[, host]) in the app's code; without a host Node binds the
    // unspecified address (:: or 0.0.0.0), nodejs.org/api/net.html#serverlistenport-host.
    listen: ListenRule {
        launcher: None,
        image: None,
        otherwise: "server.listen(port, host) in the app's code picks the address (Node binds all interfaces when the code passes no host)",
    },
};
