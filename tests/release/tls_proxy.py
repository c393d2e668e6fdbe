#!/usr/bin/env python3
"""A TLS front for a loopback HTTP server: tests/release/run.sh puts it before the bundled test
backend so that a client speaks real TLS (the test certificate of tests/tls, for 127.0.0.1)
to an answering server. Usage: tls_proxy.py CERT KEY UPSTREAM_PORT; prints "READY <port>",
then serves until its standard input closes."""
import socket
import ssl
import sys
import threading


def pump(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener, context, upstream):
    while True:
        conn, _ = listener.accept()
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):  # e.g. a client that refuses the certificate
            conn.close()
            continue
        back = socket.create_connection(("127.0.0.1", upstream))
        threading.Thread(target=pump, args=(tls, back), daemon=True).start()
        threading.Thread(target=pump, args=(back, tls), daemon=True).start()


def main():
    cert, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"READY {listener.getsockname()[1]}", flush=True)
    threading.Thread(target=serve, args=(listener, context, upstream), daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
