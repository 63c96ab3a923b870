"""bench/jwtrevd_lat.py SOCK COUNT RATE [compact]: revocations through
jwtrevd, one request per put on one connection, RATE per second; with
"compact", a compact of the whole store runs on a second connection and
the puts go on while it lasts.  Prints p50, p99 and max latency in us,
the puts made, and the compact's length in ms."""
import json, socket, sys, threading, time

sock, count, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
during = len(sys.argv) > 4 and sys.argv[4] == "compact"

def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    return s, s.makefile("rw")

compact_ms = [None]
def compact():
    s, f = conn()
    t0 = time.monotonic()
    f.write('{"op":"compact"}\n')
    f.flush()
    line = f.readline()
    compact_ms[0] = (time.monotonic() - t0) * 1000
    if '"ok":true' not in line:
        compact_ms[0] = -1
        print("compact failed: " + line.strip(), file=sys.stderr)

s, f = conn()
lat = []
t = threading.Thread(target=compact) if during else None
if t:
    t.start()
    time.sleep(0.05)
start = time.monotonic()
i = 0
while (t.is_alive() if t else i < count):
    due = start + i / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    req = {"op": "put", "entry": {"kind": "token", "iss": "https://bench",
                                  "jti": "lat-%d-%d" % (time.time_ns(), i)}}
    t0 = time.monotonic()
    f.write(json.dumps(req) + "\n")
    f.flush()
    line = f.readline()
    lat.append((time.monotonic() - t0) * 1e6)
    if '"ok":true' not in line:
        sys.exit("put failed: " + line)
    i += 1
if t:
    t.join()
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
if compact_ms[0] == -1:
    sys.exit(1)
print("p50_us=%d p99_us=%d max_us=%d n=%d compact_ms=%s" % (
    p(0.5), p(0.99), lat[-1], len(lat),
    "%d" % compact_ms[0] if compact_ms[0] is not None else "-"))
