# Listing 3.3 TCP-Socket Client, with the two lines the text adds after it to read the answer
import socket

host = 'localhost'
port = 50000

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((host, port))
s.send('GET / HTTP/1.0\r\n'.encode('utf-8'))

bdata = s.recv(4096)
data = bdata.decode('utf-8')
print(repr(data))
s.close()
