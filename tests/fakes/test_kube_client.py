#!/usr/bin/python3
"""Drives tests/fakes/kube_apiserver.py with Debian's python3-kubernetes, an official
client nobody here wrote. Run by /usr/bin/python3 (tests/fakes/test_kube_python.sh).
Starts its own server (with the pyenv `python3` on PATH, which has `cryptography`)."""
import base64
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import warnings

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SMC_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
SERVER_PY = os.environ.get("KUBE_FAKE_PYTHON", "python3")
GROUP, VERSION, PLURAL = "secret-management.octopilot.io", "v1beta1", "secretmanagerconfigs"
NS = "default"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Fake:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kube-fake-")
        self.port, self.tls_port = free_port(), free_port()
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [SERVER_PY, os.path.join(HERE, "kube_apiserver.py"), "--port", str(self.port),
             "--tls-port", str(self.tls_port), "--cert-dir", self.dir,
             "--crd-dir", os.path.join(SRC, "deploy", "crd"),
             "--bookmark-interval", "0.5",
             "--state-dump", os.path.join(self.dir, "state.json")],
            stdout=subprocess.PIPE, stderr=sys.stderr, env=env, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError("fake apiserver did not start: %r" % line)

    def hook(self, path, body=None, method="POST"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=json.dumps(body or {}).encode()
                                     if method == "POST" else None, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


FAKE = None


def api(kind="https"):
    cfg = client.Configuration()
    config.load_kube_config(config_file=os.path.join(FAKE.dir, "kubeconfig-%s.yaml" % kind),
                            client_configuration=cfg)
    return client.ApiClient(cfg)


def smc(name, **spec):
    s = {"sourceRef": {"kind": "GitRepository", "name": "repo", "namespace": "flux-system"},
         "provider": {"gcp": {"projectId": "my-project-1", "location": "europe-west1"}},
         "secrets": {"environment": "dev"}}
    s.update(spec)
    return {"apiVersion": "%s/%s" % (GROUP, VERSION), "kind": "SecretManagerConfig",
            "metadata": {"name": name, "labels": {"app": name}}, "spec": s}


class KubeClientTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        self.api = api("https")
        self.co = client.CustomObjectsApi(self.api)
        self.core = client.CoreV1Api(self.api)

    def tearDown(self):
        self.api.close()

    def assertApiError(self, status, reason, fn, *a, **kw):
        with self.assertRaises(ApiException) as cm:
            fn(*a, **kw)
        self.assertEqual(cm.exception.status, status, cm.exception.body)
        if reason:
            body = json.loads(cm.exception.body)
            self.assertEqual(body["kind"], "Status")
            self.assertEqual(body["reason"], reason)
            self.assertEqual(body["code"], status)
        return cm.exception

    # ---- auth ----------------------------------------------------------------------------
    def test_auth(self):
        # client certificate over TLS (setUp) and the bearer token over TLS both work
        tok = api("https-token")
        self.assertIn("default", [n.metadata.name for n in
                                  client.CoreV1Api(tok).list_namespace().items])
        tok.close()
        cfg = client.Configuration()
        cfg.host = "https://127.0.0.1:%d" % FAKE.tls_port
        cfg.ssl_ca_cert = os.path.join(FAKE.dir, "ca.crt")
        cfg.api_key = {"authorization": "Bearer wrong-token"}
        bad = client.ApiClient(cfg)
        self.assertApiError(401, "Unauthorized", client.CoreV1Api(bad).list_namespace)
        bad.close()
        cfg.api_key = {}
        none = client.ApiClient(cfg)
        self.assertApiError(401, "Unauthorized", client.CoreV1Api(none).list_namespace)
        none.close()

    # ---- custom objects ------------------------------------------------------------------
    def test_custom_object_crud(self):
        o = self.co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, smc("crud"))
        md = o["metadata"]
        self.assertEqual(md["generation"], 1)
        self.assertTrue(md["uid"] and md["creationTimestamp"] and md["resourceVersion"])
        # schema defaults applied on create
        self.assertEqual(o["spec"]["reconcileInterval"], "1m")
        self.assertEqual(o["spec"]["deletionPolicy"], "Retain")
        self.assertIs(o["spec"]["diffDiscovery"], True)
        self.assertIs(o["spec"]["configs"] if "configs" in o["spec"] else None, None)
        self.assertEqual(o["spec"]["sourceRef"]["kind"], "GitRepository")
        self.assertApiError(409, "AlreadyExists", self.co.create_namespaced_custom_object,
                            GROUP, VERSION, NS, PLURAL, smc("crud"))
        # spec change bumps generation; a status written through the main resource is dropped
        p = self.co.patch_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, "crud",
            {"spec": {"suspend": True}, "status": {"phase": "Hacked"}})
        self.assertEqual(p["metadata"]["generation"], 2)
        self.assertNotIn("status", p)
        self.assertGreater(int(p["metadata"]["resourceVersion"]), int(md["resourceVersion"]))
        # status only through /status, and it does not bump generation
        s = self.co.patch_namespaced_custom_object_status(
            GROUP, VERSION, NS, PLURAL, "crud",
            {"status": {"observedGeneration": 2, "phase": "Ready", "secretsSynced": 4},
             "spec": {"suspend": False}})
        self.assertEqual(s["status"]["phase"], "Ready")
        self.assertEqual(s["metadata"]["generation"], 2)
        self.assertIs(s["spec"]["suspend"], True)
        # a no-op patch does not bump the resourceVersion
        n = self.co.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "crud",
                                                   {"spec": {"suspend": True}})
        self.assertEqual(n["metadata"]["resourceVersion"], s["metadata"]["resourceVersion"])
        # stale replace -> 409 Conflict
        stale = self.co.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "crud")
        self.co.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "crud",
                                               {"metadata": {"annotations": {"a": "1"}}})
        e = self.assertApiError(409, "Conflict", self.co.replace_namespaced_custom_object,
                                GROUP, VERSION, NS, PLURAL, "crud", stale)
        self.assertIn("the object has been modified", json.loads(e.body)["message"])
        # validation: required field and enum -> 422 Invalid with causes
        bad = smc("bad", deletionPolicy="Nuke")
        del bad["spec"]["secrets"]["environment"]
        e = self.assertApiError(422, "Invalid", self.co.create_namespaced_custom_object,
                                GROUP, VERSION, NS, PLURAL, bad)
        causes = {c["field"]: c["reason"] for c in json.loads(e.body)["details"]["causes"]}
        self.assertEqual(causes.get("spec.secrets.environment"), "FieldValueRequired")
        self.assertEqual(causes.get("spec.deletionPolicy"), "FieldValueNotSupported")
        two = smc("two")
        two["spec"]["provider"]["aws"] = {"region": "eu-west-1"}
        self.assertApiError(422, "Invalid", self.co.create_namespaced_custom_object,
                            GROUP, VERSION, NS, PLURAL, two)
        # list with a label selector
        self.co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, smc("other"))
        items = self.co.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL,
                                                      label_selector="app=crud")["items"]
        self.assertEqual([i["metadata"]["name"] for i in items], ["crud"])
        # the older API group serves the same schema
        old = smc("legacy")
        old["apiVersion"] = "secret-management.microscaler.io/v1"
        lo = self.co.create_namespaced_custom_object("secret-management.microscaler.io", "v1",
                                                     NS, PLURAL, old)
        self.assertEqual(lo["spec"]["reconcileInterval"], "1m")
        # delete -> gone
        self.co.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "crud")
        self.assertApiError(404, "NotFound", self.co.get_namespaced_custom_object,
                            GROUP, VERSION, NS, PLURAL, "crud")

    def test_finalizers(self):
        self.co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, smc("fin"))
        self.co.patch_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, "fin",
            {"metadata": {"finalizers": ["secret-management.octopilot.io/finalizer"]}})
        d = self.co.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "fin")
        self.assertTrue(d["metadata"].get("deletionTimestamp"))
        g = self.co.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "fin")
        self.assertTrue(g["metadata"]["deletionTimestamp"])
        self.assertApiError(422, "Invalid", self.co.patch_namespaced_custom_object,
                            GROUP, VERSION, NS, PLURAL, "fin",
                            {"metadata": {"finalizers": ["a", "b"]}})
        self.co.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "fin",
                                               {"metadata": {"finalizers": None}})
        self.assertApiError(404, "NotFound", self.co.get_namespaced_custom_object,
                            GROUP, VERSION, NS, PLURAL, "fin")

    # ---- secrets -------------------------------------------------------------------------
    def test_secrets(self):
        for i, team in enumerate(["a", "b", "c"]):
            self.core.create_namespaced_secret(NS, client.V1Secret(
                metadata=client.V1ObjectMeta(name="sec-%d" % i,
                                             labels={"team": team, "kind": "smc-test"}),
                string_data={"password": "pw-%d" % i}))
        s = self.core.read_namespaced_secret("sec-1", NS)
        self.assertEqual(base64.b64decode(s.data["password"]).decode(), "pw-1")
        self.assertIsNone(s.string_data)
        self.assertEqual(s.type, "Opaque")

        def names(**kw):
            return sorted(x.metadata.name for x in
                          self.core.list_namespaced_secret(NS, **kw).items)
        self.assertEqual(names(label_selector="team=a"), ["sec-0"])
        self.assertEqual(names(label_selector="kind=smc-test,team!=a"), ["sec-1", "sec-2"])
        self.assertEqual(names(label_selector="team in (a,c)"), ["sec-0", "sec-2"])
        self.assertEqual(names(label_selector="kind,team notin (a,c)"), ["sec-1"])
        self.assertEqual(names(label_selector="!nope,team=c"), ["sec-2"])
        self.assertEqual(names(field_selector="metadata.name=sec-2"), ["sec-2"])
        self.assertEqual(names(field_selector="metadata.namespace=kube-system"), [])
        self.assertApiError(400, "BadRequest", self.core.list_namespaced_secret, NS,
                            field_selector="spec.bogus=1")
        # pagination
        p1 = self.core.list_namespaced_secret(NS, label_selector="kind=smc-test", limit=2)
        self.assertEqual(len(p1.items), 2)
        self.assertTrue(p1.metadata._continue)
        p2 = self.core.list_namespaced_secret(NS, label_selector="kind=smc-test", limit=2,
                                              _continue=p1.metadata._continue)
        self.assertEqual([x.metadata.name for x in p2.items], ["sec-2"])
        self.assertFalse(p2.metadata._continue)
        # strategic merge patch of labels keeps the others; data merges
        self.core.patch_namespaced_secret("sec-0", NS, {"metadata": {"labels": {"x": "y"}},
                                                        "stringData": {"extra": "v"}})
        s = self.core.read_namespaced_secret("sec-0", NS)
        self.assertEqual(s.metadata.labels, {"team": "a", "kind": "smc-test", "x": "y"})
        self.assertEqual(sorted(s.data), ["extra", "password"])
        # type is immutable
        s.type = "kubernetes.io/tls"
        self.assertApiError(422, "Invalid", self.core.replace_namespaced_secret, "sec-0", NS, s)
        self.assertApiError(404, "NotFound", self.core.create_namespaced_secret, "nope-ns",
                            client.V1Secret(metadata=client.V1ObjectMeta(name="x")))
        st = self.core.delete_namespaced_secret("sec-0", NS)
        self.assertEqual(st.status, "Success")
        self.assertApiError(404, "NotFound", self.core.read_namespaced_secret, "sec-0", NS)

    # ---- watch ---------------------------------------------------------------------------
    def test_watch_bookmarks(self):
        rv = self.co.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)[
            "metadata"]["resourceVersion"]

        def writer():
            time.sleep(0.5)
            self.co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, smc("w1"))
            self.co.patch_namespaced_custom_object_status(GROUP, VERSION, NS, PLURAL, "w1",
                                                          {"status": {"phase": "Ready"}})
            self.co.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "w1")
        t = threading.Thread(target=writer)
        t.start()
        seen = []
        w = watch.Watch()
        deleted_rv = None
        for ev in w.stream(self.co.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                           resource_version=rv, allow_watch_bookmarks=True,
                           timeout_seconds=20):
            o = ev["object"]
            seen.append((ev["type"], o["metadata"].get("name"),
                         int(o["metadata"]["resourceVersion"]),
                         (o.get("status") or {}).get("phase")))
            if ev["type"] == "DELETED" and seen[-1][1] == "w1":
                deleted_rv = seen[-1][2]
            if ev["type"] == "BOOKMARK" and deleted_rv is not None:
                w.stop()          # a bookmark after the last change: enough seen
        t.join()
        kinds = [s[0] for s in seen if s[1] == "w1"]
        self.assertEqual(kinds, ["ADDED", "MODIFIED", "DELETED"], seen)
        self.assertEqual([s[3] for s in seen if s[1] == "w1"][1], "Ready")
        bms = [s for s in seen if s[0] == "BOOKMARK"]
        self.assertTrue(bms, seen)
        last = max(s[2] for s in seen if s[0] != "BOOKMARK")
        self.assertGreaterEqual(bms[-1][2], last)
        rvs = [s[2] for s in seen]
        self.assertEqual(rvs, sorted(rvs))

    def test_watch_label_transitions(self):
        self.co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, smc("lt"))
        rv = self.co.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)[
            "metadata"]["resourceVersion"]

        def writer():
            time.sleep(0.3)
            self.co.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "lt",
                                                   {"metadata": {"labels": {"team": "a"}}})
            self.co.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "lt",
                                                   {"metadata": {"labels": {"team": None}}})
        t = threading.Thread(target=writer)
        t.start()
        seen = []
        w = watch.Watch()
        for ev in w.stream(self.co.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                           resource_version=rv, label_selector="team=a", timeout_seconds=20):
            seen.append(ev["type"])
            if ev["type"] == "DELETED":
                w.stop()
        t.join()
        # nothing else arrives: the object no longer matches
        more = list(watch.Watch().stream(
            self.co.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
            resource_version=self.co.list_namespaced_custom_object(
                GROUP, VERSION, NS, PLURAL)["metadata"]["resourceVersion"],
            label_selector="team=a", timeout_seconds=1))
        self.assertEqual(seen, ["ADDED", "DELETED"])
        self.assertEqual(more, [])

    def test_watch_gone_after_compact(self):
        for mode in ("event", "status"):
            FAKE.hook("/fake/config", {"watchExpired": mode})
            rv = self.core.list_namespaced_config_map(NS).metadata.resource_version
            self.core.create_namespaced_config_map(NS, client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="cm-" + mode), data={"k": "v"}))
            FAKE.hook("/fake/compact")
            with self.assertRaises(ApiException) as cm:
                for _ in watch.Watch().stream(self.core.list_namespaced_config_map, NS,
                                              resource_version=rv, timeout_seconds=2):
                    pass
            self.assertEqual(cm.exception.status, 410, mode)
            if mode == "status":
                self.assertEqual(json.loads(cm.exception.body)["reason"], "Expired")
            # a watch from the current RV still works
            cur = self.core.list_namespaced_config_map(NS).metadata.resource_version
            evs = list(watch.Watch().stream(self.core.list_namespaced_config_map, NS,
                                            resource_version=cur, timeout_seconds=1))
            self.assertEqual(evs, [])
        FAKE.hook("/fake/config", {"watchExpired": "event"})
        # an open watch receives an in-stream ERROR 410 when the history is compacted
        cur = self.core.list_namespaced_config_map(NS).metadata.resource_version
        resp = self.core.list_namespaced_config_map(NS, watch=True, resource_version=cur,
                                                    timeout_seconds=20, _preload_content=False)
        threading.Timer(0.5, lambda: FAKE.hook("/fake/compact?expireWatches=true")).start()
        lines = [json.loads(x) for x in resp.read().decode().splitlines() if x.strip()]
        self.assertEqual(lines[-1]["type"], "ERROR")
        self.assertEqual(lines[-1]["object"]["code"], 410)
        self.assertEqual(lines[-1]["object"]["reason"], "Expired")
        # a continue token from before the compaction is expired too
        for i in range(3):
            self.core.create_namespaced_config_map(NS, client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="pg-%d" % i)))
        p1 = self.core.list_namespaced_config_map(NS, limit=1)
        self.core.delete_namespaced_config_map("pg-2", NS)
        FAKE.hook("/fake/compact")
        self.assertApiError(410, "Expired", self.core.list_namespaced_config_map, NS, limit=1,
                            _continue=p1.metadata._continue)

    # ---- leases and events ---------------------------------------------------------------
    def test_lease_conflict(self):
        co = client.CoordinationV1Api(self.api)
        now = datetime.datetime.now(datetime.timezone.utc)
        lease = co.create_namespaced_lease(NS, client.V1Lease(
            metadata=client.V1ObjectMeta(name="smc-leader"),
            spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15,
                                    acquire_time=now, renew_time=now,
                                    lease_transitions=0)))
        self.assertEqual(lease.spec.holder_identity, "a")
        mine = co.read_namespaced_lease("smc-leader", NS)
        theirs = co.read_namespaced_lease("smc-leader", NS)
        mine.spec.renew_time = datetime.datetime.now(datetime.timezone.utc)
        r = co.replace_namespaced_lease("smc-leader", NS, mine)
        self.assertGreater(int(r.metadata.resource_version),
                           int(theirs.metadata.resource_version))
        theirs.spec.holder_identity = "b"
        e = self.assertApiError(409, "Conflict", co.replace_namespaced_lease, "smc-leader", NS,
                                theirs)
        self.assertIn('leases.coordination.k8s.io "smc-leader"', json.loads(e.body)["message"])
        self.assertEqual(co.read_namespaced_lease("smc-leader", NS).spec.holder_identity, "a")

    def test_events_v1(self):
        ev = client.EventsV1Api(self.api)
        now = datetime.datetime.now(datetime.timezone.utc)
        body = client.EventsV1Event(
            metadata=client.V1ObjectMeta(generate_name="payments-dev."),
            event_time=now, reporting_controller="secret-management.octopilot.io/smc",
            reporting_instance="smc-0", action="Reconcile", reason="ReconciliationSucceeded",
            type="Normal", note="synced 3 secrets",
            regarding=client.V1ObjectReference(api_version="%s/%s" % (GROUP, VERSION),
                                               kind="SecretManagerConfig", name="payments-dev",
                                               namespace=NS))
        made = ev.create_namespaced_event(NS, body)
        self.assertTrue(made.metadata.name.startswith("payments-dev."))
        self.assertEqual(made.note, "synced 3 secrets")
        # the same object read through core/v1
        core = self.core.list_namespaced_event(
            NS, field_selector="involvedObject.name=payments-dev")
        self.assertEqual(len(core.items), 1)
        self.assertEqual(core.items[0].message, "synced 3 secrets")
        self.assertEqual(core.items[0].involved_object.kind, "SecretManagerConfig")
        body.action = None
        body.metadata = client.V1ObjectMeta(name="bad-event")
        e = self.assertApiError(422, "Invalid", ev.create_namespaced_event, NS, body)
        self.assertIn("action", json.loads(e.body)["message"])

    # ---- CRDs, Flux and Argo kinds, namespaces, discovery, hooks --------------------------
    def test_crd_lifecycle(self):
        ext = client.ApiextensionsV1Api(self.api)
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.io"},
               "spec": {"group": "example.io", "scope": "Namespaced",
                        "names": {"kind": "Widget", "plural": "widgets"},
                        "versions": [{"name": "v1", "served": True, "storage": True,
                                      "schema": {"openAPIV3Schema": {
                                          "type": "object", "properties": {"spec": {
                                              "type": "object", "required": ["size"],
                                              "properties": {"size": {"type": "integer",
                                                                      "default": 1,
                                                                      "maximum": 10}}}}}}}]}}
        bad = json.loads(json.dumps(crd))
        bad["metadata"]["name"] = "wrong.example.io"
        self.assertApiError(422, "Invalid", ext.create_custom_resource_definition, bad)
        self.assertApiError(404, "NotFound", self.co.list_namespaced_custom_object,
                            "example.io", "v1", NS, "widgets")
        made = ext.create_custom_resource_definition(crd)
        conds = {c.type: c.status for c in made.status.conditions}
        self.assertEqual(conds.get("Established"), "True")
        w = self.co.create_namespaced_custom_object(
            "example.io", "v1", NS, "widgets",
            {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"},
             "spec": {"size": 3, "colour": "red"}})
        self.assertEqual(w["spec"], {"size": 3})          # unknown field pruned
        self.assertApiError(422, "Invalid", self.co.create_namespaced_custom_object,
                            "example.io", "v1", NS, "widgets",
                            {"apiVersion": "example.io/v1", "kind": "Widget",
                             "metadata": {"name": "big"}, "spec": {"size": 11}})
        groups = [g.name for g in client.ApisApi(self.api).get_api_versions().groups]
        self.assertIn("example.io", groups)
        ext.delete_custom_resource_definition("widgets.example.io")
        self.assertApiError(404, None, self.co.list_namespaced_custom_object,
                            "example.io", "v1", NS, "widgets")
        groups = [g.name for g in client.ApisApi(self.api).get_api_versions().groups]
        self.assertNotIn("example.io", groups)

    def test_flux_and_argo_kinds(self):
        flux = "source.toolkit.fluxcd.io"
        gr = {"apiVersion": flux + "/v1", "kind": "GitRepository",
              "metadata": {"name": "repo"},
              "spec": {"url": "http://127.0.0.1/repo.git", "interval": "1m",
                       "ref": {"branch": "main"}}}
        self.co.create_namespaced_custom_object(flux, "v1", NS, "gitrepositories", gr)
        art = {"artifact": {"revision": "main@sha1:0123", "digest": "sha256:ab",
                            "url": "http://127.0.0.1/a.tar.gz"}}
        self.co.patch_namespaced_custom_object_status(flux, "v1", NS, "gitrepositories",
                                                      "repo", {"status": art})
        old = self.co.get_namespaced_custom_object(flux, "v1beta2", NS, "gitrepositories",
                                                   "repo")
        self.assertEqual(old["apiVersion"], flux + "/v1beta2")
        self.assertEqual(old["status"]["artifact"]["revision"], "main@sha1:0123")
        for plural in ("ocirepositories", "buckets"):
            self.assertEqual(self.co.list_namespaced_custom_object(
                flux, "v1beta2", NS, plural)["items"], [])
        app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": "app"},
               "spec": {"source": {"repoURL": "http://127.0.0.1/r.git", "path": "p"}},
               "status": {"sync": {"revision": "abc"}}}
        a = self.co.create_namespaced_custom_object("argoproj.io", "v1alpha1", NS,
                                                    "applications", app)
        self.assertEqual(a["status"]["sync"]["revision"], "abc")   # no status subresource

    def test_namespace_deletion(self):
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="tmp")))
        self.core.create_namespaced_config_map("tmp", client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="c")))
        self.co.create_namespaced_custom_object(GROUP, VERSION, "tmp", PLURAL, smc("held"))
        self.co.patch_namespaced_custom_object(GROUP, VERSION, "tmp", PLURAL, "held",
                                               {"metadata": {"finalizers": ["x/y"]}})
        self.core.delete_namespace("tmp")
        self.assertEqual(self.core.read_namespace("tmp").status.phase, "Terminating")
        self.assertApiError(404, "NotFound", self.core.read_namespaced_config_map, "c", "tmp")
        self.assertApiError(403, "Forbidden", self.core.create_namespaced_config_map, "tmp",
                            client.V1ConfigMap(metadata=client.V1ObjectMeta(name="d")))
        self.co.patch_namespaced_custom_object(GROUP, VERSION, "tmp", PLURAL, "held",
                                               {"metadata": {"finalizers": None}})
        self.assertApiError(404, "NotFound", self.core.read_namespace, "tmp")

    def test_hooks_and_state_dump(self):
        FAKE.hook("/fake/requests", method="DELETE")
        FAKE.hook("/fake/inject", {"method": "GET", "pathRegex": "/configmaps$", "code": 429,
                                   "retryAfter": 1, "count": 1})
        # urllib3 honours Retry-After on a 429: one refused request, then a retried one
        t0 = time.monotonic()
        self.core.list_namespaced_config_map(NS)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        FAKE.hook("/fake/inject", {"method": "GET", "pathRegex": "/configmaps$", "code": 500,
                                   "count": 1})
        self.assertApiError(500, "InternalError", self.core.list_namespaced_config_map, NS)
        log = FAKE.hook("/fake/requests", method="GET")["requests"]
        self.assertEqual([r["code"] for r in log if r["path"].endswith("/configmaps")],
                         [429, 200, 500])
        # client certificate CN (of this test's request: another test's watch may log later)
        self.assertEqual([r for r in log if r["path"].endswith("/configmaps")][-1]["user"],
                         "smc-test-admin")
        self.core.create_namespaced_config_map(NS, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="dumped"), data={"k": "v"}))
        with open(os.path.join(FAKE.dir, "state.json")) as f:
            state = json.load(f)
        self.assertIn("dumped", [o["metadata"]["name"] for o in state["objects"]["configmaps"]])
        self.assertEqual(client.CoreApi(self.api).get_api_versions().versions, ["v1"])


def main():
    global FAKE
    FAKE = Fake()
    try:
        prog = unittest.main(exit=False, verbosity=2)
        ok = prog.result.wasSuccessful()
    finally:
        FAKE.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
