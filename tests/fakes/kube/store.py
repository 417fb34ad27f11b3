"""In-memory object store: one global resourceVersion counter, a bounded event history
(for watches and 410 Gone), admission (defaults, validation, status subresource,
generation, finalizers) and every write verb."""
import base64
import collections
import copy
import json
import os
import random
import re
import string
import threading
import uuid

from . import patch as P
from . import registry as R
from . import schema as S
from .util import (ApiError, already_exists, bad_request, conflict, field_match, gone, invalid,
                   label_match, not_found, now_rfc3339, parse_field_selector,
                   parse_label_selector)

DEFAULT_HISTORY = 1000
MAX_NAME = 253
MAX_LABEL_VALUE = 63
MAX_OBJECT_BYTES = 3 * 1024 * 1024
MAX_LIST_LIMIT = 100000
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

_DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class Event:
    __slots__ = ("rv", "key", "type", "obj", "old")

    def __init__(self, rv, key, etype, obj, old):
        self.rv, self.key, self.type, self.obj, self.old = rv, key, etype, obj, old


class Store:
    def __init__(self, history=DEFAULT_HISTORY):
        self.cond = threading.Condition(threading.RLock())
        self.reg = R.Registry()
        self.rv = 0
        self.objects = collections.defaultdict(dict)   # storage key -> {(ns,name): obj}
        self.history = collections.deque()
        self.history_max = history
        self.compacted_rv = 0
        self.watch_epoch = 0           # bumped by /fake/compact?expireWatches
        self.watchers = 0
        self.on_change = None
        ns_rt = self.reg.get("", "v1", "namespaces")
        for ns in DEFAULT_NAMESPACES:
            self.create(ns_rt, None, {"metadata": {"name": ns}}, {})

    # ---- helpers ------------------------------------------------------------------------
    def _bump(self):
        self.rv += 1
        return self.rv

    def _emit(self, key, etype, obj, old):
        if len(self.history) >= self.history_max:
            self.compacted_rv = self.history.popleft().rv
        self.history.append(Event(self.rv, key, etype, copy.deepcopy(obj),
                                  copy.deepcopy(old) if old is not None else None))
        self.cond.notify_all()
        if self.on_change:
            self.on_change()

    def compact(self):
        """Drops the whole history: a watch or list from an older RV gets 410 Gone."""
        with self.cond:
            self.history.clear()
            self.compacted_rv = self.rv
            self.cond.notify_all()
            return self.rv

    def expire_watches(self):
        with self.cond:
            self.watch_epoch += 1
            self.cond.notify_all()

    def ns_rt(self):
        return self.reg.get("", "v1", "namespaces")

    def _scope_check(self, rt, ns, create=False):
        if rt.namespaced:
            if not ns:
                raise bad_request("the namespace of the object must be set")
            nso = self.objects[("", "namespaces")].get((None, ns))
            if create:
                if nso is None:
                    raise not_found(self.ns_rt(), ns)
                if nso.get("metadata", {}).get("deletionTimestamp"):
                    raise ApiError(403, "Forbidden", 'unable to create new content in namespace '
                                   '%s because it is being terminated' % ns,
                                   {"name": ns, "kind": "namespaces"})

    def get(self, rt, ns, name):
        with self.cond:
            o = self.objects[rt.storage_key].get((ns if rt.namespaced else None, name))
            if o is None:
                raise not_found(rt, name)
            return R.from_storage(rt, o)

    # ---- list ---------------------------------------------------------------------------
    def selectors(self, rt, q):
        return (parse_label_selector(q.get("labelSelector")),
                parse_field_selector(q.get("fieldSelector"), rt.fields))

    def matches(self, rt, ns, sel, obj_storage):
        if obj_storage is None:
            return False
        o = R.from_storage(rt, obj_storage)
        md = o.get("metadata", {})
        if ns and rt.namespaced and md.get("namespace") != ns:
            return False
        return label_match(sel[0], md.get("labels")) and field_match(sel[1], o)

    def list(self, rt, ns, q):
        sel = self.selectors(rt, q)
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise bad_request("invalid limit")
        limit = max(0, min(limit, MAX_LIST_LIMIT))
        rvq = q.get("resourceVersion") or ""
        match = q.get("resourceVersionMatch") or ""
        with self.cond:
            start = None
            list_rv = self.rv
            if q.get("continue"):
                try:
                    tok = json.loads(base64.urlsafe_b64decode(q["continue"] + "==").decode())
                    start, list_rv = tuple(tok["start"]), int(tok["rv"])
                except (ValueError, KeyError, TypeError):
                    raise bad_request("continue key is not valid: incorrect encoded start "
                                      "resourceVersion (version meta.k8s.io/v1)")
                if list_rv < self.compacted_rv:
                    raise gone("The provided continue parameter is too old to display a "
                               "consistent list result. You can start a new list without the "
                               "continue parameter.")
            elif rvq and rvq != "0":
                try:
                    want = int(rvq)
                except ValueError:
                    raise bad_request("invalid resource version: %s" % rvq)
                if match == "Exact" and want != self.rv:
                    if want < self.compacted_rv or want < self.rv:
                        raise gone("too old resource version: %d (%d)" % (want, self.rv))
                if want > self.rv:
                    raise ApiError(504, "Timeout", 'Too large resource version: %d, current: %d'
                                   % (want, self.rv),
                                   {"causes": [{"reason": "ResourceVersionTooLarge",
                                                "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1})
            items = []
            for k in sorted(self.objects[rt.storage_key], key=lambda x: (x[0] or "", x[1])):
                if start is not None and (k[0] or "", k[1]) <= start:
                    continue
                o = self.objects[rt.storage_key][k]
                if self.matches(rt, ns, sel, o):
                    items.append((k, R.from_storage(rt, o)))
            meta = {"resourceVersion": str(list_rv)}
            if limit and len(items) > limit:
                last = items[limit - 1][0]
                meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"rv": list_rv, "start": [last[0] or "", last[1]]}).encode()).decode() \
                    .rstrip("=")
                meta["remainingItemCount"] = len(items) - limit
                items = items[:limit]
            return {"kind": rt.list_kind, "apiVersion": rt.gv, "metadata": meta,
                    "items": [o for _, o in items]}

    # ---- admission ----------------------------------------------------------------------
    def _check_body(self, rt, obj, ns, name=None):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was in an unknown format")
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if av and av != rt.gv and not (rt.group == "" and av == "v1"):
            raise bad_request('the API version in the data (%s) does not match the expected API '
                              'version (%s)' % (av, rt.gv))
        if kind and kind != rt.kind:
            raise bad_request('%s in version "%s" cannot be handled as a %s: no kind "%s" is '
                              'registered for version "%s"' % (kind, rt.version, rt.kind, kind,
                                                               rt.gv))
        md = obj.get("metadata")
        if md is not None and not isinstance(md, dict):
            raise bad_request("metadata must be an object")
        md = obj.setdefault("metadata", {})
        if rt.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if name is not None and md.get("name") and md["name"] != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL "
                              "(%s)" % (md["name"], name))
        if name is not None:
            md["name"] = name
        if len(json.dumps(obj)) > MAX_OBJECT_BYTES:
            raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is "
                           "3145728")

    def _prune(self, rt, obj, q, warnings):
        if rt.schema is None:
            return obj
        unknown = []
        obj = S.prune(rt.schema, obj, "", unknown)
        # unknown fields inside metadata are the apiserver's own concern; ignore
        mode = q.get("fieldValidation") or "Warn"
        if unknown and mode == "Strict":
            raise bad_request('%s in version "%s" cannot be handled as a %s: strict decoding '
                              'error: %s' % (rt.kind, rt.version, rt.kind, ", ".join(
                                  'unknown field "%s"' % u for u in unknown)))
        if unknown and mode == "Warn":
            warnings.extend('unknown field "%s"' % u for u in unknown)
        return obj

    def _validate_meta(self, rt, obj, old):
        md = obj["metadata"]
        causes = []
        name = md.get("name", "")
        rx = _DNS1123_LABEL if rt.kind == "Namespace" else _DNS1123_SUB
        if not name:
            causes.append(("metadata.name", "FieldValueRequired",
                           "Required value: name or generateName is required"))
        elif len(name) > (63 if rt.kind == "Namespace" else MAX_NAME) or not rx.match(name):
            causes.append(("metadata.name", "FieldValueInvalid",
                           'Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of '
                           "lower case alphanumeric characters, '-' or '.', and must start and "
                           "end with an alphanumeric character" % name))
        for k, v in (md.get("labels") or {}).items():
            if not isinstance(v, str) or len(v) > MAX_LABEL_VALUE or not _LABEL_VALUE.match(v):
                causes.append(("metadata.labels", "FieldValueInvalid",
                               'Invalid value: %s: a valid label must be an empty string or '
                               "consist of alphanumeric characters, '-', '_' or '.'"
                               % json.dumps(v)))
            nm = k.split("/")[-1]
            if len(nm) > 63 or not _LABEL_NAME.match(nm) or k.count("/") > 1:
                causes.append(("metadata.labels", "FieldValueInvalid",
                               'Invalid value: "%s": name part must consist of alphanumeric '
                               "characters, '-', '_' or '.'" % k))
        for k, v in (md.get("annotations") or {}).items():
            if not isinstance(v, str):
                raise bad_request("annotation %s: value must be a string" % k)
        fins = md.get("finalizers") or []
        if not isinstance(fins, list) or not all(isinstance(f, str) for f in fins):
            raise bad_request("metadata.finalizers must be a list of strings")
        if old is not None and old["metadata"].get("deletionTimestamp"):
            added = [f for f in fins if f not in (old["metadata"].get("finalizers") or [])]
            if added:
                causes.append(("metadata.finalizers", "FieldValueForbidden",
                               "Forbidden: no new finalizers can be added if the object is "
                               "being deleted, found new finalizers %s" % json.dumps(added)))
        return causes

    def _type_rules(self, rt, obj, old, sub):
        causes = []
        if rt.kind == "Secret" and not sub:
            sd = obj.pop("stringData", None)
            if sd:
                data = obj.setdefault("data", {}) or {}
                obj["data"] = data
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
            obj.setdefault("type", "Opaque")
            for k, v in (obj.get("data") or {}).items():
                if not _SECRET_KEY.match(k) or len(k) > MAX_NAME:
                    causes.append(("data[%s]" % k, "FieldValueInvalid",
                                   'Invalid value: "%s": a valid config key must consist of '
                                   "alphanumeric characters, '-', '_' or '.'" % k))
                try:
                    base64.b64decode(v or "", validate=True)
                except (ValueError, TypeError):
                    raise bad_request('Secret in version "v1" cannot be handled as a Secret: '
                                      "illegal base64 data at input byte 0")
            if old is not None:
                if old.get("type", "Opaque") != obj.get("type"):
                    causes.append(("type", "FieldValueInvalid", 'Invalid value: "%s": field is '
                                   "immutable" % obj.get("type")))
                if old.get("immutable"):
                    if obj.get("data") != old.get("data"):
                        causes.append(("data", "FieldValueForbidden",
                                       "Forbidden: field is immutable when `immutable` is set"))
                    if not obj.get("immutable"):
                        causes.append(("immutable", "FieldValueForbidden",
                                       "Forbidden: field is immutable when `immutable` is set"))
        elif rt.kind == "ConfigMap" and old is not None and old.get("immutable"):
            if obj.get("data") != old.get("data") or not obj.get("immutable"):
                causes.append(("data", "FieldValueForbidden",
                               "Forbidden: field is immutable when `immutable` is set"))
        elif rt.kind == "Namespace":
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            st = obj.setdefault("status", {})
            st["phase"] = "Terminating" if obj["metadata"].get("deletionTimestamp") else "Active"
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
                obj["metadata"]["name"]
        elif rt.kind == "Event" and rt.group == "events.k8s.io" and old is None:
            for f in ("eventTime", "reportingController", "reportingInstance", "action",
                      "reason"):
                if not obj.get(f):
                    causes.append((f, "FieldValueRequired", "Required value"))
            if obj.get("type") not in ("Normal", "Warning"):
                causes.append(("type", "FieldValueNotSupported",
                               'Unsupported value: %s: supported values: "Normal", "Warning"'
                               % json.dumps(obj.get("type", ""))))
            if len((obj.get("note") or "").encode()) > 1024:
                causes.append(("note", "FieldValueTooLong",
                               "Too long: may not be longer than 1024"))
            rns = (obj.get("regarding") or {}).get("namespace")
            if rns and rns != obj["metadata"].get("namespace"):
                causes.append(("regarding.namespace", "FieldValueInvalid",
                               'Invalid value: "%s": does not match event.namespace' % rns))
        elif rt.kind == "Event" and rt.group == "" and old is None:
            ins = (obj.get("involvedObject") or {}).get("namespace")
            if ins and ins != obj["metadata"].get("namespace"):
                causes.append(("involvedObject.namespace", "FieldValueInvalid",
                               'Invalid value: "%s": does not match event.namespace' % ins))
        elif rt.kind == "CustomResourceDefinition":
            causes += R.check_crd(obj)
            if not causes:
                obj["status"] = R.crd_status(obj)
                if old is not None:
                    sv = set(old.get("status", {}).get("storedVersions") or [])
                    obj["status"]["storedVersions"] = sorted(
                        sv | set(obj["status"]["storedVersions"]))
        return causes

    def _admit(self, rt, old, new, q, sub, warnings, apply_done=False, manager=None):
        """Turns a requested object into the one to store (storage form) or raises."""
        new = self._prune(rt, new, q, warnings)
        md = new.setdefault("metadata", {})
        if old is not None:
            omd = old["metadata"]
            rv = md.get("resourceVersion")
            if rv and rv != omd.get("resourceVersion"):
                raise conflict(rt, omd["name"])
            for k in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation", "namespace", "name"):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
            if sub == "status":
                st = new.get("status")
                mf = md.get("managedFields")
                new = copy.deepcopy(old)
                if st is None:
                    new.pop("status", None)
                else:
                    new["status"] = st
                if mf is not None:
                    new["metadata"]["managedFields"] = mf
            elif rt.status:
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            md = new["metadata"]
        else:
            if rt.status and rt.kind not in ("Namespace",) and not rt.builtin:
                new.pop("status", None)
            for k in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                md.pop(k, None)
        if rt.schema is not None:
            S.apply_defaults(rt.schema, new)
        causes = self._validate_meta(rt, new, old)
        causes += self._type_rules(rt, new, old, sub)
        if rt.schema is not None:
            causes += [c for c in S.validate(rt.schema, new) if not c[0].startswith("metadata")]
        if causes:
            raise invalid(rt, md.get("name", ""), causes)
        if rt.generation:
            if old is None:
                md["generation"] = 1
            else:
                strip = lambda o: {k: v for k, v in o.items()  # noqa: E731
                                   if k not in ("metadata", "status", "apiVersion", "kind")}
                md["generation"] = omd.get("generation", 1) + (
                    1 if strip(old) != strip(new) else 0)
        if manager and not apply_done:
            P.record_update(R.from_storage(rt, old) if old is not None else None, new,
                            manager, rt.gv, sub or "")
        return new

    @staticmethod
    def _same(a, b):
        def strip(o):
            o = copy.deepcopy(o)
            o.get("metadata", {}).pop("managedFields", None)
            o.get("metadata", {}).pop("resourceVersion", None)
            o.pop("apiVersion", None)
            return o
        return strip(a) == strip(b)

    # ---- writes -------------------------------------------------------------------------
    def create(self, rt, ns, obj, q, warnings=None, manager=None, applied=False):
        warnings = [] if warnings is None else warnings
        with self.cond:
            obj = copy.deepcopy(obj)
            self._check_body(rt, obj, ns)
            self._scope_check(rt, ns, create=True)
            md = obj["metadata"]
            if not md.get("name") and md.get("generateName"):
                md["name"] = md["generateName"] + "".join(
                    random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
            md.pop("resourceVersion", None)
            if not applied:
                md.pop("managedFields", None)
            key = (ns if rt.namespaced else None, md.get("name", ""))
            new = self._admit(rt, None, obj, q, "", warnings, applied, manager)
            if key in self.objects[rt.storage_key]:
                raise already_exists(rt, key[1])
            md = new["metadata"]
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_rfc3339()
            if q.get("dryRun") == "All":
                md["resourceVersion"] = ""
                return R.from_storage(rt, R.to_storage(rt, new))
            md["resourceVersion"] = str(self._bump())
            stored = R.to_storage(rt, new)
            self.objects[rt.storage_key][key] = stored
            if rt.kind == "CustomResourceDefinition":
                self.reg.add_crd(stored)
            self._emit(rt.storage_key, "ADDED", stored, None)
            return R.from_storage(rt, stored)

    def _current(self, rt, ns, name):
        key = (ns if rt.namespaced else None, name)
        o = self.objects[rt.storage_key].get(key)
        if o is None:
            raise not_found(rt, name)
        return key, o

    def _commit(self, rt, key, old_stored, new, q):
        """Stores new (requested-version form) over old; no-op writes change nothing."""
        stored = R.to_storage(rt, new)
        if self._same(stored, old_stored):
            return R.from_storage(rt, old_stored)
        if q.get("dryRun") == "All":
            return R.from_storage(rt, stored)
        stored["metadata"]["resourceVersion"] = str(self._bump())
        md = stored["metadata"]
        if md.get("deletionTimestamp") and not md.get("finalizers") and \
                not (rt.kind == "Namespace"):
            del self.objects[rt.storage_key][key]
            self._emit(rt.storage_key, "DELETED", stored, old_stored)
            self._after_delete(rt, key, stored)
            return R.from_storage(rt, stored)
        self.objects[rt.storage_key][key] = stored
        if rt.kind == "CustomResourceDefinition":
            self.reg.add_crd(stored)
        self._emit(rt.storage_key, "MODIFIED", stored, old_stored)
        return R.from_storage(rt, stored)

    def update(self, rt, ns, name, obj, q, sub="", warnings=None, manager=None):
        """PUT. A stale metadata.resourceVersion gives 409 Conflict."""
        warnings = [] if warnings is None else warnings
        with self.cond:
            obj = copy.deepcopy(obj)
            self._check_body(rt, obj, ns, name)
            key = (ns if rt.namespaced else None, name)
            if key not in self.objects[rt.storage_key]:
                if sub or not (q.get("_allow_create")):
                    raise not_found(rt, name)
                return self.create(rt, ns, obj, q, warnings, manager)
            old_stored = self.objects[rt.storage_key][key]
            old = R.from_storage(rt, old_stored)
            obj["metadata"].pop("managedFields", None)
            obj["metadata"]["managedFields"] = old["metadata"].get("managedFields")
            if obj["metadata"]["managedFields"] is None:
                obj["metadata"].pop("managedFields")
            new = self._admit(rt, old, obj, q, sub, warnings, False, manager)
            return self._commit(rt, key, old_stored, new, q)

    def patch(self, rt, ns, name, ctype, body, q, sub="", warnings=None, manager=None):
        warnings = [] if warnings is None else warnings
        with self.cond:
            key = (ns if rt.namespaced else None, name)
            exists = key in self.objects[rt.storage_key]
            if ctype == "application/apply-patch+yaml":
                if not manager:
                    raise bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                                      "Required value: is required for apply patch")
                force = q.get("force") in ("true", "1", "True")
                if not isinstance(body, dict):
                    raise bad_request("the body of an apply patch must be an object")
                if body.get("metadata", {}).get("name") not in (None, name):
                    raise bad_request("the name of the object (%s) does not match the name on "
                                      "the URL (%s)" % (body["metadata"]["name"], name))
                if not exists:
                    if sub:
                        raise not_found(rt, name)
                    obj = P.server_side_apply(None, body, manager, force, rt.gv)
                    obj.setdefault("metadata", {})["name"] = name
                    return self.create(rt, ns, obj, q, warnings, manager, applied=True)
                old_stored = self.objects[rt.storage_key][key]
                old = R.from_storage(rt, old_stored)
                if body.get("metadata", {}).get("resourceVersion") not in (
                        None, old["metadata"]["resourceVersion"]):
                    raise conflict(rt, name)
                self._check_body(rt, copy.deepcopy(body), ns, name)
                merged = P.server_side_apply(old, body, manager, force, rt.gv, sub)
                merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
                new = self._admit(rt, old, merged, q, sub, warnings, True, manager)
                return self._commit(rt, key, old_stored, new, q)
            if not exists:
                raise not_found(rt, name)
            old_stored = self.objects[rt.storage_key][key]
            old = R.from_storage(rt, old_stored)
            if ctype == "application/json-patch+json":
                new = P.json_patch(old, body)
            elif ctype == "application/merge-patch+json":
                new = P.merge_patch(old, body)
            elif ctype == "application/strategic-merge-patch+json":
                if not rt.builtin:
                    raise ApiError(415, "UnsupportedMediaType",
                                   "the body of the request was in an unknown format - accepted "
                                   "media types include: application/json-patch+json, "
                                   "application/merge-patch+json, application/apply-patch+yaml")
                new = P.strategic_merge(old, body)
            else:
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted "
                               "media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml" +
                               (", application/strategic-merge-patch+json" if rt.builtin
                                else ""))
            if not isinstance(new, dict):
                raise bad_request("the patch produced a non-object")
            self._check_body(rt, new, ns, name)
            new["metadata"]["managedFields"] = old["metadata"].get("managedFields")
            if new["metadata"]["managedFields"] is None:
                new["metadata"].pop("managedFields")
            if ctype == "application/json-patch+json" and \
                    new["metadata"].get("resourceVersion") != old["metadata"]["resourceVersion"]:
                pass      # json patch may 'test' or set RV: checked by _admit
            elif new["metadata"].get("resourceVersion") is None:
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            new = self._admit(rt, old, new, q, sub, warnings, False, manager)
            return self._commit(rt, key, old_stored, new, q)

    def delete(self, rt, ns, name, opts, q):
        with self.cond:
            key, old_stored = self._current(rt, ns, name)
            pre = (opts or {}).get("preconditions") or {}
            md = old_stored["metadata"]
            if pre.get("uid") and pre["uid"] != md.get("uid"):
                raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (pre["uid"], md.get("uid")))
            if pre.get("resourceVersion") and pre["resourceVersion"] != md.get(
                    "resourceVersion"):
                raise conflict(rt, name, "Precondition failed: ResourceVersion in precondition: "
                               "%s, ResourceVersion in object meta: %s" % (
                                   pre["resourceVersion"], md.get("resourceVersion")))
            dry = q.get("dryRun") == "All" or (opts or {}).get("dryRun") == ["All"]
            if md.get("finalizers") or rt.kind == "Namespace":
                if md.get("deletionTimestamp"):
                    return R.from_storage(rt, old_stored), False
                new = copy.deepcopy(old_stored)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                if rt.kind == "Namespace":
                    new["status"] = {"phase": "Terminating"}
                if dry:
                    return R.from_storage(rt, new), False
                new["metadata"]["resourceVersion"] = str(self._bump())
                self.objects[rt.storage_key][key] = new
                self._emit(rt.storage_key, "MODIFIED", new, old_stored)
                if rt.kind == "Namespace":
                    self._terminate_namespace(name)
                    cur = self.objects[rt.storage_key].get(key)
                    return R.from_storage(rt, cur if cur is not None else new), cur is None
                return R.from_storage(rt, new), False
            if dry:
                return R.from_storage(rt, old_stored), True
            del self.objects[rt.storage_key][key]
            gone_obj = copy.deepcopy(old_stored)
            gone_obj["metadata"]["resourceVersion"] = str(self._bump())
            self._emit(rt.storage_key, "DELETED", gone_obj, old_stored)
            self._after_delete(rt, key, gone_obj)
            return R.from_storage(rt, gone_obj), True

    def delete_collection(self, rt, ns, q, opts):
        sel = self.selectors(rt, q)
        out = []
        with self.cond:
            for key in sorted(self.objects[rt.storage_key], key=lambda x: (x[0] or "", x[1])):
                o = self.objects[rt.storage_key].get(key)
                if self.matches(rt, ns, sel, o):
                    out.append(self.delete(rt, key[0], key[1], opts, q)[0])
        return out

    def _after_delete(self, rt, key, obj):
        if rt.kind == "CustomResourceDefinition":
            spec = obj.get("spec", {})
            skey = (spec.get("group"), (spec.get("names") or {}).get("plural"))
            for k, o in sorted(self.objects.get(skey, {}).items(), key=lambda x: str(x[0])):
                g = copy.deepcopy(o)
                g["metadata"]["resourceVersion"] = str(self._bump())
                del self.objects[skey][k]
                self._emit(skey, "DELETED", g, o)
            self.reg.remove_crd(key[1])
        if rt.namespaced and key[0]:
            nso = self.objects[("", "namespaces")].get((None, key[0]))
            if nso is not None and nso["metadata"].get("deletionTimestamp"):
                self._reap_namespace(key[0])

    def _terminate_namespace(self, ns):
        for skey, objs in list(self.objects.items()):
            rts = self.reg.by_storage(skey)
            if not rts or not rts[0].namespaced:
                continue
            for k in [k for k in objs if k[0] == ns]:
                if k in objs:
                    self.delete(rts[0], ns, k[1], {}, {})
        self._reap_namespace(ns)

    def _reap_namespace(self, ns):
        for skey, objs in self.objects.items():
            if skey != ("", "namespaces") and any(k[0] == ns for k in objs):
                return
        nrt = self.ns_rt()
        key = (None, ns)
        old = self.objects[nrt.storage_key].get(key)
        if old is None:
            return
        del self.objects[nrt.storage_key][key]
        g = copy.deepcopy(old)
        g["metadata"]["resourceVersion"] = str(self._bump())
        self._emit(nrt.storage_key, "DELETED", g, old)

    # ---- dump ---------------------------------------------------------------------------
    def dump(self):
        with self.cond:
            out = {"resourceVersion": self.rv, "compactedResourceVersion": self.compacted_rv,
                   "objects": {}}
            for (g, plural), objs in self.objects.items():
                out["objects"]["%s/%s" % (g, plural) if g else plural] = [
                    objs[k] for k in sorted(objs, key=lambda x: (x[0] or "", x[1]))]
            return out

    def dump_to(self, path):
        data = json.dumps(self.dump(), indent=1, sort_keys=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, path)
