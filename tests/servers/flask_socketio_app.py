"""A tiny Flask-SocketIO app for wsdoctor's refusal-body tests, run under gunicorn:

  gunicorn -k gevent -w 1 -b 127.0.0.1:PORT --chdir tests/servers flask_socketio_app:app

Flask-SocketIO 5.7.0 picks async_mode "gevent" under the gevent worker, as its documentation
gives for gunicorn (the sync and gthread workers answer the websocket upgrade with 101 and then
nothing: simple-websocket cannot write on gunicorn's socket). Werkzeug/gunicorn write refusal
bodies after the headers, in a separate write, so a client that stops at the first read sees
an empty body now and then. The allowed origin list refuses any other Origin with 400
"Not an accepted origin." (engineio/base_server.py, python-engineio 4.x).
"""

import os

from flask import Flask
from flask_socketio import SocketIO

app = Flask(__name__)
socketio = SocketIO(
    app,
    cors_allowed_origins=[os.environ.get("WSD_ALLOWED_ORIGIN", "http://allowed.example")],
)


@socketio.on("connect")
def connect(auth=None):
    return True
