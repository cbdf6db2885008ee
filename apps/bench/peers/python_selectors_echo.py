# A Python `selectors` echo server, the way the standard library's docs write
# one (non-blocking sockets, recv(65536)), plus what the docs leave out: a
# partial send keeps the rest and waits for EVENT_WRITE instead of losing bytes.
# Usage: python3 python_selectors_echo.py tcp [port] | python3 python_selectors_echo.py unix PATH
import selectors
import socket
import sys

kind = sys.argv[1] if len(sys.argv) > 1 else "tcp"
sel = selectors.DefaultSelector()
pending = {}


def accept(server):
    con, _ = server.accept()
    con.setblocking(False)
    sel.register(con, selectors.EVENT_READ, read)


def close(con):
    sel.unregister(con)
    pending.pop(con, None)
    con.close()


def read(con):
    try:
        data = con.recv(65536)
    except ConnectionError:
        data = b""
    if not data:
        close(con)
        return
    try:
        sent = con.send(data)
    except BlockingIOError:
        sent = 0
    except ConnectionError:
        close(con)
        return
    if sent < len(data):
        pending[con] = data[sent:]
        sel.modify(con, selectors.EVENT_WRITE, write)


def write(con):
    data = pending[con]
    try:
        sent = con.send(data)
    except BlockingIOError:
        return
    except ConnectionError:
        close(con)
        return
    if sent < len(data):
        pending[con] = data[sent:]
    else:
        del pending[con]
        sel.modify(con, selectors.EVENT_READ, read)


if kind == "unix":
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sys.argv[2])
    address = "unix:" + sys.argv[2]
else:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0))
    address = "tcp://127.0.0.1:%d" % server.getsockname()[1]
server.listen(1024)
server.setblocking(False)
sel.register(server, selectors.EVENT_READ, accept)
print("listening on", address, flush=True)

try:
    while True:
        for key, _ in sel.select():
            key.data(key.fileobj)
except KeyboardInterrupt:
    pass
