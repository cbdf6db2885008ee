# Load client for UNIX datagram sockets. Python, because Node's dgram module
# has no AF_UNIX/SOCK_DGRAM: every receiver in a scenario gets this same sender.
# Speaks the bench's load protocol: one JSON object per line on stdout, a
# {"event": "start"} when the measured window opens and a {"event": "result"}.
#
# Usage: python3 unix_dgram_load.py, then one line on stdin (sent by the harness
# once the server is ready): {"config": {"path": ..., "mode": "oneway"|"echo",
#   "size": 64, "inFlight": 8, "warmup": 0.5, "duration": 5, "bindPath": ...}}
#
# one-way: blocking sends to the server as fast as it drains them. A UNIX
# datagram socket never drops: a full receive queue blocks the sender, so what
# was sent is what arrived, give or take the queue (net.unix.max_dgram_qlen).
# echo: the client binds its own path; `inFlight` datagrams, each numbered,
# every reply checked against what was sent before the next goes out.
import json
import os
import socket
import struct
import sys
import time

task = sys.stdin.readline()
if not task:
    sys.exit(0)  # the harness gave up before the server was ready
config = json.loads(task)["config"]  # {"kind", "config", "python"}: the harness's task
mode = config["mode"]
size = config.get("size", 64)
warmup = config.get("warmup", 0.5)
duration = config["duration"]
timeout = config.get("timeout", 1.0)


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if mode == "echo":
    s.bind(config["bindPath"])
s.connect(config["path"])
filler = bytes((i * 7 + 13) & 0xFF for i in range(size))
cpu0 = 0.0

if mode == "oneway":
    message = filler
    send = s.send
    now = time.monotonic
    t0 = now()
    end_warmup = t0 + warmup
    while now() < end_warmup:
        for _ in range(256):
            send(message)
    emit("start")
    cpu0 = time.process_time()
    sent = 0
    start = now()
    end = start + duration
    while True:
        for _ in range(256):
            send(message)
        sent += 256
        t = now()
        if t >= end:
            break
    elapsed = now() - start
    emit("end")
    emit("result", ops=sent, seconds=elapsed, bytes=sent * size, errors=0,
         clientCpuSeconds=time.process_time() - cpu0)
else:
    in_flight = config.get("inFlight", 8)
    s.settimeout(timeout)
    pack = struct.Struct("!Q").pack_into
    unpack = struct.Struct("!Q").unpack_from
    buffers = [bytearray(filler) for _ in range(in_flight)]
    expected = {}
    seq = 0
    for slot in range(in_flight):
        pack(buffers[slot], 0, seq)
        expected[seq] = slot
        s.send(buffers[slot])
        seq += 1
    ok = 0
    bad = 0
    timeouts = 0
    counted = 0
    now = time.monotonic
    start = now()
    end_warmup = start + warmup
    end = end_warmup + duration
    started = False
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            timeouts += 1
            break
        got = unpack(data, 0)[0] if len(data) >= 8 else -1
        slot = expected.pop(got, None)
        if slot is None or data != buffers[slot]:
            bad += 1
            break
        ok += 1
        if (ok & 255) == 0:
            t = now()
            if not started and t >= end_warmup:
                started = True
                emit("start")
                cpu0 = time.process_time()
                counted = ok
                start = t
            elif started and t >= end:
                break
        pack(buffers[slot], 0, seq)
        expected[seq] = slot
        s.send(buffers[slot])
        seq += 1
    elapsed = now() - start
    emit("end")
    emit("result", ops=ok - counted if started else 0, seconds=elapsed if started else 0,
         bytes=(ok - counted) * size, errors=timeouts + bad, timeouts=timeouts, bad=bad,
         clientCpuSeconds=time.process_time() - cpu0)
    s.close()
    os.unlink(config["bindPath"])
