# Listing 3.10 UNIX-Socket Server mit UDP, plus one print (marked) so a test can see what arrived
import socket
socket_pfad = '/tmp/unixsocket_udp'

server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
server.bind(socket_pfad)
data, addr = server.recvfrom(1024)
print(data, addr)  # added: show what arrived and from where
server.close()

import os
os.unlink(socket_pfad)
