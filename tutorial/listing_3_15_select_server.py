# Listings 3.12-3.15 Multiplex: the whole select() server, with the echo line enabled
# as the text says (line 13 commented out, line 14 active)
import socket

host = 'localhost'
port = 50000

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(10)

rlist = [s]
wlist = []
elist = []
timeout = 5

import time
import select

while True:
    readable, writable, errored = select.select(rlist, wlist, elist, timeout)
    if readable:
        for sock in readable:
            if sock is s:
                con, addr = s.accept()
                rlist.append(con)
                rlist.index(con)
                print('cnct from', addr)
            else:
                data = sock.recv(1024)
                if data:
                    # pass # keine Aktion
                    sock.send(data)
                else:
                    sp = rlist.index(sock)
                    sock.close()
                    print('clsd', sp, sock)
                    rlist.remove(sock)
    else: # not readable and not writeable and not errored
        print( int( time.time() ) )
