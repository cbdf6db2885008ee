# Listing 3.6 Stream-UNIX-Socket-Server

import socket
socket_pfad = '/tmp/unixsocket_tcp'

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(socket_pfad)
server.listen(1)
con, client_addr = server.accept()
data = con.recv(256)
print(data)
con.close()
server.close()

import os
os.unlink(socket_pfad)
