# Listing 3.4 Minimaler UDP-Server
import socket
host = 'localhost'
port = 50000

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind( (host, port) )
data, addr = s.recvfrom(256)
if data:
    print('\nDaten', data.decode('utf-8'), 'von', addr[0], addr[1])
else:
    print('no data', addr[0], addr[1])

s.close()
