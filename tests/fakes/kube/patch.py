"""Patches: RFC 7386 merge patch, RFC 6902 JSON patch, strategic merge patch (the parts
built-in objects use), and server-side apply with per-manager field ownership."""
import copy

from .util import ApiError, bad_request, now_rfc3339

MAX_PATCH_OPS = 10000
MAX_DEPTH = 64


def merge_patch(target, patch, depth=0):
    if depth > MAX_DEPTH:
        raise bad_request("patch nesting too deep")
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v, depth + 1)
    return out


# ---- JSON patch -------------------------------------------------------------------------

def _unescape(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", "the JSON pointer %r must start with /" % path)
    return [_unescape(t) for t in path[1:].split("/")]


def _parent(doc, toks, path):
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            raise ApiError(422, "Invalid", "doc is missing path: \"%s\": missing value" % path)
    return cur


def _get(doc, path):
    toks = _ptr(path)
    if not toks:
        return doc
    par = _parent(doc, toks, path)
    last = toks[-1]
    if isinstance(par, dict) and last in par:
        return par[last]
    if isinstance(par, list) and last.isdigit() and int(last) < len(par):
        return par[int(last)]
    raise ApiError(422, "Invalid", "doc is missing path: \"%s\": missing value" % path)


def _remove(doc, path):
    toks = _ptr(path)
    par = _parent(doc, toks, path)
    last = toks[-1]
    if isinstance(par, dict) and last in par:
        return par.pop(last)
    if isinstance(par, list) and last.isdigit() and int(last) < len(par):
        return par.pop(int(last))
    raise ApiError(422, "Invalid", "doc is missing path: \"%s\": missing value" % path)


def _add(doc, path, value):
    toks = _ptr(path)
    if not toks:
        return value
    par = _parent(doc, toks, path)
    last = toks[-1]
    if isinstance(par, dict):
        par[last] = value
    elif isinstance(par, list):
        if last == "-":
            par.append(value)
        elif last.isdigit() and int(last) <= len(par):
            par.insert(int(last), value)
        else:
            raise ApiError(422, "Invalid", "add operation does not apply: doc is missing "
                           "path: \"%s\": missing value" % path)
    else:
        raise ApiError(422, "Invalid", "doc is missing path: \"%s\": missing value" % path)
    return doc


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    if len(ops) > MAX_PATCH_OPS:
        raise ApiError(422, "Invalid", "the JSON patch has too many operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise bad_request("invalid JSON patch operation")
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if _ptr(path):
                _remove(doc, path)
                doc = _add(doc, path, copy.deepcopy(op.get("value")))
            else:
                doc = copy.deepcopy(op.get("value"))
        elif kind == "move":
            v = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, v)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from", ""))))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise ApiError(422, "Invalid", "the server rejected our request due to an "
                               "error in our request", None)
        else:
            raise ApiError(422, "Invalid", "Unexpected kind: %s" % kind)
    return doc


# ---- strategic merge patch (built-in kinds) ---------------------------------------------

# list fields with a patch strategy (everything else is replaced, as for atomic lists)
SMP_LISTS = {
    ("metadata", "finalizers"): None,          # merge, primitive
    ("metadata", "ownerReferences"): "uid",
    ("status", "conditions"): "type",
    ("spec", "finalizers"): None,
}


def _smp_list(orig, patch, key):
    orig = list(orig) if isinstance(orig, list) else []
    if key is None:
        for v in patch:
            if v not in orig:
                orig.append(v)
        return orig
    for item in patch:
        if not isinstance(item, dict):
            continue
        directive = item.get("$patch")
        idx = next((i for i, o in enumerate(orig)
                    if isinstance(o, dict) and o.get(key) == item.get(key)), None)
        if directive == "delete":
            if idx is not None:
                orig.pop(idx)
        elif idx is None:
            orig.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            orig[idx] = strategic_merge(orig[idx], item, ())
    return orig


def strategic_merge(orig, patch, path=(), depth=0):
    if depth > MAX_DEPTH:
        raise bad_request("patch nesting too deep")
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            f = k.split("/", 1)[1]
            if isinstance(out.get(f), list) and isinstance(v, list):
                out[f] = [x for x in out[f] if x not in v]
            continue
        p = path + (k,)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and p in SMP_LISTS:
            out[k] = _smp_list(out.get(k), v, SMP_LISTS[p])
        elif isinstance(v, dict):
            r = strategic_merge(out.get(k), v, p, depth + 1)
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
        else:
            out[k] = copy.deepcopy(v)
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


# ---- field ownership and server-side apply ----------------------------------------------

UNOWNED_META = {"name", "namespace", "uid", "resourceVersion", "generation",
                "creationTimestamp", "managedFields", "deletionTimestamp",
                "deletionGracePeriodSeconds", "selfLink", "generateName"}


def leaf_paths(obj, prefix=(), top=True):
    """Paths of leaves; maps recurse, lists and scalars are atomic leaves."""
    out = set()
    if not isinstance(obj, dict):
        return {prefix}
    for k, v in obj.items():
        if top and k in ("apiVersion", "kind"):
            continue
        if top and k == "metadata" and isinstance(v, dict):
            for mk, mv in v.items():
                if mk in UNOWNED_META:
                    continue
                p = ("metadata", mk)
                out |= leaf_paths(mv, p, False) if isinstance(mv, dict) and mv else {p}
            continue
        p = prefix + (k,)
        if isinstance(v, dict) and v:
            out |= leaf_paths(v, p, False)
        else:
            out.add(p)
    return out


_MISSING = object()


def value_at(obj, path):
    cur = obj
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return _MISSING
        cur = cur[k]
    return cur


def delete_at(obj, path):
    cur = obj
    chain = []
    for k in path[:-1]:
        if not isinstance(cur, dict) or k not in cur:
            return
        chain.append((cur, k))
        cur = cur[k]
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
    # drop maps left empty by the removal (but never top-level sections)
    for parent, k in reversed(chain):
        if len(chain) and isinstance(parent.get(k), dict) and not parent[k] and \
                (parent is not obj):
            parent.pop(k)


def fields_to_v1(paths):
    root = {}
    for p in sorted(paths):
        cur = root
        for k in p:
            cur = cur.setdefault("f:" + k, {})
    return root


def fields_from_v1(fv, prefix=()):
    out = set()
    if not isinstance(fv, dict):
        return out
    for k, v in fv.items():
        if not k.startswith("f:"):
            continue
        p = prefix + (k[2:],)
        if isinstance(v, dict) and any(x.startswith("f:") for x in v):
            out |= fields_from_v1(v, p)
        else:
            out.add(p)
    return out


def _overlap(a, b):
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _entries(obj):
    return [e for e in (obj.get("metadata", {}).get("managedFields") or [])
            if isinstance(e, dict)]


def _key(e):
    return (e.get("manager"), e.get("operation"), e.get("subresource", ""))


def record_update(old, new, manager, api_version, subresource=""):
    """Gives `manager` (operation Update) the fields that changed from old to new."""
    entries = _entries(old) if old else []
    oldp = leaf_paths(old) if old else set()
    newp = leaf_paths(new)
    changed = {p for p in newp if value_at(old, p) != value_at(new, p)} if old else newp
    removed = oldp - newp
    sets = {}
    order = []
    for e in entries:
        k = _key(e)
        sets[k] = fields_from_v1(e.get("fieldsV1"))
        order.append((k, e))
    for k in sets:
        sets[k] = {p for p in sets[k] if not any(_overlap(p, c) for c in changed | removed)}
    mk = (manager, "Update", subresource)
    if changed:
        sets[mk] = sets.get(mk, set()) | changed
        if mk not in [k for k, _ in order]:
            order.append((mk, {"manager": manager, "operation": "Update"}))
    _store_entries(new, order, sets, {mk} if changed else set(), api_version)


def _store_entries(obj, order, sets, touched, api_version):
    now = now_rfc3339()
    out = []
    for k, e in order:
        s = sets.get(k, set())
        if not s:
            continue
        ne = {"manager": k[0], "operation": k[1],
              "apiVersion": api_version if k in touched else e.get("apiVersion", api_version),
              "time": now if k in touched else e.get("time", now),
              "fieldsType": "FieldsV1", "fieldsV1": fields_to_v1(s)}
        if k[2]:
            ne["subresource"] = k[2]
        out.append(ne)
    md = obj.setdefault("metadata", {})
    if out:
        md["managedFields"] = out
    else:
        md.pop("managedFields", None)


def _deep_merge(live, cfg):
    if not isinstance(live, dict) or not isinstance(cfg, dict):
        return copy.deepcopy(cfg)
    out = copy.deepcopy(live)
    for k, v in cfg.items():
        out[k] = _deep_merge(out.get(k), v)
    return out


def _path_str(p):
    return "." + ".".join(p)


def server_side_apply(live, cfg, manager, force, api_version, subresource=""):
    """Applies cfg as `manager`. live is None for a create. Returns the new object, or
    raises a 409 Conflict with details.causes listing the conflicting fields."""
    cfg = copy.deepcopy(cfg)
    applied = {k: v for k, v in cfg.items() if k not in ("apiVersion", "kind")}
    md = applied.get("metadata")
    if isinstance(md, dict):
        applied["metadata"] = {k: v for k, v in md.items() if k not in UNOWNED_META}
    newp = leaf_paths(applied)
    entries = _entries(live) if live else []
    sets, order = {}, []
    for e in entries:
        k = _key(e)
        sets[k] = fields_from_v1(e.get("fieldsV1"))
        order.append((k, e))
    mk = (manager, "Apply", subresource)
    conflicts = []
    for k, s in sets.items():
        if k[0] == manager or k[2] != subresource:
            continue
        for p in s:
            for q in newp:
                if _overlap(p, q):
                    short = p if len(p) <= len(q) else q
                    lv = value_at(live, short)
                    av = value_at(applied, short)
                    if len(q) < len(p):
                        av = value_at(applied, q)
                        lv = value_at(live, q)
                    if lv != av:
                        conflicts.append((k[0], short))
    if conflicts and not force:
        conflicts = sorted(set(conflicts))
        causes = [{"type": "FieldManagerConflict",
                   "message": 'conflict with "%s": %s' % (m, _path_str(p)),
                   "field": _path_str(p)} for m, p in conflicts]
        if len(conflicts) == 1:
            msg = 'Apply failed with 1 conflict: conflict with "%s": %s' % (
                conflicts[0][0], _path_str(conflicts[0][1]))
        else:
            msg = "Apply failed with %d conflicts: %s" % (
                len(conflicts), "\n".join(c["message"] for c in causes))
        raise ApiError(409, "Conflict", msg, {"causes": causes})
    # forced (or no conflict): others lose the fields we now own
    for k in list(sets):
        if k != mk:
            sets[k] = {p for p in sets[k] if not any(_overlap(p, q) for q in newp)}
    result = _deep_merge(copy.deepcopy(live) if live else {}, applied)
    # fields we applied before but no longer do, and nobody else owns: removed
    for p in sets.get(mk, set()) - newp:
        if any(_overlap(p, q) for q in newp):
            continue
        if any(any(_overlap(p, q) for q in s) for k, s in sets.items() if k != mk):
            continue
        delete_at(result, p)
    sets[mk] = newp
    if mk not in [k for k, _ in order]:
        order.append((mk, {"manager": manager, "operation": "Apply"}))
    if live is not None:
        result.setdefault("metadata", {})["managedFields"] = live.get("metadata", {}).get(
            "managedFields", [])
    _store_entries(result, order, sets, {mk}, api_version)
    for k in ("apiVersion", "kind"):
        if k in cfg:
            result[k] = cfg[k]
    return result
