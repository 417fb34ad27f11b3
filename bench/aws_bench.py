#!/usr/bin/env python3
"""AWS benchmark (issue 7). Not a test: prints ratios against a baseline measured in the
same run on the same machine, against one moto server (no auth checking: signatures are
proven by the `aws` ctest label; here both sides pay the same per-request cost).

Scenario A — 200 configs x 20 secrets, the way a cluster runs them: 200
SecretManagerConfigs, each its own repository directory and config file, reconciled one
after the other: 200 `smc sync -f cfgNNNN/smc.yaml` runs (each a full process tree:
smcd + watcher + fetcher + decryptor + syncer, a fresh AWS client and connection) versus
bench/aws_baseline.py reconciling the same 200 configs in ONE Python process with ONE
reused boto3 client. Cold (everything created) and no-op (nothing changed) passes.

Scenario B — the same 4,000 secrets as one config of 200 services (one `smc sync`),
which is what smc's per-job cost looks like once the process start is amortised.

Figures: wall time, client CPU time (user+sys of the client process and all its
descendants, from RUSAGE_CHILDREN; moto is excluded), and AWS requests per no-op
reconcile of one 20-secret config (counted by tests/aws/throttle_proxy.py between the
client and moto; goal <= 2).

SMC_BUILD (default ./build) names the build directory; --configs/--secrets shrink it."""
import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROXY = os.path.join(ROOT, "tests", "aws", "throttle_proxy.py")
BASELINE = os.path.join(HERE, "aws_baseline.py")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(url, body=None):
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def wait_up(url):
    for _ in range(300):
        try:
            http(url)
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{url} did not come up")


def gen(root, configs, secrets, endpoint, one_config=False):
    """cfgNNNN/{smc.yaml, microservices/svcNNNN/.../dev/application.secrets.env}; with
    one_config, one cfg0000 holding every service."""
    for c in range(configs):
        cfg = os.path.join(root, "cfg0000" if one_config else f"cfg{c:04d}")
        d = os.path.join(cfg, "microservices", f"svc{c:04d}", "deployment-configuration",
                         "profiles", "dev")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "application.secrets.env"), "w") as f:
            for k in range(secrets):
                f.write(f"SECRET_{k:03d}=value-{c}-{k}-{'x' * 24}\n")
        with open(os.path.join(cfg, "smc.yaml"), "w") as f:
            f.write(f"""apiVersion: secret-management.octopilot.io/v1beta1
kind: SecretManagerConfig
metadata: {{name: {os.path.basename(cfg)}, namespace: bench}}
spec:
  sourceRef: {{kind: Directory, path: .}}
  provider: {{aws: {{region: us-east-1, endpoint: "{endpoint}"}}}}
  secrets: {{environment: dev, basePath: microservices}}
""")
    subprocess.run(["chmod", "-R", "a+rX", root], check=True)


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_smc(smc, root, env):
    """One `smc sync` per config directory; returns wall, cpu, written, unchanged."""
    written = unchanged = 0
    cfgs = sorted(d for d in os.listdir(root) if d.startswith("cfg"))
    c0, t0 = cpu_children(), time.perf_counter()
    for cfg in cfgs:
        p = subprocess.run([smc, "sync", "-f", os.path.join(root, cfg, "smc.yaml"), "-o", "json"],
                           capture_output=True, env=env, cwd=root)
        if p.returncode != 0:
            sys.exit(f"smc sync {cfg} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
        res = json.loads(p.stdout)
        written += res["secrets"]["written"]
        unchanged += res["secrets"]["unchanged"]
    return time.perf_counter() - t0, cpu_children() - c0, written, unchanged


def run_baseline(endpoint, root):
    c0, t0 = cpu_children(), time.perf_counter()
    p = subprocess.run([sys.executable, BASELINE, endpoint, root], capture_output=True)
    wall, cpu = time.perf_counter() - t0, cpu_children() - c0
    if p.returncode != 0:
        sys.exit(f"aws_baseline.py failed: {p.stderr.decode()[-2000:]}")
    res = json.loads(p.stdout)
    return wall, cpu, res["written"], res["unchanged"]


def requests(px):
    counts = json.loads(http(px + "/_proxy/counts"))
    return sum(v for k, v in counts.items() if not k.startswith("_")), counts


def scenario(name, smc, moto, px, root, nconfigs, expect, env):
    rows = []
    for who in ("smc", "baseline"):
        http(moto + "/moto-api/reset", b"")
        for phase in ("cold", "no-op"):
            http(px + "/_proxy/reset", b"")
            if who == "smc":
                wall, cpu, w, u = run_smc(smc, root, env)
            else:
                wall, cpu, w, u = run_baseline(px, root)
            nreq, counts = requests(px)
            want_w, want_u = (expect, 0) if phase == "cold" else (0, expect)
            if (w, u) != (want_w, want_u):
                sys.exit(f"{name} {who} {phase}: written {w} unchanged {u}, "
                         f"expected {want_w}/{want_u}")
            rows.append({"scenario": name, "client": who, "phase": phase,
                         "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                         "requests": nreq, "requests_per_config": round(nreq / nconfigs, 2),
                         "by_action": counts})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", type=int, default=200)
    ap.add_argument("--secrets", type=int, default=20)
    ap.add_argument("--skip-one-config", action="store_true", help="scenario A only")
    a = ap.parse_args()
    build = os.environ.get("SMC_BUILD", os.path.join(ROOT, "build"))
    smc = os.path.join(build, "smc")
    if not os.access(smc, os.X_OK):
        sys.exit(f"no {smc}: build first (SMC_BUILD names the build directory)")
    mport, pport = free_port(), free_port()
    moto, px = f"http://127.0.0.1:{mport}", f"http://127.0.0.1:{pport}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "AKIDBENCH", "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_REGION": "us-east-1"})
    procs = []
    rows = []
    tmp = tempfile.mkdtemp(prefix="smc-aws-bench-")
    try:
        os.chmod(tmp, 0o755)
        logf = open(os.path.join(tmp, "moto.log"), "w")
        procs.append(subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                       "-p", str(mport)], stdout=logf, stderr=logf,
                                      start_new_session=True))
        procs.append(subprocess.Popen([sys.executable, PROXY, str(pport), moto], stdout=logf,
                                      stderr=logf, start_new_session=True))
        wait_up(moto + "/moto-api/")
        wait_up(px + "/_proxy/counts")
        n = a.configs * a.secrets
        ra = os.path.join(tmp, "a")
        gen(ra, a.configs, a.secrets, px)
        rows += scenario(f"A: {a.configs} configs x {a.secrets}", smc, moto, px, ra, a.configs,
                         n, env)
        report(rows, a.secrets)  # printed now too: scenario B takes a while
        if not a.skip_one_config:
            rb = os.path.join(tmp, "b")
            gen(rb, a.configs, a.secrets, px, one_config=True)
            rows += scenario(f"B: 1 config, {a.configs} svc x {a.secrets}", smc, moto, px, rb,
                             1, n, env)
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 15)
            except OSError:
                pass
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if not a.skip_one_config:
        report(rows, a.secrets)


def report(rows, secrets):
    print(flush=True)
    print(f"{'scenario':30} {'phase':6} {'smc s':>8} {'base s':>8} {'ratio':>6} "
          f"{'smc cpu':>8} {'base cpu':>8} {'ratio':>6} {'smc req/cfg':>11} {'base req/cfg':>12}")
    by = {(r["scenario"], r["client"], r["phase"]): r for r in rows}
    for (scen, who, phase), s in by.items():
        if who != "smc":
            continue
        b = by[(scen, "baseline", phase)]
        print(f"{scen:30} {phase:6} {s['wall_s']:8.2f} {b['wall_s']:8.2f} "
              f"{s['wall_s'] / b['wall_s']:6.2f} {s['cpu_s']:8.2f} {b['cpu_s']:8.2f} "
              f"{s['cpu_s'] / b['cpu_s'] if b['cpu_s'] else 0:6.2f} "
              f"{s['requests_per_config']:11.2f} {b['requests_per_config']:12.2f}")
    noop = [r for r in rows if r["client"] == "smc" and r["phase"] == "no-op"
            and r["scenario"].startswith("A")]
    if noop:
        per = noop[0]["requests_per_config"]
        print(f"AWS requests per no-op reconcile of a {secrets}-secret config (smc): {per:g} "
              f"(goal <= 2: {'met' if per <= 2 else 'NOT met'})", flush=True)
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "aws_results.json"), "w") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
