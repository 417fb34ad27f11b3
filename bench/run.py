#!/usr/bin/env python3
"""Benchmark runner. Every figure is a ratio against a baseline measured in the same run on
the same machine, never an absolute limit. Scenario 1 (issue 2): `smc sync` of a generated
repository (100 services x 20 secrets) into the embedded store, cold and no-op, against
bench/baseline_sync.py doing the same job. Wall time and peak RSS of the whole process
tree (PSS sampled from /proc every 5 ms, summed over the tree)."""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def tree_rss_kib(pid):
    """Sum of PSS over pid and all its descendants."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    total, todo = 0, [pid]
    while todo:
        q = todo.pop()
        todo.extend(children.get(q, []))
        try:
            # Pss: shared library pages are split between the processes mapping them, so
            # a tree of five processes is not charged five times for libc and OpenSSL
            with open(f"/proc/{q}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(cmd, cwd, env=None):
    # output goes to files: a pipe nobody reads while we poll would block a large result
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=fo, stderr=fe, env=env)
        peak = 0
        while p.poll() is None:
            peak = max(peak, tree_rss_kib(p.pid))
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {err.decode()[-2000:]}")
    return wall, peak, out.decode()


def main():
    build = os.environ.get("SMC_BUILD", os.path.join(ROOT, "build"))
    smc = os.path.join(build, "smc")
    services, secrets = 100, 20
    results = []
    with tempfile.TemporaryDirectory(prefix="smc-bench-") as tmp:
        os.chmod(tmp, 0o755)
        repo = os.path.join(tmp, "repo")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), repo,
                        str(services), str(secrets)], check=True)
        subprocess.run(["chmod", "-R", "a+rX", repo], check=True)
        cfg = os.path.join(repo, "bench.yaml")
        for label, args in (("cold", []), ("no-op", [])):
            w, r, out = measure([smc, "sync", "-f", cfg, "--store", os.path.join(tmp, "smc.db"),
                                 "-o", "json"] + args, tmp)
            res = json.loads(out)
            written = res["secrets"]["written"] + res["configs"]["written"]
            bw, br, bout = measure([sys.executable, os.path.join(HERE, "baseline_sync.py"),
                                    repo, os.path.join(tmp, "base.db")], tmp)
            results.append({"scenario": f"local sync {services}x{secrets} {label}",
                            "smc_wall_s": round(w, 3), "baseline_wall_s": round(bw, 3),
                            "wall_ratio": round(w / bw, 2),
                            "smc_peak_rss_kib": r, "baseline_peak_rss_kib": br,
                            "rss_ratio": round(r / br, 2) if br else None,
                            "smc_written": written, "baseline_written": int(bout)})
    print(f"{'scenario':34} {'smc s':>8} {'base s':>8} {'ratio':>6} {'smc KiB':>9} {'base KiB':>9} {'ratio':>6}")
    for x in results:
        print(f"{x['scenario']:34} {x['smc_wall_s']:8.3f} {x['baseline_wall_s']:8.3f} {x['wall_ratio']:6.2f} "
              f"{x['smc_peak_rss_kib']:9d} {x['baseline_peak_rss_kib']:9d} {x['rss_ratio']:6.2f}")
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
