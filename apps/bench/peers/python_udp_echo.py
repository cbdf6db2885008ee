# A Python UDP echo server: every datagram (up to 65,535 bytes) goes back to its sender.
# Usage: python3 python_udp_echo.py [port]
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
print("listening on udp://127.0.0.1:%d" % s.getsockname()[1], flush=True)
try:
    while True:
        data, addr = s.recvfrom(65536)
        s.sendto(data, addr)
except KeyboardInterrupt:
    pass
