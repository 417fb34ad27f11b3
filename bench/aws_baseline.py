#!/usr/bin/env python3
"""The baseline smc's AWS path is compared against: one Python process with ONE reused
boto3 Secrets Manager client doing, for every config in turn, the same diff-and-write as
`smc sync` does per config:

  ListSecrets filtered on the owner tag (paged) -> BatchGetSecretValue of those (20 per
  call) -> CreateSecret with the managed-by/owner tags for names missing, PutSecretValue
  with a ClientRequestToken derived from name+value only where the value differs.

No sandbox, no process tree, no retries beyond botocore's defaults.

Usage: aws_baseline.py ENDPOINT ROOT   (ROOT/cfgNNNN/microservices/<svc>/.../dev/*.env)
Prints one JSON line: {"written": n, "unchanged": n}. Values are never printed."""
import hashlib
import json
import os
import sys
import uuid

import boto3

OWNER_NS = "bench"


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


def desired(cfgdir):
    want = {}
    base = os.path.join(cfgdir, "microservices")
    for svc in sorted(os.listdir(base)):
        p = os.path.join(base, svc, "deployment-configuration", "profiles", "dev",
                         "application.secrets.env")
        if os.path.exists(p):
            for k, v in parse_env(p).items():
                want[f"{svc}-{k}"] = v
    return want


def sync_one(sm, owner, want):
    have = {}
    kw = {"Filters": [{"Key": "tag-key", "Values": ["owner"]},
                      {"Key": "tag-value", "Values": [owner]}], "MaxResults": 100}
    while True:
        r = sm.list_secrets(**kw)
        for s in r.get("SecretList", []):
            have[s["Name"]] = None
        if not r.get("NextToken"):
            break
        kw["NextToken"] = r["NextToken"]
    names = sorted(have)
    for i in range(0, len(names), 20):
        r = sm.batch_get_secret_value(SecretIdList=names[i:i + 20])
        for s in r.get("SecretValues", []):
            have[s["Name"]] = s.get("SecretString")
    written = unchanged = 0
    tags = [{"Key": "managed-by", "Value": "secret-manager-controller"},
            {"Key": "owner", "Value": owner}]
    for name, value in sorted(want.items()):
        token = str(uuid.UUID(bytes=hashlib.sha256((name + "\0" + value).encode()).digest()[:16]))
        if name not in have:
            sm.create_secret(Name=name, SecretString=value, Tags=tags, ClientRequestToken=token)
            written += 1
        elif have[name] != value:
            sm.put_secret_value(SecretId=name, SecretString=value, ClientRequestToken=token)
            written += 1
        else:
            unchanged += 1
    return written, unchanged


def main():
    endpoint, root = sys.argv[1], sys.argv[2]
    sm = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=endpoint,
                      aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench")
    written = unchanged = 0
    for cfg in sorted(os.listdir(root)):
        if not cfg.startswith("cfg"):
            continue
        w, u = sync_one(sm, f"{OWNER_NS}/{cfg}", desired(os.path.join(root, cfg)))
        written += w
        unchanged += u
    print(json.dumps({"written": written, "unchanged": unchanged}))


if __name__ == "__main__":
    main()
