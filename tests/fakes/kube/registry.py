"""Resource types (built-in kinds and CRDs), discovery documents, OpenAPI v3 documents
and server-side Table columns."""
import copy
import hashlib
import json

from .util import ApiError, human_age, jsonpath

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]
META_FIELDS = {"metadata.name", "metadata.namespace"}


class ResourceType:
    def __init__(self, group, version, kind, plural, singular=None, namespaced=True,
                 short_names=None, categories=None, status=False, schema=None, builtin=True,
                 storage_version=None, columns=None, fields=None, generation=False,
                 crd=None, served=True, list_kind=None, storage_key=None):
        self.group, self.version, self.kind, self.plural = group, version, kind, plural
        self.singular = singular or kind.lower()
        self.namespaced = namespaced
        self.short_names = short_names or []
        self.categories = categories or []
        self.status = status
        self.schema = schema
        self.builtin = builtin
        self.storage_version = storage_version or version
        self.columns = columns          # CRD printer columns (dicts) or builtin tuples
        self.fields = set(fields or ()) | META_FIELDS
        self.generation = generation
        self.crd = crd
        self.served = served
        self.list_kind = list_kind or kind + "List"
        self._storage_key = storage_key

    @property
    def gv(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def storage_key(self):
        return self._storage_key or (self.group, self.plural)

    def api_version_of_storage(self):
        return "%s/%s" % (self.group, self.storage_version) if self.group else \
            self.storage_version


# ---- events.k8s.io/v1 <-> core/v1 conversion (both read one storage, core form) -------

_EV_MAP = [("regarding", "involvedObject"), ("note", "message"),
           ("reportingController", "reportingComponent"),
           ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
           ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count")]


def to_storage(rt, obj):
    obj = copy.deepcopy(obj)
    if rt.group == "events.k8s.io":
        for new, old in _EV_MAP:
            if new in obj:
                obj[old] = obj.pop(new)
        obj["apiVersion"] = "v1"
    else:
        obj["apiVersion"] = rt.api_version_of_storage()
    return obj


def from_storage(rt, obj):
    obj = copy.deepcopy(obj)
    if rt.group == "events.k8s.io":
        for new, old in _EV_MAP:
            if old in obj:
                obj[new] = obj.pop(old)
    obj["apiVersion"] = rt.gv
    obj["kind"] = rt.kind
    return obj


# ---- built-in kinds --------------------------------------------------------------------

def _n_data(o):
    return len(o.get("data") or {}) + len(o.get("binaryData") or {})


def _ev_object(o):
    io = o.get("involvedObject") or o.get("regarding") or {}
    return "%s/%s" % (str(io.get("kind", "")).lower(), io.get("name", ""))


def _ev_last_seen(o):
    ts = o.get("lastTimestamp") or o.get("deprecatedLastTimestamp") or o.get("eventTime") or \
        o.get("metadata", {}).get("creationTimestamp")
    return human_age(ts) if ts else "<unknown>"


AGE = ("Age", "string", lambda o: human_age(o.get("metadata", {}).get("creationTimestamp")))
BUILTIN_COLUMNS = {
    "Namespace": [("Status", "string", lambda o: (o.get("status") or {}).get("phase", "")), AGE],
    "Secret": [("Type", "string", lambda o: o.get("type", "")),
               ("Data", "string", lambda o: str(_n_data(o))), AGE],
    "ConfigMap": [("Data", "string", lambda o: str(_n_data(o))), AGE],
    "Lease": [("Holder", "string", lambda o: (o.get("spec") or {}).get("holderIdentity", "")),
              AGE],
    "Event": [("Last Seen", "string", _ev_last_seen),
              ("Type", "string", lambda o: o.get("type", "")),
              ("Reason", "string", lambda o: o.get("reason", "")),
              ("Object", "string", _ev_object),
              ("Message", "string", lambda o: o.get("message", o.get("note", "")))],
    "CustomResourceDefinition": [("Created At", "date",
                                  lambda o: o.get("metadata", {}).get("creationTimestamp"))],
}

CORE_EVENT_FIELDS = {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion",
                     "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                     "reportingComponent", "source", "type"}
NEW_EVENT_FIELDS = {"regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                    "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath",
                    "reason", "reportingController", "type"}


def builtin_types():
    return [
        ResourceType("", "v1", "Namespace", "namespaces", namespaced=False, short_names=["ns"],
                     status=True, fields={"status.phase"}),
        ResourceType("", "v1", "Secret", "secrets", fields={"type"}),
        ResourceType("", "v1", "ConfigMap", "configmaps", short_names=["cm"]),
        ResourceType("", "v1", "Event", "events", short_names=["ev"], fields=CORE_EVENT_FIELDS),
        ResourceType("events.k8s.io", "v1", "Event", "events", short_names=["ev"],
                     fields=NEW_EVENT_FIELDS, storage_version="v1", storage_key=("", "events")),
        ResourceType("coordination.k8s.io", "v1", "Lease", "leases"),
        # what `kubectl apply -k deploy/` creates besides the CRDs (stored as given)
        ResourceType("", "v1", "ServiceAccount", "serviceaccounts", short_names=["sa"]),
        ResourceType("", "v1", "Service", "services", short_names=["svc"], status=True),
        ResourceType("apps", "v1", "Deployment", "deployments", short_names=["deploy"],
                     status=True, generation=True, categories=["all"]),
        ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles"),
        ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
        ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles",
                     namespaced=False),
        ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
                     "clusterrolebindings", namespaced=False),
        ResourceType("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                     "customresourcedefinitions", namespaced=False,
                     short_names=["crd", "crds"], status=True, generation=True,
                     categories=["api-extensions"]),
    ]


# Flux and ArgoCD kinds, registered at start as if their CRDs were installed.
def _loose_crd(group, kind, plural, versions, storage, short, status=True, categories=None):
    vs = []
    for v in versions:
        ver = {"name": v, "served": True, "storage": v == storage,
               "schema": {"openAPIV3Schema": {
                   "type": "object",
                   "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                  "metadata": {"type": "object"},
                                  "spec": {"type": "object",
                                           "x-kubernetes-preserve-unknown-fields": True},
                                  "status": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": True}},
                   "x-kubernetes-preserve-unknown-fields": True}}}
        if status:
            ver["subresources"] = {"status": {}}
        vs.append(ver)
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "%s.%s" % (plural, group)},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(),
                               "shortNames": short, "listKind": kind + "List",
                               "categories": categories or []},
                     "versions": vs}}


def builtin_crds():
    flux = "source.toolkit.fluxcd.io"
    return [
        _loose_crd(flux, "GitRepository", "gitrepositories", ["v1", "v1beta2"], "v1",
                   ["gitrepo"], categories=["fluxcd"]),
        _loose_crd(flux, "OCIRepository", "ocirepositories", ["v1", "v1beta2"], "v1",
                   ["ocirepo"], categories=["fluxcd"]),
        _loose_crd(flux, "Bucket", "buckets", ["v1", "v1beta2"], "v1", [],
                   categories=["fluxcd"]),
        _loose_crd("argoproj.io", "Application", "applications", ["v1alpha1"], "v1alpha1",
                   ["app", "apps"], status=False, categories=["argo"]),
    ]


# ---- CRDs -------------------------------------------------------------------------------

def check_crd(crd):
    """Returns a list of (field, reason, message) for a CRD object."""
    errs = []
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group")
    name = (crd.get("metadata") or {}).get("name", "")
    if not group:
        errs.append(("spec.group", "FieldValueRequired", "Required value"))
    for f in ("plural", "kind"):
        if not names.get(f):
            errs.append(("spec.names." + f, "FieldValueRequired", "Required value"))
    if group and names.get("plural") and name != "%s.%s" % (names["plural"], group):
        errs.append(("metadata.name", "FieldValueInvalid",
                     'Invalid value: "%s": must be spec.names.plural+"."+spec.group' % name))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errs.append(("spec.scope", "FieldValueNotSupported",
                     'Unsupported value: "%s": supported values: "Cluster", "Namespaced"'
                     % spec.get("scope", "")))
    vs = spec.get("versions") or []
    if not vs:
        errs.append(("spec.versions", "FieldValueRequired", "Required value"))
    if sum(1 for v in vs if v.get("storage")) != 1 and vs:
        errs.append(("spec.versions", "FieldValueInvalid",
                     "Invalid value: %s: must have exactly one version marked as storage "
                     "version" % json.dumps([v.get("name") for v in vs])))
    for i, v in enumerate(vs):
        if not (v.get("schema") or {}).get("openAPIV3Schema"):
            errs.append(("spec.versions[%d].schema.openAPIV3Schema" % i, "FieldValueRequired",
                         "Required value: schemas are required"))
    return errs


def crd_types(crd):
    spec = crd["spec"]
    names = spec["names"]
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    out = []
    for v in spec["versions"]:
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        cols = v.get("additionalPrinterColumns")
        rt = ResourceType(spec["group"], v["name"], names["kind"], names["plural"],
                          singular=names.get("singular"),
                          namespaced=spec.get("scope") == "Namespaced",
                          short_names=names.get("shortNames"),
                          categories=names.get("categories"),
                          status="status" in (v.get("subresources") or {}),
                          schema=schema, builtin=False, storage_version=storage,
                          columns=cols, generation=True, crd=crd["metadata"]["name"],
                          served=v.get("served", True), list_kind=names.get("listKind"))
        for sf in v.get("selectableFields") or []:
            rt.fields.add(sf.get("jsonPath", "").lstrip("."))
        out.append(rt)
    return out


def crd_status(crd):
    spec = crd.get("spec") or {}
    names = copy.deepcopy(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", names.get("kind", "") + "List")
    t = (crd.get("metadata") or {}).get("creationTimestamp")
    return {"acceptedNames": names,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": t},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": t}],
            "storedVersions": [v["name"] for v in spec.get("versions") or []
                               if v.get("storage")]}


# ---- discovery ---------------------------------------------------------------------------

class Registry:
    def __init__(self):
        self.types = {}          # (group, version, plural) -> ResourceType
        for rt in builtin_types():
            self.types[(rt.group, rt.version, rt.plural)] = rt

    def add_crd(self, crd):
        self.remove_crd(crd["metadata"]["name"])
        for rt in crd_types(crd):
            if rt.served:
                self.types[(rt.group, rt.version, rt.plural)] = rt

    def remove_crd(self, name):
        for k in [k for k, v in self.types.items() if v.crd == name]:
            del self.types[k]

    def get(self, group, version, plural):
        return self.types.get((group, version, plural))

    def by_storage(self, key):
        return [rt for rt in self.types.values() if rt.storage_key == key]

    def groups(self):
        """[(group, [versions in preference order])], core excluded."""
        gs = {}
        for rt in self.types.values():
            if rt.group:
                gs.setdefault(rt.group, set()).add(rt.version)
        out = []
        for g in sorted(gs):
            out.append((g, sorted(gs[g], key=_version_priority)))
        return out

    def resources(self, group, version):
        return sorted([rt for rt in self.types.values()
                       if rt.group == group and rt.version == version],
                      key=lambda r: r.plural)

    def api_resource_list(self, group, version):
        rts = self.resources(group, version)
        if not rts:
            return None
        res = []
        for rt in rts:
            e = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                 "kind": rt.kind, "verbs": ALL_VERBS}
            if rt.short_names:
                e["shortNames"] = rt.short_names
            if rt.categories:
                e["categories"] = rt.categories
            if rt.group == "" or rt.builtin:
                e["storageVersionHash"] = _hash(rt.gv + rt.kind)[:12]
            res.append(e)
            if rt.status:
                res.append({"name": rt.plural + "/status", "singularName": "",
                            "namespaced": rt.namespaced, "kind": rt.kind,
                            "verbs": STATUS_VERBS})
        gv = "%s/%s" % (group, version) if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": res}

    def api_group(self, g, versions):
        vs = [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": g, "versions": vs,
                "preferredVersion": vs[0]}

    def api_group_list(self):
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [{k: v for k, v in self.api_group(g, vs).items()
                            if k not in ("kind", "apiVersion")} for g, vs in self.groups()]}

    def aggregated(self, legacy, av):
        """APIGroupDiscoveryList for /api (legacy) or /apis; av is v2 or v2beta1."""
        items = []
        groups = [("", ["v1"])] if legacy else self.groups()
        for g, vs in groups:
            versions = []
            for v in vs:
                rs = []
                for rt in self.resources(g, v):
                    e = {"resource": rt.plural,
                         "responseKind": {"group": g, "version": v, "kind": rt.kind},
                         "scope": "Namespaced" if rt.namespaced else "Cluster",
                         "singularResource": rt.singular, "verbs": ALL_VERBS}
                    if rt.short_names:
                        e["shortNames"] = rt.short_names
                    if rt.categories:
                        e["categories"] = rt.categories
                    if rt.status:
                        e["subresources"] = [{"subresource": "status", "responseKind": {
                            "group": g, "version": v, "kind": rt.kind},
                            "verbs": STATUS_VERBS}]
                    rs.append(e)
                versions.append({"version": v, "resources": rs, "freshness": "Current"})
            items.append({"metadata": {"name": g} if g else {}, "versions": versions})
        return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/" + av,
                "metadata": {}, "items": items}

    # ---- OpenAPI v3 -------------------------------------------------------------------
    def openapi_gvs(self):
        gvs = [("", "v1")]
        for g, vs in self.groups():
            gvs += [(g, v) for v in vs]
        return gvs

    def openapi_root(self):
        paths = {}
        for g, v in self.openapi_gvs():
            key = "api/v1" if not g else "apis/%s/%s" % (g, v)
            doc = self.openapi_doc(g, v)
            paths[key] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (
                key, _hash(json.dumps(doc, sort_keys=True))[:64].upper())}
        return {"paths": paths}

    def openapi_doc(self, group, version):
        rts = self.resources(group, version)
        if not rts:
            return None
        schemas = {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": _OBJECT_META}
        paths = {}
        for rt in rts:
            sname = _schema_name(rt)
            gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
            s = copy.deepcopy(rt.schema) if rt.schema else {
                "type": "object", "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}}
            s.setdefault("properties", {})["metadata"] = {
                "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta."
                                   "v1.ObjectMeta"}], "default": {}}
            s["x-kubernetes-group-version-kind"] = [gvk]
            schemas[sname] = s
            base = "/api/v1" if not group else "/apis/%s/%s" % (group, version)
            item = base + ("/namespaces/{namespace}/" if rt.namespaced else "/") + \
                rt.plural + "/{name}"
            ref = {"$ref": "#/components/schemas/" + sname}
            body_types = ["application/json-patch+json", "application/merge-patch+json",
                          "application/apply-patch+yaml"]
            if rt.builtin:
                # kubectl then computes strategic merge patches from its own scheme
                pass
            params = [{"name": "name", "in": "path", "required": True,
                       "schema": {"type": "string"}},
                      {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                      {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                      {"name": "dryRun", "in": "query", "schema": {"type": "string"}}]
            if rt.namespaced:
                params.append({"name": "namespace", "in": "path", "required": True,
                               "schema": {"type": "string"}})
            ok = {"200": {"description": "OK", "content": {"application/json": {
                "schema": ref}}}}
            paths[item] = {
                "get": {"operationId": "read" + rt.kind, "responses": ok,
                        "x-kubernetes-action": "get",
                        "x-kubernetes-group-version-kind": gvk},
                "put": {"operationId": "replace" + rt.kind, "responses": ok,
                        "parameters": [p for p in params if p["in"] == "query"],
                        "requestBody": {"content": {"*/*": {"schema": ref}}},
                        "x-kubernetes-action": "put", "x-kubernetes-group-version-kind": gvk},
                "patch": {"operationId": "patch" + rt.kind, "responses": ok,
                          "parameters": [p for p in params if p["in"] == "query"] + [
                              {"name": "force", "in": "query",
                               "schema": {"type": "boolean"}}],
                          "requestBody": {"content": {t: {"schema": {"type": "object"}}
                                                      for t in body_types}},
                          "x-kubernetes-action": "patch",
                          "x-kubernetes-group-version-kind": gvk},
                "delete": {"operationId": "delete" + rt.kind, "responses": ok,
                           "x-kubernetes-action": "delete",
                           "x-kubernetes-group-version-kind": gvk},
                "parameters": [p for p in params if p["in"] == "path"]}
        return {"openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": "v1.30.0-smc-fake"},
                "paths": paths, "components": {"schemas": schemas}}

    # ---- tables ----------------------------------------------------------------------
    def table_columns(self, rt):
        name = {"name": "Name", "type": "string", "format": "name",
                "description": "Name must be unique within a namespace.", "priority": 0}
        if rt.kind == "Event" and rt.builtin:
            name = dict(name, priority=1)          # `kubectl get events` shows it with -o wide
        if rt.columns is None and rt.kind in BUILTIN_COLUMNS and rt.builtin:
            return [name] + [{"name": n, "type": t, "format": "", "description": n,
                              "priority": 0} for n, t, _ in BUILTIN_COLUMNS[rt.kind]]
        cols = rt.columns if rt.columns is not None else [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
        return [name] + [{"name": c["name"], "type": c.get("type", "string"),
                          "format": c.get("format", ""),
                          "description": c.get("description", ""),
                          "priority": c.get("priority", 0)} for c in cols]

    def table_cells(self, rt, obj):
        cells = [obj.get("metadata", {}).get("name", "")]
        if rt.columns is None and rt.kind in BUILTIN_COLUMNS and rt.builtin:
            for _, t, fn in BUILTIN_COLUMNS[rt.kind]:
                v = fn(obj)
                cells.append(human_age(v) if t == "date" else v)
            return cells
        cols = rt.columns if rt.columns is not None else [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
        for c in cols:
            vals = jsonpath(obj, c.get("jsonPath", ""))
            if not vals:
                cells.append(None)
                continue
            v = vals[0] if len(vals) == 1 else ",".join(str(x) for x in vals)
            if c.get("type") == "date":
                v = human_age(v)
            elif c.get("type") == "integer" and isinstance(v, (int, float)):
                v = int(v)
            elif c.get("type") == "string" and not isinstance(v, str):
                v = json.dumps(v) if isinstance(v, (dict, list)) else (
                    str(v).lower() if isinstance(v, bool) else str(v))
            cells.append(v)
        return cells


_OBJECT_META = {
    "type": "object",
    "properties": {
        "name": {"type": "string"}, "namespace": {"type": "string"},
        "generateName": {"type": "string"}, "uid": {"type": "string"},
        "resourceVersion": {"type": "string"}, "generation": {"type": "integer",
                                                               "format": "int64"},
        "creationTimestamp": {"type": "string", "format": "date-time"},
        "deletionTimestamp": {"type": "string", "format": "date-time"},
        "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"},
                       "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
        "ownerReferences": {"type": "array", "items": {"type": "object",
                                                       "x-kubernetes-map-type": "atomic"},
                            "x-kubernetes-patch-merge-key": "uid",
                            "x-kubernetes-patch-strategy": "merge"},
        "managedFields": {"type": "array", "items": {"type": "object"}},
    }}


def _schema_name(rt):
    if not rt.group:
        return "io.k8s.api.core.v1." + rt.kind
    rev = ".".join(reversed(rt.group.split(".")))
    return "%s.%s.%s" % (rev, rt.version, rt.kind)


def _hash(s):
    return hashlib.sha512(s.encode()).hexdigest()


def _version_priority(v):
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first."""
    import re
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", v)
    if not m:
        return (3, 0, 0, v)
    major = int(m.group(1))
    stage = {"": 0, "beta": 1, "alpha": 2}[m.group(2) or ""]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, v)


def must(rt, cond, msg):
    if not cond:
        raise ApiError(400, "BadRequest", msg)
