// tests/fakes/azure_check.js — drives the official Azure SDKs (@azure/keyvault-secrets
// 4.12.0, @azure/app-configuration 1.13.0) against tests/fakes/azure_server.py, so the
// fake is checked by an independent client. Run by tests/fakes/test_azure_sdk.sh with:
//   AZF_HTTPS=https://localhost:Q  AZF_HTTP=http://127.0.0.1:P  (NODE_EXTRA_CA_CERTS=ca.crt)
//   AZF_TENANT, AZF_CLIENT_ID, AZF_CLIENT_SECRET, AZF_FED_TOKEN (contents of the token file)
// The SDKs get a credential that really fetches tokens from the fake's Entra endpoint.
// Every step asserts its result; the first failure prints "FAIL <step>: ..." and exits 1.
"use strict";
const { SecretClient } = require("@azure/keyvault-secrets");
const { AppConfigurationClient } = require("@azure/app-configuration");

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`missing environment variable ${k}`);
	return v;
};
const HTTPS = env("AZF_HTTPS");
const HTTP = env("AZF_HTTP");
const TENANT = env("AZF_TENANT");
const CLIENT_ID = env("AZF_CLIENT_ID");
const CLIENT_SECRET = env("AZF_CLIENT_SECRET");
const FED_TOKEN = env("AZF_FED_TOKEN");
const AC_AUDIENCE = "https://smc-fake.azconfig.io";
const AC_CONN = (secret) =>
	`Endpoint=${HTTPS};Id=smc-fake-appconfig;Secret=${secret}`;
const AC_SECRET = "c21jLWZha2UtYXBwY29uZmlnLXNlY3JldA==";

let steps = 0;
class Failure extends Error {}
function assert(cond, what) {
	if (!cond) throw new Failure(what);
}
function eq(got, want, what) {
	const g = JSON.stringify(got), w = JSON.stringify(want);
	if (g !== w) throw new Failure(`${what}: got ${g}, want ${w}`);
}
async function step(name, fn) {
	try {
		await fn();
		steps++;
		console.log(`ok   - ${name}`);
	} catch (e) {
		const detail = e instanceof Failure ? e.message :
			`${e.name}: statusCode=${e.statusCode} code=${e.code} ${e.message}`;
		console.log(`FAIL ${name}: ${detail}`);
		process.exit(1);
	}
}
// expectError(promise, statusCode) → the error, when the call failed with that status
async function expectError(p, status, what) {
	try {
		await p;
	} catch (e) {
		eq(e.statusCode, status, `${what}: status`);
		return e;
	}
	throw new Failure(`${what}: succeeded, expected HTTP ${status}`);
}
async function collect(iter) {
	const out = [];
	for await (const x of iter) out.push(x);
	return out;
}

// Control API and token endpoint, by plain fetch.
async function control(method, path, body) {
	const r = await fetch(`${HTTP}/_fake/${path}`, {
		method, headers: { "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	assert(r.ok, `control ${method} ${path}: HTTP ${r.status}`);
	return r.json();
}
async function tokenRequest(tenant, fields) {
	const r = await fetch(`${HTTPS}/${tenant}/oauth2/v2.0/token`, {
		method: "POST",
		headers: { "content-type": "application/x-www-form-urlencoded" },
		body: new URLSearchParams(fields).toString(),
	});
	return { status: r.status, body: await r.json() };
}

// A TokenCredential that asks the fake's Entra endpoint (client_credentials + secret).
const issued = [];
const credential = {
	async getToken(scopes, options) {
		const scope = Array.isArray(scopes) ? scopes.join(" ") : scopes;
		const tenant = (options && options.tenantId) || TENANT;
		const { status, body } = await tokenRequest(tenant, {
			grant_type: "client_credentials", client_id: CLIENT_ID,
			client_secret: CLIENT_SECRET, scope,
		});
		if (status !== 200)
			throw new Error(`token endpoint: HTTP ${status} ${JSON.stringify(body)}`);
		issued.push({ scope, tenant });
		return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
	},
};

const fast = { retryOptions: { maxRetries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 2000 } };
const poll = { updateIntervalInMs: 50 };

async function keyVault() {
	const kv = new SecretClient(HTTPS, credential,
		{ serviceVersion: "7.5", disableChallengeResourceVerification: true, ...fast });
	let v1, v2;
	await step("kv setSecret with tags and contentType", async () => {
		const s = await kv.setSecret("sdk-a", "value-one",
			{ tags: { "managed-by": "smc" }, contentType: "text/plain" });
		assert(/^[0-9a-f]{32}$/.test(s.properties.version), `version ${s.properties.version}`);
		eq(s.value, "value-one", "value");
		eq(s.properties.tags, { "managed-by": "smc" }, "tags");
		eq(s.properties.enabled, true, "enabled");
		v1 = s.properties.version;
	});
	await step("kv challenge: token asked for the vault scope and the challenge's tenant", async () => {
		assert(issued.length >= 1, "no token fetched");
		eq(issued[0].scope, "https://vault.azure.net/.default", "scope");
		eq(issued[0].tenant, TENANT, "tenant");
	});
	await step("kv second setSecret makes a new version, getSecret reads the latest", async () => {
		const s = await kv.setSecret("sdk-a", "value-two");
		v2 = s.properties.version;
		assert(v2 !== v1, "same version twice");
		const g = await kv.getSecret("sdk-a");
		eq(g.value, "value-two", "latest value");
		eq(g.properties.version, v2, "latest version");
		const o = await kv.getSecret("sdk-a", { version: v1 });
		eq(o.value, "value-one", "old version value");
		eq(o.properties.tags, { "managed-by": "smc" }, "old version tags");
	});
	await step("kv updateSecretProperties disables the latest version; get → 403", async () => {
		const p = await kv.updateSecretProperties("sdk-a", v2,
			{ enabled: false, tags: { "managed-by": "smc", state: "off" } });
		eq(p.enabled, false, "enabled after update");
		eq(p.tags, { "managed-by": "smc", state: "off" }, "tags after update");
		const e = await expectError(kv.getSecret("sdk-a"), 403, "get disabled");
		eq(e.code, "Forbidden", "error code");
		assert(/disabled secret/.test(e.message), `message: ${e.message}`);
		eq((await kv.getSecret("sdk-a", { version: v1 })).value, "value-one", "enabled old version");
	});
	await step("kv getSecret of a missing name → 404 SecretNotFound", async () => {
		const e = await expectError(kv.getSecret("sdk-missing"), 404, "get missing");
		eq(e.code, "SecretNotFound", "error code");
	});
	await step("kv listPropertiesOfSecrets pages past maxresults (30 more secrets)", async () => {
		for (let i = 0; i < 30; i++)
			await kv.setSecret(`sdk-p-${String(i).padStart(2, "0")}`, `v${i}`);
		let pages = 0;
		const names = [];
		for await (const pg of kv.listPropertiesOfSecrets().byPage({ maxPageSize: 7 })) {
			pages++;
			assert(pg.length <= 7, `page of ${pg.length} > 7`);
			for (const p of pg) names.push(p.name);
		}
		assert(pages >= 5, `only ${pages} page(s)`);
		eq(names.length, 31, "listed count");
		eq(new Set(names).size, 31, "distinct names");
		const all = await collect(kv.listPropertiesOfSecrets());
		eq(all.length, 31, "listed count without a page size (default 25 per page)");
		const a = all.find((p) => p.name === "sdk-a");
		eq(a.enabled, false, "sdk-a listed as disabled");
	});
	await step("kv listPropertiesOfSecretVersions", async () => {
		const vs = await collect(kv.listPropertiesOfSecretVersions("sdk-a"));
		eq(vs.map((v) => v.version).sort(), [v1, v2].sort(), "versions");
		eq(vs.find((v) => v.version === v2).enabled, false, "v2 disabled");
		eq(vs.find((v) => v.version === v1).enabled, true, "v1 enabled");
	});
	await step("kv beginDeleteSecret: poller completes", async () => {
		const poller = await kv.beginDeleteSecret("sdk-a", poll);
		const d = await poller.pollUntilDone();
		eq(d.name, "sdk-a", "deleted name");
		assert(d.recoveryId && d.recoveryId.endsWith("/deletedsecrets/sdk-a"), `recoveryId ${d.recoveryId}`);
		assert(d.deletedOn instanceof Date && d.scheduledPurgeDate > d.deletedOn, "dates");
	});
	await step("kv setSecret on a soft-deleted name → 409 Conflict", async () => {
		const e = await expectError(kv.setSecret("sdk-a", "again"), 409, "set deleted");
		eq(e.code, "Conflict", "error code");
		assert(/deleted but recoverable/.test(e.message), `message: ${e.message}`);
		await expectError(kv.getSecret("sdk-a", { version: v1 }), 404, "get deleted");
	});
	await step("kv getDeletedSecret and listDeletedSecrets", async () => {
		const d = await kv.getDeletedSecret("sdk-a");
		eq(d.name, "sdk-a", "name");
		eq(d.properties.tags, { "managed-by": "smc", state: "off" }, "tags of the latest version");
		const ds = await collect(kv.listDeletedSecrets());
		eq(ds.map((x) => x.name), ["sdk-a"], "deleted list");
		const live = await collect(kv.listPropertiesOfSecrets());
		eq(live.length, 30, "live list without the deleted one");
	});
	await step("kv beginRecoverDeletedSecret: poller completes, versions are back", async () => {
		const poller = await kv.beginRecoverDeletedSecret("sdk-a", poll);
		const p = await poller.pollUntilDone();
		eq(p.name, "sdk-a", "recovered name");
		eq((await kv.getSecret("sdk-a", { version: v1 })).value, "value-one", "v1 after recover");
		await expectError(kv.getDeletedSecret("sdk-a"), 404, "deleted after recover");
	});
	await step("kv delete then purgeDeletedSecret frees the name", async () => {
		await (await kv.beginDeleteSecret("sdk-a", poll)).pollUntilDone();
		await kv.purgeDeletedSecret("sdk-a");
		const e = await expectError(kv.getDeletedSecret("sdk-a"), 404, "deleted after purge");
		eq(e.code, "SecretNotFound", "error code");
		const s = await kv.setSecret("sdk-a", "fresh");
		eq((await collect(kv.listPropertiesOfSecretVersions("sdk-a"))).length, 1, "versions after purge");
		eq(s.value, "fresh", "value after purge");
	});
	await step("kv state seen by the control API matches", async () => {
		const st = await control("GET", "state");
		const a = st.secrets["sdk-a"];
		eq(a.deleted, false, "deleted flag");
		eq(a.versions.map((v) => v.value), ["fresh"], "stored values");
		eq(st.secrets["sdk-p-07"].versions[0].value, "v7", "a paged secret");
	});
	await step("kv 429 with Retry-After: the SDK retries and succeeds", async () => {
		await control("POST", "faults", { every: 2, status: 429, ops: ["secrets.get"], count: 1 });
		const before = await control("GET", "counts");
		for (let i = 0; i < 2; i++)
			eq((await kv.getSecret("sdk-p-01")).value, "v1", "value under throttling");
		const after = await control("GET", "counts");
		eq(after.counts["secrets.get"] - before.counts["secrets.get"], 2, "served gets");
		eq(after.attempts["secrets.get"] - before.attempts["secrets.get"], 3, "attempted gets");
		eq((await control("GET", "faults")).fault.injected, 1, "faults injected");
		await control("DELETE", "faults");
	});
	await step("kv default service version (2026-04-01) and plain HTTP with allowInsecureConnection", async () => {
		const d = new SecretClient(HTTPS, credential, { disableChallengeResourceVerification: true, ...fast });
		eq((await d.getSecret("sdk-p-02")).value, "v2", "default version over HTTPS");
		const h = new SecretClient(HTTP, credential,
			{ allowInsecureConnection: true, disableChallengeResourceVerification: true, ...fast });
		eq((await h.getSecret("sdk-p-03")).value, "v3", "over HTTP");
	});
}

async function appConfig() {
	const ac = new AppConfigurationClient(HTTPS, credential, { audience: AC_AUDIENCE, ...fast });
	let etag;
	await step("ac setConfigurationSetting with label, content type and tags", async () => {
		const s = await ac.setConfigurationSetting({ key: "app/db/host", label: "prod",
			value: "db.local", contentType: "text/plain", tags: { "managed-by": "smc" } });
		eq(s.value, "db.local", "value");
		eq(s.label, "prod", "label");
		assert(s.etag, "no etag");
		etag = s.etag;
		assert(issued.some((t) => t.scope === `${AC_AUDIENCE}/.default`), "no token for the App Configuration scope");
	});
	await step("ac getConfigurationSetting", async () => {
		const g = await ac.getConfigurationSetting({ key: "app/db/host", label: "prod" });
		eq([g.value, g.contentType, g.tags, g.etag], ["db.local", "text/plain", { "managed-by": "smc" }, etag], "setting");
		const e = await expectError(ac.getConfigurationSetting({ key: "app/db/host" }), 404, "null label is another setting");
		assert(e, "404");
	});
	await step("ac listConfigurationSettings with keyFilter and labelFilter, paged", async () => {
		await ac.setConfigurationSetting({ key: "app/db/port", label: "prod", value: "5432" });
		await ac.setConfigurationSetting({ key: "app/feature", value: "on" });
		await ac.setConfigurationSetting({ key: "other/x", label: "prod", value: "x" });
		await control("POST", "config", { kv_page_size: 2 });
		const prod = await collect(ac.listConfigurationSettings({ keyFilter: "app/*", labelFilter: "prod" }));
		eq(prod.map((s) => s.key), ["app/db/host", "app/db/port"], "app/* in prod");
		const anyLabel = await collect(ac.listConfigurationSettings({ keyFilter: "app/*" }));
		eq(anyLabel.map((s) => s.key), ["app/db/host", "app/db/port", "app/feature"], "app/* any label");
		const nullLabel = await collect(ac.listConfigurationSettings({ labelFilter: "\0" }));
		eq(nullLabel.map((s) => s.key), ["app/feature"], "null label");
		const star = await collect(ac.listConfigurationSettings({ labelFilter: "*" }));
		eq(star.length, 4, "labelFilter * matches every label, the null one too");
		const alts = await collect(ac.listConfigurationSettings({ keyFilter: "other/x,app/feature" }));
		eq(alts.map((s) => s.key), ["app/feature", "other/x"], "comma alternatives");
		let pages = 0;
		for await (const pg of ac.listConfigurationSettings().byPage()) {
			pages++;
			assert(pg.items.length <= 2, `page of ${pg.items.length}`);
		}
		eq(pages, 2, "pages of 2 for 4 settings");
		await control("POST", "config", { kv_page_size: 100 });
	});
	await step("ac If-Match mismatch (onlyIfUnchanged with a stale etag) → 412", async () => {
		const cur = await ac.setConfigurationSetting({ key: "app/db/host", label: "prod", value: "db2.local" });
		assert(cur.etag !== etag, "etag did not change");
		await expectError(ac.setConfigurationSetting({ key: "app/db/host", label: "prod", value: "x", etag },
			{ onlyIfUnchanged: true }), 412, "stale If-Match");
		const ok = await ac.setConfigurationSetting({ key: "app/db/host", label: "prod", value: "db3.local",
			etag: cur.etag }, { onlyIfUnchanged: true });
		eq(ok.value, "db3.local", "fresh If-Match");
		etag = ok.etag;
	});
	await step("ac addConfigurationSetting on an existing key → 412; onlyIfChanged → 304", async () => {
		await expectError(ac.addConfigurationSetting({ key: "app/db/host", label: "prod", value: "y" }), 412, "add existing");
		const g = await ac.getConfigurationSetting({ key: "app/db/host", label: "prod", etag }, { onlyIfChanged: true });
		eq(g.statusCode, 304, "onlyIfChanged with the current etag");
	});
	await step("ac deleteConfigurationSetting: 200, then 204, then get → 404", async () => {
		const d = await ac.deleteConfigurationSetting({ key: "app/db/host", label: "prod" });
		eq(d.statusCode, 200, "first delete");
		eq(d.value, "db3.local", "deleted value");
		const d2 = await ac.deleteConfigurationSetting({ key: "app/db/host", label: "prod" });
		eq(d2.statusCode, 204, "second delete");
		await expectError(ac.getConfigurationSetting({ key: "app/db/host", label: "prod" }), 404, "get deleted");
		const st = await control("GET", "state");
		eq(st.kv.map((k) => k.key), ["app/db/port", "app/feature", "other/x"], "stored keys");
	});
	await step("ac HMAC-SHA256 from a connection string; a wrong secret → 401", async () => {
		const h = new AppConfigurationClient(AC_CONN(AC_SECRET), fast);
		eq((await h.getConfigurationSetting({ key: "app/db/port", label: "prod" })).value, "5432", "HMAC get");
		const s = await h.setConfigurationSetting({ key: "hmac/k", value: "v" });
		eq(s.value, "v", "HMAC put");
		const bad = new AppConfigurationClient(AC_CONN(Buffer.from("wrong").toString("base64")), fast);
		await expectError(bad.getConfigurationSetting({ key: "app/db/port", label: "prod" }), 401, "wrong HMAC secret");
	});
}

async function tokens() {
	await step("token endpoint: wrong client secret → 401 invalid_client", async () => {
		const r = await tokenRequest(TENANT, { grant_type: "client_credentials", client_id: CLIENT_ID,
			client_secret: "wrong", scope: "https://vault.azure.net/.default" });
		eq([r.status, r.body.error], [401, "invalid_client"], "answer");
	});
	await step("token endpoint: federated assertion (workload identity) → token usable on the vault", async () => {
		const r = await tokenRequest(TENANT, { grant_type: "client_credentials", client_id: "wi-app",
			client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
			client_assertion: FED_TOKEN, scope: "https://vault.azure.net/.default" });
		eq([r.status, r.body.token_type, r.body.expires_in], [200, "Bearer", 3599], "answer");
		const g = await fetch(`${HTTPS}/secrets/sdk-p-04?api-version=7.4`,
			{ headers: { authorization: `Bearer ${r.body.access_token}` } });
		eq(g.status, 200, "vault GET with the federated token");
		eq((await g.json()).value, "v4", "value");
		const ac = await fetch(`${HTTPS}/kv/app%2Ffeature?api-version=2023-11-01`,
			{ headers: { authorization: `Bearer ${r.body.access_token}` } });
		eq(ac.status, 401, "vault token on App Configuration");
		const bad = await tokenRequest(TENANT, { grant_type: "client_credentials", client_id: "wi-app",
			client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
			client_assertion: "not-the-token", scope: "https://vault.azure.net/.default" });
		eq([bad.status, bad.body.error], [401, "invalid_client"], "wrong assertion");
	});
	await step("token endpoint: other tenant → 400; vault without token → 401 challenge", async () => {
		const r = await tokenRequest("another-tenant", { grant_type: "client_credentials",
			client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: "https://vault.azure.net/.default" });
		eq(r.status, 400, "other tenant");
		const g = await fetch(`${HTTPS}/secrets/sdk-p-04?api-version=7.4`);
		eq(g.status, 401, "no token");
		const ch = g.headers.get("www-authenticate") || "";
		assert(ch.includes(`authorization="${HTTPS}/${TENANT}"`) && ch.includes('resource="https://vault.azure.net"'),
			`challenge: ${ch}`);
	});
	await step("IMDS: 400 without Metadata: true, token with it", async () => {
		const u = `${HTTP}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent("https://vault.azure.net")}`;
		eq((await fetch(u)).status, 400, "without header");
		const r = await fetch(u, { headers: { Metadata: "true" } });
		eq(r.status, 200, "with header");
		const b = await r.json();
		eq([b.token_type, b.resource, b.expires_in], ["Bearer", "https://vault.azure.net", "3599"], "answer");
		const g = await fetch(`${HTTP}/secrets/sdk-p-05/?api-version=7.6`,
			{ headers: { authorization: `Bearer ${b.access_token}` } });
		eq(g.status, 200, "vault GET with the IMDS token");
	});
	await step("tokens expire (token_lifetime) and can be revoked", async () => {
		const get = (tok) => fetch(`${HTTPS}/secrets/sdk-p-06?api-version=7.5`,
			{ headers: { authorization: `Bearer ${tok}` } });
		const fields = { grant_type: "client_credentials", client_id: CLIENT_ID,
			client_secret: CLIENT_SECRET, scope: "https://vault.azure.net/.default" };
		await control("POST", "config", { token_lifetime: 1 });
		const short = await tokenRequest(TENANT, fields);
		eq(short.body.expires_in, 1, "short lifetime");
		await control("POST", "config", { token_lifetime: 3599 });
		const long = await tokenRequest(TENANT, fields);
		eq((await get(long.body.access_token)).status, 200, "fresh token");
		await new Promise((r) => setTimeout(r, 2100));
		eq((await get(short.body.access_token)).status, 401, "expired token");
		await control("POST", "tokens/revoke");
		eq((await get(long.body.access_token)).status, 401, "revoked token");
	});
	await step("counts: token endpoint and every data operation were used", async () => {
		const c = (await control("GET", "counts")).counts;
		for (const op of ["token", "imds.token", "secrets.set", "secrets.get", "secrets.list",
			"secrets.versions", "secrets.update", "secrets.delete", "secrets.getdeleted",
			"secrets.listdeleted", "secrets.recover", "secrets.purge", "kv.put", "kv.get",
			"kv.list", "kv.delete"])
			assert(c[op] > 0, `no count for ${op}: ${JSON.stringify(c)}`);
		const log = (await control("GET", "requests")).requests;
		assert(log.some((r) => r.op === "kv.get" && r.auth === "hmac" && r.status === 200), "no HMAC request logged");
		assert(log.some((r) => r.op === "secrets.set" && r.auth === "none" && r.status === 401), "no challenge logged");
	});
}

(async () => {
	const t0 = Date.now();
	await control("POST", "reset");
	await keyVault();
	await appConfig();
	await tokens();
	console.log(`${steps} passed, 0 failed (${Date.now() - t0} ms)`);
})().catch((e) => {
	console.log(`FAIL setup: ${e.stack || e}`);
	process.exit(1);
});
