# Listing 3.11 UNIX-Socket Client mit UDP
import socket
socket_pfad = '/tmp/unixsocket_udp'

client = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
client.sendto(b'Hallo Welt!', socket_pfad)
