"""Test PKI for the fake API server: a CA, a server certificate for 127.0.0.1/localhost,
a client certificate (CN = user, O = group) signed by the CA, and kubeconfigs."""
import base64
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_DAYS = 30
CLIENT_USER = "smc-test-admin"
CLIENT_GROUP = "system:masters"


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _builder(subject, issuer, pub):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(pub).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CERT_DAYS)))


def _write(path, data, mode=0o600):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def make_pki(cert_dir):
    """Creates ca.crt/ca.key, server.crt/server.key, client.crt/client.key in cert_dir
    (reusing existing files so restarts keep the same trust). Returns a dict of paths."""
    os.makedirs(cert_dir, exist_ok=True)
    p = {n: os.path.join(cert_dir, n) for n in
         ("ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key")}
    if all(os.path.exists(v) for v in p.values()):
        return p
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smc-fake-kube-ca")])
    ca = (_builder(ca_name, ca_name, ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())

    srv_key = _key()
    srv = (_builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
                    ca_name, srv_key.public_key())
           .add_extension(x509.SubjectAlternativeName([
               x509.DNSName("localhost"), x509.DNSName("kubernetes"),
               x509.DNSName("kubernetes.default.svc"),
               x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
               x509.IPAddress(ipaddress.ip_address("::1"))]), critical=False)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                          critical=False)
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(aki, critical=False)
           .sign(ca_key, hashes.SHA256()))

    cl_key = _key()
    cl = (_builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CLIENT_USER),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, CLIENT_GROUP)]),
                   ca_name, cl_key.public_key())
          .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                         critical=False)
          .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
          .add_extension(aki, critical=False)
          .sign(ca_key, hashes.SHA256()))

    _write(p["ca.key"], _pem_key(ca_key))
    _write(p["ca.crt"], _pem_cert(ca), 0o644)
    _write(p["server.key"], _pem_key(srv_key))
    _write(p["server.crt"], _pem_cert(srv), 0o644)
    _write(p["client.key"], _pem_key(cl_key))
    _write(p["client.crt"], _pem_cert(cl), 0o644)
    return p


def _b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def write_kubeconfig(path, server, user, ca_path=None, token=None, cert=None, key=None,
                     namespace="default"):
    """Writes a kubeconfig (JSON is valid YAML) with one cluster/user/context."""
    import json
    cluster = {"server": server}
    if ca_path:
        cluster["certificate-authority-data"] = _b64file(ca_path)
    u = {}
    if token:
        u["token"] = token
    if cert:
        u["client-certificate-data"] = _b64file(cert)
        u["client-key-data"] = _b64file(key)
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "fake", "cluster": cluster}],
           "users": [{"name": user, "user": u}],
           "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": user,
                                                     "namespace": namespace}}],
           "current-context": "fake", "preferences": {}}
    _write(path, (json.dumps(cfg, indent=2) + "\n").encode())
