# Listing 3.2 socketserver_02.py: Der komplette Code für den Server
import re
import socket

rec_REQ_CHK = re.compile('^GET .+ HTTP/[0-9.]+$')

host = "localhost"
port = 50000

status = 'HTTP/1.0 200 OK\r\ncontent-type: text/html'
html = '<!doctype html><html><head><title>Antwort</title></head>'
html += '<body><h1>Hallo Welt!</h1></body></html>'
data = status + '\r\n\r\n' + html
bdata = data.encode('utf-8')

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(1)
con, addr = s.accept()
data = con.recv(4096)

data = data.decode('utf-8')
dl = data.split('\r\n')
request = dl[0]

m = rec_REQ_CHK.match(request)
if m:
    bytes_sent = con.send(bdata)

con.close()
s.close()
