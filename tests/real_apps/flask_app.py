# A Flask-SocketIO app as its documentation writes it, configured from the environment the
# compose fixture gives the container:
#   SOCKETIO_MESSAGE_QUEUE  the Redis URL of the message queue (Flask-SocketIO's default
#                           channel is 'flask-socketio': flask_socketio/__init__.py, 5.7.0)
#   CORS_ALLOWED_ORIGINS    comma-separated origins, passed as a list (unset: the default,
#                           same origin only)
# Run with `gunicorn -k gevent -w N flask_app:app`: without gevent-websocket installed,
# python-engineio's gevent driver serves websockets through simple-websocket
# (engineio/async_drivers/gevent.py, 4.15.1).
import os
import sys

from flask import Flask
from flask_socketio import SocketIO, emit

app = Flask(__name__)
# One line per worker process that imported the app: the tests wait for N of them, so that
# every worker serves requests before wsdoctor probes (else the sticky test passes falsely).
print(f"real-app loaded in pid {os.getpid()}", file=sys.stderr, flush=True)
options = {}
if os.environ.get("SOCKETIO_MESSAGE_QUEUE"):
    options["message_queue"] = os.environ["SOCKETIO_MESSAGE_QUEUE"]
if os.environ.get("CORS_ALLOWED_ORIGINS"):
    options["cors_allowed_origins"] = os.environ["CORS_ALLOWED_ORIGINS"].split(",")
socketio = SocketIO(app, **options)


@app.route("/")
def index():
    return "flask-socketio test app"


@socketio.on("connect")
def on_connect(auth=None):
    emit("hello", {"worker": os.getpid()})


@socketio.on("ping_worker")
def on_ping_worker(data=None):
    return os.getpid()
