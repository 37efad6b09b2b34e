"""Latency from a posted event to a changed recommendation: for each trial, take a patron's top
item, POST a loan of it, and GET the patron's recommendations until it is gone (the service
reads the patron's events at each request, so the first GET after the 201 should show it).
Prints p50 and p99 in milliseconds over the trials. usage: latency.py PORT TRIALS"""
import http.client
import json
import random
import sys
import time

port, trials = int(sys.argv[1]), int(sys.argv[2])
users = [u.strip() for u in open("users.txt") if u.strip()]
conn = http.client.HTTPConnection("127.0.0.1", port)


def call(method, path, body=None):
    headers = {"Content-Type": "application/json"} if body else {}
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


random.seed(7)
lat, gets = [], []
for t in range(trials):
    u = random.choice(users)
    st, data = call("GET", f"/v1/users/{u}/recommendations?n=10")
    top = json.loads(data)["items"][0]["item"]
    ev = json.dumps({"user": u, "item": top, "type": "loan", "timestamp": 1900000000 + t})
    t0 = time.perf_counter()
    st, _ = call("POST", "/v1/events", ev)
    assert st == 201, st
    n = 0
    while True:
        n += 1
        st, data = call("GET", f"/v1/users/{u}/recommendations?n=10")
        if top not in [i["item"] for i in json.loads(data)["items"]]:
            break
    lat.append((time.perf_counter() - t0) * 1000)
    gets.append(n)
lat.sort()
print(f"event_to_change_ms p50 {lat[len(lat) // 2]:.2f} p99 {lat[int(len(lat) * 0.99) - 1]:.2f} "
      f"max {lat[-1]:.2f} (trials {trials}, GETs until changed: max {max(gets)})")
