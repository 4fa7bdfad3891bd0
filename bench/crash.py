#!/usr/bin/env python3
"""Crash safety: stream creates and updates at a real server, kill -9 it at random moments,
restart it, and check that every acknowledged write is there, that no multi-row change is
visible in part, and that the database passes its integrity check.

    python3 bench/crash.py --backend sqlite --kills 20
    python3 bench/crash.py --backend postgres --kills 20 --database-url postgres://...

Uses only the standard library; needs the release binary (cargo build --release).
"""
import argparse, json, os, random, signal, sqlite3, subprocess, sys, tempfile, threading, time
import urllib.request, urllib.error

BIN = os.path.join(os.path.dirname(__file__), "..", "target", "release", "innofolio")


def call(base, key, method, path, body=None, headers=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read() or b"null"), dict(r.headers)


def start(env, port):
    p = subprocess.Popen([BIN, "serve"], env=dict(env, INNOFOLIO_BIND=f"127.0.0.1:{port}", RUST_LOG="warn",
                                                  INNOFOLIO_WEBHOOK_DELIVERY="off"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1)
            return p
        except Exception:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--database-url")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--port", type=int, default=18451)
    ap.add_argument("--seed", type=int, default=20261123)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    tmp = tempfile.mkdtemp()
    url = a.database_url or f"sqlite://{tmp}/crash.db"
    env = dict(os.environ, DATABASE_URL=url)
    key = subprocess.check_output([BIN, "create-api-key", "--role", "admin", "--name", "crash"], env=env,
                                  text=True).strip().splitlines()[-1]
    base = f"http://127.0.0.1:{a.port}"
    acked = {}          # idea id -> title acknowledged last
    lock = threading.Lock()
    attempted = 0
    for k in range(a.kills):
        server = start(env, a.port)
        stop = threading.Event()

        def writer(n):
            nonlocal attempted
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    with lock:
                        attempted += 1
                    if acked and rnd.random() < 0.3:
                        with lock:
                            idea = rnd.choice(list(acked))
                        _, cur, h = call(base, key, "GET", f"/api/v1/ideas/{idea}")
                        title = f"updated {k}-{n}-{i}"
                        s, body, _ = call(base, key, "PATCH", f"/api/v1/ideas/{idea}", {"title": title},
                                          {"If-Match": h["ETag"], "Content-Type": "application/merge-patch+json"})
                        if s == 200:
                            with lock:
                                acked[idea] = title
                    else:
                        title = f"idea {k}-{n}-{i}"
                        s, body, _ = call(base, key, "POST", "/api/v1/ideas",
                                          {"title": title, "kind": "idea_problem", "received_on": "2026-01-05",
                                           "tags": ["crash", f"w{n}"]},
                                          {"Idempotency-Key": f"crash-{k}-{n}-{i}"})
                        if s == 201:
                            with lock:
                                acked[body["id"]] = title
                except Exception:
                    pass   # the server is gone: unacknowledged, may or may not have committed

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(0.2, 1.2))
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        for t in threads:
            t.join()
    # Restart once more and check everything acknowledged.
    server = start(env, a.port)
    lost = 0
    for idea, title in acked.items():
        try:
            s, body, _ = call(base, key, "GET", f"/api/v1/ideas/{idea}")
            if body["title"] != title:
                lost += 1
        except urllib.error.HTTPError:
            lost += 1
    server.send_signal(signal.SIGTERM)
    server.wait()
    # No partial multi-row change: every idea has its tags, audit record and change event.
    if url.startswith("sqlite://"):
        db = sqlite3.connect(url[len("sqlite://"):])
        q = lambda sql: db.execute(sql).fetchone()[0]
        integrity = q("PRAGMA integrity_check")
    else:
        def q(sql):
            return int(subprocess.check_output(["psql", url, "-tAc", sql], text=True).strip())
        # amcheck verifies every B-tree index against its table's ordering invariants.
        subprocess.check_call(["psql", url, "-qc", "CREATE EXTENSION IF NOT EXISTS amcheck"],
                              stdout=subprocess.DEVNULL)
        checked = q("SELECT COUNT(bt_index_check(c.oid, true)) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE am.amname = 'btree' AND n.nspname = 'public'")
        integrity = "ok" if checked > 0 else "no indexes checked"
    ideas = q("SELECT COUNT(*) FROM ideas")
    partial = q("SELECT COUNT(*) FROM ideas i WHERE "
                "(SELECT COUNT(*) FROM idea_tags t WHERE t.idea_id = i.id) <> 2 "
                "OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity = 'idea' AND a.action = 'create' AND a.entity_id = i.id) "
                "OR NOT EXISTS (SELECT 1 FROM events e WHERE e.event_type = 'idea.created' AND e.entity_id = i.id)")
    gaps = q("SELECT COUNT(*) - COALESCE(MAX(seq), 0) FROM events")
    print(f"{a.backend}: {a.kills} kills, {attempted} writes attempted, {len(acked)} ideas acknowledged, "
          f"{ideas} in the database, lost acknowledged writes: {lost}, partial changes: {partial}, "
          f"change-feed gaps: {gaps}, integrity: {integrity}")
    ok = lost == 0 and partial == 0 and gaps == 0 and integrity == "ok" and ideas >= len(acked)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
