#!/usr/bin/python3
"""httpload.py PORT SECONDS AUTHFILE PATH...: requests per second of GET
PATH on 127.0.0.1:PORT with HTTP basic authentication (AUTHFILE holds
"user:secret"), two clients with keep-alive, SECONDS each path in all, in
four rounds that take the paths in turn (so that a busy moment of the
machine weighs on each alike).  Prints "PATH REQUESTS/S REFUSED" per path."""
import base64, http.client, sys, threading, time

port, dur = int(sys.argv[1]), float(sys.argv[2])
auth = base64.b64encode(open(sys.argv[3], "rb").read().strip()).decode()


def load(path, dur):
    ok, bad = [0, 0], [0, 0]
    end = time.monotonic() + dur

    def client(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < end:
            c.request("GET", path, headers={"Authorization": "Basic " + auth})
            r = c.getresponse()
            r.read()
            if r.status == 200:
                ok[i] += 1
            else:
                bad[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(2)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok), time.monotonic() - t0, sum(bad)


paths = sys.argv[4:]
done = {p: [0, 0.0, 0] for p in paths}
for _ in range(4):
    for p in paths:
        n, t, bad = load(p, dur / 4)
        done[p][0] += n
        done[p][1] += t
        done[p][2] += bad
for p in paths:
    n, t, bad = done[p]
    print(f"{p} {n / t:.1f} {bad}")
