"""moto in server mode, one request at a time.

`moto_server` serves each request on its own thread, but moto's backends are not
thread-safe: a TransactWriteItems that fails (a lost race, which the controller's tests
provoke on purpose) restores the whole table from a copy taken when it began, undoing
every write another request made in between. Real DynamoDB is atomic per item and per
transaction. Serving one request at a time gives moto that atomicity. Connections are
still accepted on many threads, but a request's body is read inside the lock, so a slow
client holds up the others: fine for loopback tests, not for anything else.

    python serve.py HOST PORT
"""
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


def serialized(app):
    lock = threading.Lock()

    def serve(environ, start_response):
        with lock:
            # The body is produced inside the lock too: some backends answer lazily. The
            # iterable is closed as PEP 3333 asks.
            answer = app(environ, start_response)
            try:
                return list(answer)
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()

    return serve


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, serialized(app), threaded=True, use_reloader=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
