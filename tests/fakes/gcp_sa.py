#!/usr/bin/env python3
"""Writes a Google service-account JSON key for tests: gcp_sa.py OUT.json [--email E]
[--project P] [--token-uri URL] [--key-id ID]. The RSA key is made by `openssl genrsa`;
the JSON has type, project_id, private_key_id, private_key, client_email, client_id,
token_uri (point it at tests/fakes/gcp_server.py's /token) and auth_uri."""
import argparse
import json
import os
import secrets
import subprocess


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--project", default="test-proj")
    ap.add_argument("--email")
    ap.add_argument("--token-uri", default="https://oauth2.googleapis.com/token")
    ap.add_argument("--key-id")
    a = ap.parse_args()
    pem = subprocess.run(["openssl", "genrsa", "2048"], check=True, capture_output=True,
                         text=True).stdout
    if "BEGIN PRIVATE KEY" not in pem:       # OpenSSL 1.1 prints PKCS#1; Google keys are PKCS#8
        pem = subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt"], input=pem, check=True,
                             capture_output=True, text=True).stdout
    key = {
        "type": "service_account",
        "project_id": a.project,
        "private_key_id": a.key_id or secrets.token_hex(20),
        "private_key": pem,
        "client_email": a.email or "smc-test@%s.iam.gserviceaccount.com" % a.project,
        "client_id": str(secrets.randbelow(10 ** 20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": a.token_uri,
        "universe_domain": "googleapis.com",
    }
    fd = os.open(a.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(key, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
