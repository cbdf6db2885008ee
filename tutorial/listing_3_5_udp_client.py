# Listing 3.5 Minimaler UDP-Client
import socket
host = 'localhost'
port = 50000

data = '1' * 18
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
bytes_sent = s.sendto(data.encode('ascii'), (host, int(port)))
s.close()
