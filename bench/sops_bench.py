#!/usr/bin/env python3
"""SOPS/age/PGP benchmark (issue 3). Not a test: prints ratios against baselines measured in
the same run on the same machine.

  1. 1,000 small age-encrypted SOPS files, one `smc decrypt --identity KEY FILE` process
     per file, and one `smc decrypt --identity KEY FILE...` process for all of them
     (keys loaded once, data keys unwrapped in-process: what the decryptor does), versus
     one `age -d -i KEY` process per file (Debian's age) on small age files of the same
     plaintext.
  2. The same files encrypted to an OpenPGP key (the gpg test key): one `smc decrypt
     --keys DIR FILE` process per file (each process makes a private gpg home and imports
     the key: what the CLI costs) and one process for all of them, versus one `gpg --decrypt` per file of small PGP
     messages with a home prepared once. In the pipeline the key is imported once per
     decryptor start, so the sync figure of run.py is the one that matters there.
  3. Throughput on a 100 MiB payload: `smc decrypt --identity` of a plain age file versus
     `age -d` of the same file (output to /dev/null).

Every decrypted output is checked against its plaintext once per scenario before timing.
SMC_BUILD (default ./build) names the build directory; --files N, --pgp-files N and
--mib N shrink the run."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("SMC_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
GPG_FX = os.path.join(SHARED, "fixtures", "gpg")
PGP_FPR = "63851F6D9FE653C63308876A41CA918022A8BEF0"  # test-rsa3072 (test only)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def timed_loop(cmds, env=None):
    """Runs each command once, in order; returns the wall time in seconds."""
    t0 = time.perf_counter()
    for c in cmds:
        subprocess.run(c, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def plaintext(i):
    return (f"DB_PASSWORD=bench-password-{i:04d}\nAPI_KEY=bench-api-key-{i:04d}-xyz\n"
            f"TOKEN=t{i * 7919:08d}\n").encode()


def make_files(smc, tmp, n, enc_args, suffix):
    """n SOPS dotenv files made with `smc encrypt` (enc_args) plus n baseline inputs."""
    d = os.path.join(tmp, suffix)
    os.makedirs(d)
    files = []
    for i in range(n):
        src = os.path.join(d, f"app{i:04d}.env")
        with open(src, "wb") as f:
            f.write(plaintext(i))
        out = run([smc, "encrypt", *enc_args, src]).stdout
        os.unlink(src)
        dst = os.path.join(d, f"app{i:04d}.enc.env")
        with open(dst, "wb") as f:
            f.write(out)
        files.append(dst)
    return files


def row(name, n, smc_s, base_s, base_name):
    print(f"{name:44} {n:>6} {smc_s:>9.2f} {base_s:>9.2f} {smc_s / base_s:>7.2f}  (baseline: {base_name})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--pgp-files", type=int, default=1000)
    ap.add_argument("--mib", type=int, default=100)
    a = ap.parse_args()
    build = os.environ.get("SMC_BUILD", os.path.join(ROOT, "build"))
    smc = os.path.join(build, "smc")
    for tool in ("age", "age-keygen", "gpg"):
        if shutil.which(tool) is None:
            sys.exit(f"sops_bench: {tool} not found (Debian: apt-get install age gnupg)")
    if not os.access(smc, os.X_OK):
        sys.exit(f"sops_bench: {smc} not built (set SMC_BUILD)")
    print(f"{'scenario':44} {'files':>6} {'smc s':>9} {'base s':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory(prefix="smc-sops-bench-") as tmp:
        # --- 1. age -----------------------------------------------------------------
        key = os.path.join(tmp, "bench.agekey")
        run(["age-keygen", "-o", key])
        recipient = run(["age-keygen", "-y", key]).stdout.decode().strip()
        sops_files = make_files(smc, tmp, a.files, ["--age", recipient], "age")
        age_files = []
        for i in range(a.files):
            p = os.path.join(tmp, "age", f"app{i:04d}.age")
            run(["age", "-r", recipient, "-o", p], input=plaintext(i))
            age_files.append(p)
        for i in (0, a.files - 1):
            assert run([smc, "decrypt", "--identity", key, sops_files[i]]).stdout == plaintext(i)
            assert run(["age", "-d", "-i", key, age_files[i]]).stdout == plaintext(i)
        t_smc = timed_loop([[smc, "decrypt", "--identity", key, f] for f in sops_files])
        t_age = timed_loop([["age", "-d", "-i", key, f] for f in age_files])
        row("age SOPS file, one smc process per file", a.files, t_smc, t_age, "age -d per file")
        want = b"".join(plaintext(i) for i in range(a.files))
        assert run([smc, "decrypt", "--identity", key, *sops_files]).stdout == want
        t_one = timed_loop([[smc, "decrypt", "--identity", key, *sops_files]])
        row("age SOPS files, one smc process for all", a.files, t_one, t_age, "age -d per file")

        # --- 2. OpenPGP ---------------------------------------------------------------
        keys = os.path.join(tmp, "pgpkeys")
        os.makedirs(keys)
        shutil.copy(os.path.join(GPG_FX, "test-rsa3072.private.asc"), os.path.join(keys, "key.asc"))
        pub = os.path.join(GPG_FX, "test-rsa3072.public.asc")
        pgp_files = make_files(smc, tmp, a.pgp_files, ["--pgp", PGP_FPR, "--pgp-pubkey", pub], "pgp")
        home = os.path.join(tmp, "gnupg")
        os.makedirs(home, mode=0o700)
        genv = dict(os.environ, GNUPGHOME=home)
        run(["gpg", "--batch", "--import", os.path.join(keys, "key.asc")], env=genv)
        gpg_files = []
        for i in range(a.pgp_files):
            p = os.path.join(tmp, "pgp", f"app{i:04d}.asc")
            run(["gpg", "--batch", "--yes", "--trust-model", "always", "--armor", "--encrypt",
                 "--no-encrypt-to", "-r", PGP_FPR, "-o", p], input=plaintext(i), env=genv)
            gpg_files.append(p)
        for i in (0, a.pgp_files - 1):
            assert run([smc, "decrypt", "--keys", keys, pgp_files[i]]).stdout == plaintext(i)
            assert run(["gpg", "--batch", "--quiet", "--decrypt", gpg_files[i]], env=genv).stdout == plaintext(i)
        t_smc = timed_loop([[smc, "decrypt", "--keys", keys, f] for f in pgp_files])
        t_gpg = timed_loop([["gpg", "--batch", "--quiet", "--decrypt", "-o", os.devnull, f]
                            for f in gpg_files], env=genv)
        row("PGP SOPS file, one smc process per file", a.pgp_files, t_smc, t_gpg,
            "gpg --decrypt per file, key imported once")
        want = b"".join(plaintext(i) for i in range(a.pgp_files))
        assert run([smc, "decrypt", "--keys", keys, *pgp_files]).stdout == want
        t_one = timed_loop([[smc, "decrypt", "--keys", keys, *pgp_files]])
        row("PGP SOPS files, one smc process for all", a.pgp_files, t_one, t_gpg,
            "gpg --decrypt per file, key imported once")
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], check=False)

        # --- 3. throughput --------------------------------------------------------------
        big = os.path.join(tmp, "big.bin")
        with open(big, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(a.mib):
                f.write(chunk)
        bige = big + ".age"
        run(["age", "-r", recipient, "-o", bige, big])
        os.unlink(big)
        t_smc = min(timed_loop([[smc, "decrypt", "--identity", key, bige]]) for _ in range(3))
        t_age = min(timed_loop([["age", "-d", "-i", key, "-o", os.devnull, bige]]) for _ in range(3))
        name = f"age {a.mib} MiB payload, best of 3"
        print(f"{name:44} {1:>6} {t_smc:>9.2f} {t_age:>9.2f} {t_smc / t_age:>7.2f}  "
              f"(smc {a.mib / t_smc:.0f} MiB/s, age {a.mib / t_age:.0f} MiB/s)")
    print("ratio = smc time / baseline time (lower is better for smc)")


if __name__ == "__main__":
    main()
