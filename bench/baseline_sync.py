#!/usr/bin/env python3
"""The baseline smc is compared against: a straightforward single-process script doing the
same job as `smc sync` on the embedded store — walk the tree, parse the env and
properties files of the profile, and write a new version into SQLite only when a value
changed. No isolation, no sandbox, no versions pruning: the least work that gives the same
store contents."""
import os
import sqlite3
import sys
import time


def parse_env(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            out[k] = v
    return out


def main():
    root, db = sys.argv[1], sys.argv[2]
    con = sqlite3.connect(db)
    con.execute("create table if not exists objects(id integer primary key, kind text, name text, unique(kind, name))")
    con.execute("create table if not exists versions(object_id int, version int, value blob, created_at int)")
    base = os.path.join(root, "microservices")
    written = 0
    with con:
        for svc in sorted(os.listdir(base)):
            prof = os.path.join(base, svc, "deployment-configuration", "profiles", "dev")
            for fname, kind in (("application.secrets.env", "secret"), ("application.properties", "config")):
                p = os.path.join(prof, fname)
                if not os.path.exists(p):
                    continue
                for k, v in parse_env(p).items():
                    name = f"{svc}-{k}".replace(".", "_")
                    row = con.execute("select id from objects where kind=? and name=?", (kind, name)).fetchone()
                    if row is None:
                        oid = con.execute("insert into objects(kind, name) values(?, ?)", (kind, name)).lastrowid
                        latest = None
                    else:
                        oid = row[0]
                        latest = con.execute("select value from versions where object_id=? order by version desc limit 1", (oid,)).fetchone()
                    if latest is None or latest[0] != v.encode():
                        n = con.execute("select count(*) from versions where object_id=?", (oid,)).fetchone()[0]
                        con.execute("insert into versions values(?, ?, ?, ?)", (oid, n + 1, v.encode(), int(time.time())))
                        written += 1
    print(written)


if __name__ == "__main__":
    main()
