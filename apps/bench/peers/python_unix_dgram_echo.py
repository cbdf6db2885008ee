# A Python UNIX datagram server in the tutorial's style (listing 3.10): receives
# on a socket path and, when the sender bound a path of its own, echoes the
# datagram back. Unbound senders (one-way load) get nothing back.
# Usage: python3 python_unix_dgram_echo.py PATH
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening on unixgram:" + sys.argv[1], flush=True)
try:
    while True:
        data, addr = s.recvfrom(65536)
        if addr:
            s.sendto(data, addr)
except KeyboardInterrupt:
    pass
