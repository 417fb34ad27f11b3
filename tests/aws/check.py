#!/usr/bin/env python3
"""Independent checks of what moto holds, with boto3 (the official AWS SDK).

Usage: check.py <moto-url> <credfile> <command> [args...]
  setup                      IAM role smc-role (inline policy Allow *) and user "checker"
                             with an access key written to <credfile> (needs 5 free calls)
  describe NAME              JSON: exists, tags, versions (count), deleted, current stages
  value-is NAME VALUE        exit 0 when the current SecretString equals VALUE, 1 otherwise
  put NAME VALUE             PutSecretValue by hand (drift)
  decoy NAME VALUE           CreateSecret without any tag
  delete NAME                DeleteSecret (7-day window) by hand
  ssm-describe NAME          JSON: exists, type, version, tags
  ssm-value-is NAME VALUE    exit 0 when the parameter value equals VALUE
  ssm-put NAME VALUE [TAGS]  PutParameter by hand (Overwrite; without tags)
  deny ACTION                replace smc-role's policy: Allow * except Deny ACTION
  user-key USER OUTFILE      IAM user USER (created when missing, policy Allow *) gets a new
                             access key, written to OUTFILE as JSON (never printed)
  drop-key USER KEYID        deletes that access key of USER
  pod-serve PORT TOKENFILE   serve EKS Pod Identity credentials (session credentials of
                             smc-role, from a signed STS AssumeRole) on 127.0.0.1:PORT, only
                             to requests whose Authorization equals the token file content
  mirror RESULT STORE SMC ENV OWNER
                             every secret of smc's JSON RESULT exists once in Secrets
                             Manager, tagged managed-by + OWNER, with the value `SMC get
                             --store STORE` gives; every config is a tagged String parameter
                             /<service>/ENV/<key> with that value. Prints the names that
                             differ (never values); exit 1 when any does
  repl                       read "command<TAB>arg..." lines on stdin, answer each with one
                             JSON line {"rc": n, "out": "..."} (saves a Python start per check)
Values are never printed.
"""
import json
import sys

import boto3
import botocore.exceptions

REGION = "us-east-1"


def client(url, credfile, svc):
    key = (url, svc)
    if svc != "iam" and key in CLIENTS:
        return CLIENTS[key]
    with open(credfile) as f:
        c = json.load(f)
    cl = boto3.client(svc, region_name=REGION, endpoint_url=url,
                      aws_access_key_id=c["AccessKeyId"],
                      aws_secret_access_key=c["SecretAccessKey"])
    CLIENTS[key] = cl
    return cl


def setup(url, credfile):
    kw = dict(region_name=REGION, endpoint_url=url, aws_access_key_id="AKIDSETUP",
              aws_secret_access_key="setup")
    iam = boto3.client("iam", **kw)
    doc = json.dumps({"Version": "2012-10-17",
                      "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Federated": "test"},
         "Action": "sts:AssumeRoleWithWebIdentity"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/checker"},
         "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="smc-role", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="smc-role", PolicyName="all", PolicyDocument=doc)
    iam.create_user(UserName="checker")
    iam.put_user_policy(UserName="checker", PolicyName="all", PolicyDocument=doc)
    k = iam.create_access_key(UserName="checker")["AccessKey"]
    with open(credfile, "w") as f:
        json.dump({"AccessKeyId": k["AccessKeyId"], "SecretAccessKey": k["SecretAccessKey"]}, f)


def describe(sm, name):
    try:
        d = sm.describe_secret(SecretId=name)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "ResourceNotFoundException":
            return {"exists": False}
        raise
    ids = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    return {"exists": True,
            "tags": {t["Key"]: t["Value"] for t in d.get("Tags", [])},
            "versions": len(ids),
            "deleted": d.get("DeletedDate") is not None,
            "deletion_days": ((d["DeletedDate"].timestamp() if d.get("DeletedDate") else 0)),
            "stages": sorted(s for v in d.get("VersionIdsToStages", {}).values() for s in v)}


def pod_serve(url, credfile, port, tokenfile):
    from http.server import BaseHTTPRequestHandler, HTTPServer
    sts = client(url, credfile, "sts")
    c = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/smc-role",
                        RoleSessionName="pod")["Credentials"]
    body = json.dumps({"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                       "Token": c["SessionToken"],
                       "Expiration": c["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
    want = open(tokenfile).read().strip()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            ok = self.headers.get("Authorization") == want
            data = body if ok else b'{"message":"bad token"}'
            self.send_response(200 if ok else 403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = HTTPServer(("127.0.0.1", int(port)), H)
    print("ready", flush=True)
    srv.serve_forever()


def repl(url, credfile):
    import io
    import contextlib
    for line in sys.stdin:
        parts = line.rstrip("\n").split("\t")
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                rc = dispatch(url, credfile, parts[0], parts[1:]) or 0
        except Exception as e:  # the test sees rc 3 and the error type, never a value
            print("check.py:", type(e).__name__, file=sys.stderr)
            rc = 3
        sys.stdout.write(json.dumps({"rc": rc, "out": buf.getvalue()}) + "\n")
        sys.stdout.flush()


def mirror(url, credfile, result, store, smc, env, owner):
    import subprocess
    with open(result) as f:
        res = json.load(f)
    sm = client(url, credfile, "secretsmanager")
    ssm = client(url, credfile, "ssm")
    bad = []

    def local(name, config):
        argv = [smc, "get", "--store", store] + (["--config"] if config else []) + [name]
        return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.rstrip("\n")

    for it in res["items"]:
        name = it["name"]
        if it["kind"] == "secret":
            d = describe(sm, name)
            ok = (d["exists"] and not d["deleted"] and d["versions"] == 1 and
                  d["tags"].get("managed-by") == "secret-manager-controller" and
                  d["tags"].get("owner") == owner)
            if ok:
                ok = sm.get_secret_value(SecretId=name).get("SecretString") == local(name, False)
        else:
            group = name.split("-", 1)[0]
            path = "/%s/%s/%s" % (group, env, it["key"])
            try:
                p = ssm.get_parameter(Name=path, WithDecryption=True)["Parameter"]
                tags = {t["Key"]: t["Value"] for t in ssm.list_tags_for_resource(
                    ResourceType="Parameter", ResourceId=path)["TagList"]}
                ok = (p["Type"] == "String" and tags.get("owner") == owner and
                      tags.get("managed-by") == "secret-manager-controller" and
                      p["Value"] == local(name, True))
            except botocore.exceptions.ClientError:
                ok = False
            name = path
        if not ok:
            bad.append(name)
    print(json.dumps({"checked": len(res["items"]), "differ": bad}))
    return 1 if bad else 0


def main():
    url, credfile, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    if cmd == "repl":
        return repl(url, credfile)
    return dispatch(url, credfile, cmd, args)


CLIENTS = {}


def dispatch(url, credfile, cmd, args):
    if cmd == "setup":
        CLIENTS.clear()
        return setup(url, credfile)
    if cmd == "deny":
        iam = client(url, credfile, "iam")
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": args[0], "Resource": "*"}]})
        iam.put_role_policy(RoleName="smc-role", PolicyName="all", PolicyDocument=doc)
        return 0
    if cmd == "user-key":
        iam = client(url, credfile, "iam")
        try:
            iam.create_user(UserName=args[0])
            iam.put_user_policy(UserName=args[0], PolicyName="all", PolicyDocument=json.dumps(
                {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        k = iam.create_access_key(UserName=args[0])["AccessKey"]
        with open(args[1], "w") as f:
            json.dump({"AccessKeyId": k["AccessKeyId"], "SecretAccessKey": k["SecretAccessKey"]}, f)
        return 0
    if cmd == "drop-key":
        client(url, credfile, "iam").delete_access_key(UserName=args[0], AccessKeyId=args[1])
        return 0
    if cmd == "mirror":
        return mirror(url, credfile, *args)
    if cmd == "pod-serve":
        return pod_serve(url, credfile, args[0], args[1])
    if cmd.startswith("ssm-"):
        ssm = client(url, credfile, "ssm")
        if cmd == "ssm-describe":
            try:
                p = ssm.get_parameter(Name=args[0], WithDecryption=True)["Parameter"]
            except botocore.exceptions.ClientError:
                print(json.dumps({"exists": False}))
                return 0
            tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=args[0])
            print(json.dumps({"exists": True, "type": p["Type"], "version": p["Version"],
                              "tags": {t["Key"]: t["Value"] for t in tags["TagList"]}}))
            return 0
        if cmd == "ssm-value-is":
            p = ssm.get_parameter(Name=args[0], WithDecryption=True)["Parameter"]
            return 0 if p["Value"] == args[1] else 1
        if cmd == "ssm-put":
            ssm.put_parameter(Name=args[0], Value=args[1], Type="String", Overwrite=True)
            return 0
    sm = client(url, credfile, "secretsmanager")
    if cmd == "describe":
        print(json.dumps(describe(sm, args[0]), sort_keys=True))
    elif cmd == "value-is":
        v = sm.get_secret_value(SecretId=args[0]).get("SecretString")
        return 0 if v == args[1] else 1
    elif cmd == "put":
        sm.put_secret_value(SecretId=args[0], SecretString=args[1])
    elif cmd == "decoy":
        sm.create_secret(Name=args[0], SecretString=args[1])
    elif cmd == "delete":
        sm.delete_secret(SecretId=args[0], RecoveryWindowInDays=7)
    else:
        print("unknown command", cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main() or 0)
