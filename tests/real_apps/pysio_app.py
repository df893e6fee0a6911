# A plain python-socketio ASGI app, run under hypercorn (`hypercorn -w N pysio_app:app`) and
# gunicorn with uvicorn workers (`gunicorn -k uvicorn.workers.UvicornWorker -w N pysio_app:app`),
# configured from the environment the compose fixture gives the container:
#   REDIS_URL         the AsyncRedisManager's URL (channel 'socketio', python-socketio's default:
#                     socketio/async_redis_manager.py, 5.18.1); unset: no manager
#   SIO_TRANSPORTS    comma-separated transports (default: polling,websocket)
# The manager subscribes when a worker gets its first Engine.IO connection, not at startup
# (socketio/async_server.py _handle_eio_connect, 5.18.1).
import os
import sys

import socketio

manager = None
if os.environ.get("REDIS_URL"):
    manager = socketio.AsyncRedisManager(os.environ["REDIS_URL"])
transports = os.environ.get("SIO_TRANSPORTS", "polling,websocket").split(",")
sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=manager,
    transports=transports,
    cors_allowed_origins="*",
)
app = socketio.ASGIApp(sio)
# One line per worker process that imported the app: the tests wait for N of them, so that
# every worker serves requests before wsdoctor probes (else the sticky test passes falsely).
print(f"real-app loaded in pid {os.getpid()}", file=sys.stderr, flush=True)


@sio.event
async def connect(sid, environ, auth=None):
    await sio.emit("hello", {"worker": os.getpid()}, to=sid)
