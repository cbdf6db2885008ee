# Listing 3.9 Stream UNIX-Socket-Client
import socket
socket_pfad = '/tmp/unixsocket_tcp'

client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(socket_pfad)
bytes_sent = client.send(b'Hallo Welt!')
client.close()
