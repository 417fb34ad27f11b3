#!/usr/bin/env python3
"""Generates a GitOps repository in the reference layout for benchmarks:
SERVICES services x SECRETS secrets each (application.secrets.env), plus a few configs
(application.properties), and the SecretManagerConfig that syncs it into a local store."""
import os
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen_repo.py DIR SERVICES SECRETS")
    root, services, secrets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for s in range(services):
        d = os.path.join(root, "microservices", f"svc{s:04d}", "deployment-configuration",
                         "profiles", "dev")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "application.secrets.env"), "w") as f:
            for k in range(secrets):
                f.write(f"SECRET_{k:03d}=value-{s}-{k}-{'x' * 24}\n")
        with open(os.path.join(d, "application.properties"), "w") as f:
            f.write(f"server.port={8000 + s}\nservice.name=svc{s:04d}\n")
    with open(os.path.join(root, "bench.yaml"), "w") as f:
        f.write("""apiVersion: secret-management.octopilot.io/v1beta1
kind: SecretManagerConfig
metadata: {name: bench, namespace: bench}
spec:
  sourceRef: {kind: Directory, path: .}
  provider: {local: {}}
  secrets: {environment: dev, basePath: microservices}
  configs: {enabled: true}
""")


if __name__ == "__main__":
    main()
