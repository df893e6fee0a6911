"""python-socketio under uvicorn, configurable, for wsdoctor's `ws` integration tests.

Usage:
  python socketio_server.py --port N [--workers 1|4] [--transports polling|websocket|both]
         [--path socket.io] [--cors '*'|ORIGIN[,ORIGIN]] [--auth-token T] [--always-connect]
         [--redis-url redis://127.0.0.1:P/0 [--manager-at-startup]] [--ping-interval S]
         [--ping-timeout S] [--ws-ping-interval S|none] [--ssl-certfile F --ssl-keyfile F] [--connect needs-session|hangs]

--connect needs-session: the connect handler reads auth["sessionId"] and auth["clientType"]
  as Chainlit 2.12.0's does (chainlit/socket.py `connect`), so an anonymous CONNECT raises in
  the handler and python-socketio never answers it.
--connect hangs: the connect handler awaits something that never comes, as Open WebUI
  0.12.4's CONNECT does while its Redis manager cannot reach Redis.

The same stack as Open WebUI (socketio.ASGIApp under uvicorn). Options travel to the uvicorn
workers through WSD_* environment variables, because uvicorn imports the app by name in each
worker process.
"""

import argparse
import os
import sys


def build_app():
    import socketio

    transports = {
        "polling": ["polling"],
        "websocket": ["websocket"],
        "both": ["polling", "websocket"],
    }[os.environ.get("WSD_TRANSPORTS", "both")]
    cors = os.environ.get("WSD_CORS", "*")
    cors_allowed = "*" if cors == "*" else [o for o in cors.split(",") if o]
    kwargs = dict(
        async_mode="asgi",
        cors_allowed_origins=cors_allowed,
        transports=transports,
        always_connect=os.environ.get("WSD_ALWAYS_CONNECT") == "1",
        ping_interval=float(os.environ.get("WSD_PING_INTERVAL", "25")),
        ping_timeout=float(os.environ.get("WSD_PING_TIMEOUT", "20")),
    )
    redis_url = os.environ.get("WSD_REDIS_URL")
    if redis_url:
        kwargs["client_manager"] = socketio.AsyncRedisManager(redis_url)
    sio = socketio.AsyncServer(**kwargs)
    token = os.environ.get("WSD_AUTH_TOKEN")

    connect_mode = os.environ.get("WSD_CONNECT", "")

    @sio.event
    async def connect(sid, environ, auth=None):
        if connect_mode == "needs-session":
            # Raises TypeError / KeyError without the client's auth, like Chainlit.
            auth["sessionId"], auth["clientType"]
        elif connect_mode == "hangs":
            import asyncio

            await asyncio.Event().wait()
        if token is not None:
            if not isinstance(auth, dict) or auth.get("token") != token:
                raise socketio.exceptions.ConnectionRefusedError("authentication failed")

    on_startup = None
    if redis_url and os.environ.get("WSD_MANAGER_AT_STARTUP") == "1":
        # As Open WebUI 0.12.4 does in its lifespan (open_webui/main.py:424-428): the manager
        # subscribes when the worker starts, not with the worker's first client.
        def on_startup():
            sio.manager_initialized = True
            sio.manager.initialize()

    return socketio.ASGIApp(
        sio,
        socketio_path=os.environ.get("WSD_PATH", "socket.io"),
        on_startup=on_startup,
    )


if __name__ != "__main__":
    app = build_app()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--transports", choices=["polling", "websocket", "both"], default="both")
    p.add_argument("--path", default="socket.io")
    p.add_argument("--cors", default="*")
    p.add_argument("--auth-token")
    p.add_argument("--always-connect", action="store_true")
    p.add_argument("--redis-url")
    p.add_argument("--manager-at-startup", action="store_true")
    p.add_argument("--ping-interval", default="25")
    p.add_argument("--ping-timeout", default="20")
    # uvicorn's own websocket ping frames (Config.ws_ping_interval, 20 s by default in
    # uvicorn 0.54): bytes on an idle websocket that reset a proxy's idle timer. "none"
    # turns them off so that only Engine.IO's ping/pong crosses the connection.
    p.add_argument("--ws-ping-interval", default="20")
    p.add_argument("--ssl-certfile")
    p.add_argument("--ssl-keyfile")
    p.add_argument("--connect", choices=["needs-session", "hangs"])
    a = p.parse_args()
    if a.connect:
        os.environ["WSD_CONNECT"] = a.connect
    os.environ["WSD_TRANSPORTS"] = a.transports
    os.environ["WSD_PATH"] = a.path.strip("/")
    os.environ["WSD_CORS"] = a.cors
    if a.auth_token is not None:
        os.environ["WSD_AUTH_TOKEN"] = a.auth_token
    if a.always_connect:
        os.environ["WSD_ALWAYS_CONNECT"] = "1"
    if a.redis_url:
        os.environ["WSD_REDIS_URL"] = a.redis_url
    if a.manager_at_startup:
        os.environ["WSD_MANAGER_AT_STARTUP"] = "1"
    os.environ["WSD_PING_INTERVAL"] = a.ping_interval
    os.environ["WSD_PING_TIMEOUT"] = a.ping_timeout
    import uvicorn

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    uvicorn.run(
        "socketio_server:app",
        host="127.0.0.1",
        port=a.port,
        workers=a.workers,
        # info: the tests wait for one "Application startup complete." per worker.
        log_level="info",
        access_log=False,
        app_dir=here,
        ssl_certfile=a.ssl_certfile,
        ssl_keyfile=a.ssl_keyfile,
        ws_ping_interval=None if a.ws_ping_interval == "none" else float(a.ws_ping_interval),
    )


if __name__ == "__main__":
    main()
