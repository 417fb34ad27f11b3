"""Decoding of the Kubernetes protobuf encoding (application/vnd.kubernetes.protobuf) for
the few built-in kinds kubectl's typed clients send that way (`kubectl create namespace`,
`kubectl create secret`, `kubectl create configmap`). Answers stay JSON (clients accept it).
Envelope: "k8s\\0" + runtime.Unknown{1: TypeMeta{1: apiVersion, 2: kind}, 2: raw,
3: contentEncoding, 4: contentType}; raw is the generated message of the kind
(k8s.io/api/core/v1/generated.proto field numbers)."""
import base64

from .util import ApiError

MAGIC = b"k8s\x00"
MAX_DEPTH = 32


def _varint(b, i):
    shift = v = 0
    while True:
        if i >= len(b) or shift > 63:
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7


def fields(b):
    """[(number, wiretype, value)] of one message; length-delimited values are bytes."""
    out, i = [], 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(b, i)
            if i + n > len(b):
                raise ValueError("truncated field")
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        out.append((num, wt, v))
    return out


def _str(v):
    return v.decode("utf-8")


def _map(entries, value=_str):
    out = {}
    for e in entries:
        kv = {n: v for n, _, v in fields(e)}
        out[_str(kv.get(1, b""))] = value(kv.get(2, b""))
    return out


def _owner_ref(b):
    names = {1: "kind", 3: "name", 4: "uid", 5: "apiVersion"}
    o = {}
    for n, _, v in fields(b):
        if n in names:
            o[names[n]] = _str(v)
        elif n == 6:
            o["controller"] = bool(v)
        elif n == 7:
            o["blockOwnerDeletion"] = bool(v)
    return o


def object_meta(b):
    m = {}
    labels, annotations, fins, owners = [], [], [], []
    for n, _, v in fields(b):
        if n in (1, 2, 3, 5, 6) and v:
            m[{1: "name", 2: "generateName", 3: "namespace", 5: "uid",
               6: "resourceVersion"}[n]] = _str(v)
        elif n == 11:
            labels.append(v)
        elif n == 12:
            annotations.append(v)
        elif n == 13:
            owners.append(_owner_ref(v))
        elif n == 14:
            fins.append(_str(v))
    if labels:
        m["labels"] = _map(labels)
    if annotations:
        m["annotations"] = _map(annotations)
    if owners:
        m["ownerReferences"] = owners
    if fins:
        m["finalizers"] = fins
    return m


def _b64(v):
    return base64.b64encode(v).decode()


def _secret(fs, o):
    data = []
    sdata = []
    for n, _, v in fs:
        if n == 2:
            data.append(v)
        elif n == 3 and v:
            o["type"] = _str(v)
        elif n == 4:
            sdata.append(v)
        elif n == 5:
            o["immutable"] = bool(v)
    if data:
        o["data"] = _map(data, _b64)
    if sdata:
        o["stringData"] = _map(sdata)


def _configmap(fs, o):
    data, binary = [], []
    for n, _, v in fs:
        if n == 2:
            data.append(v)
        elif n == 3:
            binary.append(v)
        elif n == 4:
            o["immutable"] = bool(v)
    if data:
        o["data"] = _map(data)
    if binary:
        o["binaryData"] = _map(binary, _b64)


def _namespace(fs, o):
    for n, _, v in fs:
        if n == 2:
            fins = [_str(x) for m, _, x in fields(v) if m == 1]
            if fins:
                o["spec"] = {"finalizers": fins}


KINDS = {"Secret": _secret, "ConfigMap": _configmap, "Namespace": _namespace}


def decode(body):
    """Returns the JSON form of a protobuf-encoded object, or raises 415."""
    unsupported = ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json, application/yaml")
    if not body.startswith(MAGIC):
        raise unsupported
    try:
        env = {n: v for n, _, v in fields(body[len(MAGIC):])}
        tm = {n: _str(v) for n, _, v in fields(env.get(1, b""))}
        kind, av = tm.get(2, ""), tm.get(1, "")
        if kind not in KINDS:
            raise unsupported
        fs = fields(env.get(2, b""))
        o = {"apiVersion": av, "kind": kind, "metadata": {}}
        for n, _, v in fs:
            if n == 1:
                o["metadata"] = object_meta(v)
        KINDS[kind](fs, o)
        return o
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "BadRequest", "the protobuf body could not be decoded")
