/* local_store.c — the embedded SQLite versioned store (see local_store.h). */
#include "syncer/providers/local/local_store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/str.h"
#include "common/xmalloc.h"

#define LS_DIGEST_LEN 32
#define LS_REASON_MAX 320

enum ls_stmt {
	LS_FIND,
	LS_INSERT_OBJ,
	LS_LATEST,
	LS_MAXVER,
	LS_INSERT_VER,
	LS_SET_MARKS,
	LS_SET_STATE,
	LS_OWNED,
	LS_NSTMT
};

static const char *const ls_sql[LS_NSTMT] = {
	[LS_FIND] = "SELECT id, managed_by, owner, state FROM objects WHERE kind=?1 AND name=?2",
	[LS_INSERT_OBJ] = "INSERT INTO objects(kind, name, managed_by, owner, created_at, "
			  "updated_at, state) VALUES(?1, ?2, ?3, ?4, ?5, ?5, 'enabled')",
	[LS_LATEST] = "SELECT version, value, written_by, digest FROM versions "
		      "WHERE object_id=?1 AND state='enabled' ORDER BY version DESC LIMIT 1",
	[LS_MAXVER] = "SELECT coalesce(max(version), 0) FROM versions WHERE object_id=?1",
	[LS_INSERT_VER] = "INSERT INTO versions(object_id, version, value, created_at, "
			  "written_by, state, digest) VALUES(?1, ?2, ?3, ?4, 'smc', 'enabled', ?5)",
	[LS_SET_MARKS] = "UPDATE objects SET managed_by=?2, owner=?3, updated_at=?4 WHERE id=?1",
	[LS_SET_STATE] = "UPDATE objects SET state=?2, updated_at=?3 WHERE id=?1",
	[LS_OWNED] = "SELECT id, name FROM objects WHERE kind=?1 AND managed_by=?2 AND owner=?3 "
		     "AND state='enabled' ORDER BY name",
};

static const char ls_schema[] =
	"CREATE TABLE objects("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL CHECK(kind IN ('secret','config')),"
	" name TEXT NOT NULL,"
	" managed_by TEXT,"
	" owner TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK(state IN ('enabled','disabled','deleted')),"
	" UNIQUE(kind, name));"
	"CREATE TABLE versions("
	" object_id INTEGER NOT NULL REFERENCES objects(id),"
	" version INTEGER NOT NULL CHECK(version >= 1),"
	" value BLOB NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" written_by TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK(state IN ('enabled','disabled','destroyed')),"
	" digest BLOB,"
	" PRIMARY KEY(object_id, version));"
	"PRAGMA user_version = 1;";

struct local_store {
	sqlite3 *db;
	char *path;
	bool dry;     /* plan only: nothing is written */
	bool memory;  /* dry run without a store file: an empty in-memory store */
	bool in_tx;
	sqlite3_stmt *stmt[LS_NSTMT];
};

/* ---- errors ---- */

static int ls_err(const char *path, int rc, const char *what, struct err_ctx *err)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return err_set(err, ERR_LOCKED,
			       "local store %s is locked by another process (waited %d ms)", path,
			       LOCAL_STORE_BUSY_TIMEOUT_MS);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return err_set(err, ERR_PERM, "local store %s is read-only (%s)", path, what);
	case SQLITE_CANTOPEN:
		return err_set(err, ERR_PERM, "local store %s cannot be opened (%s)", path, what);
	case SQLITE_NOMEM:
		return err_set(err, ERR_NOMEM, "local store %s: out of memory", path);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return err_set(err, ERR_INVAL, "local store %s is not a valid SQLite database", path);
	case SQLITE_CONSTRAINT:
		return err_set(err, ERR_CONFLICT, "local store %s refused %s: %s", path, what,
			       sqlite3_errstr(rc));
	case SQLITE_TOOBIG:
		return err_set(err, ERR_TOOBIG, "local store %s: %s: %s", path, what,
			       sqlite3_errstr(rc));
	case SQLITE_MISMATCH:
		return err_set(err, ERR_INVAL, "local store %s: %s: %s", path, what,
			       sqlite3_errstr(rc));
	default:
		return err_set(err, ERR_IO, "local store %s: %s: %s", path, what,
			       sqlite3_errstr(rc));
	}
}

static int ls_exec(struct local_store *st, const char *sql, struct err_ctx *err)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return ls_err(st->path, rc, sql, err);
	return 0;
}

/* The cached statement, reset and with cleared bindings. Borrowed. */
static int ls_stmt(struct local_store *st, enum ls_stmt which, sqlite3_stmt **out,
		   struct err_ctx *err)
{
	int rc;

	if (st->stmt[which] == NULL) {
		rc = sqlite3_prepare_v3(st->db, ls_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
					&st->stmt[which], NULL);
		if (rc != SQLITE_OK)
			return ls_err(st->path, rc, "preparing a statement", err);
	}
	sqlite3_reset(st->stmt[which]);
	sqlite3_clear_bindings(st->stmt[which]);
	*out = st->stmt[which];
	return 0;
}

/* Resets s and drops its bindings, so no pointer into a secbuf outlives the call. */
static void ls_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Runs a bound statement that returns no row, then resets it (ls_done); what names the
 * step in an error. */
static int ls_step_done(struct local_store *st, sqlite3_stmt *s, const char *what,
			struct err_ctx *err)
{
	int rc = sqlite3_step(s);

	rc = rc == SQLITE_DONE ? 0 : ls_err(st->path, rc, what, err);
	ls_done(s);
	return rc;
}

/* Room for entry n of a growing result array v (elem bytes an entry, *cap entries, doubled
 * from 64, at most LOCAL_STORE_MAX_OBJECTS entries): *out is v or its reallocation (v is
 * then stale) and *cap its capacity. On failure v and *cap are unchanged. */
static int ls_room(const struct local_store *st, void *v, size_t elem, size_t n, size_t *cap,
		   void **out, struct err_ctx *err)
{
	size_t ncap;
	void *p;

	if (n >= LOCAL_STORE_MAX_OBJECTS)
		return err_set(err, ERR_TOOBIG, "local store %s: more than %d objects", st->path,
			       LOCAL_STORE_MAX_OBJECTS);
	if (n < *cap) {
		*out = v;
		return 0;
	}
	ncap = *cap ? *cap * 2 : 64;
	if ((p = xreallocarray(v, ncap, elem)) == NULL)
		return ERR_NOMEM;
	*cap = ncap;
	*out = p;
	return 0;
}

static const char *ls_kind_str(enum item_kind kind)
{
	return kind == ITEM_CONFIG ? "config" : "secret";
}

static int ls_digest(const struct secbuf *v, uint8_t md[LS_DIGEST_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(v->data, v->len, md, &len, EVP_sha256(), NULL) != 1 ||
	    len != LS_DIGEST_LEN)
		return ERR_CRYPTO;
	return 0;
}

/* ---- opening ---- */

static int ls_resolve_path(const char *p, char **out, struct err_ctx *err)
{
	char *s;

	if (p == NULL || *p == '\0')
		p = LOCAL_STORE_DEFAULT_PATH;
	if (strlen(p) >= LOCAL_STORE_MAX_PATH)
		return err_set(err, ERR_INVAL, "local store path is longer than %d bytes",
			       LOCAL_STORE_MAX_PATH);
	s = xstrdup(p);
	if (s == NULL)
		return ERR_NOMEM;
	*out = s;
	return 0;
}

/* The directory part of path ("." when there is none). Owned result, NULL on ENOMEM. */
static char *ls_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* mkdir -p dir with mode 0700 for the components it creates. */
static int ls_mkdirs(const char *dir, struct err_ctx *err)
{
	char buf[LOCAL_STORE_MAX_PATH];
	size_t i, n = strlen(dir);
	int rc;

	if ((rc = str_copy(buf, sizeof(buf), dir)) != 0)
		return err_set(err, ERR_INVAL, "local store directory path is too long");
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			int e = errno;

			return err_set(err, (e == EACCES || e == EPERM || e == EROFS) ? ERR_PERM : ERR_IO,
				       "cannot create local store directory %s: %s", buf, strerror(e));
		}
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

/* Makes sure path is a regular file we may write, mode 0600, creating it when missing. */
static int ls_prepare_file(const char *path, struct err_ctx *err)
{
	struct stat sb;
	char *dir = NULL;
	int fd = -1, rc;

	if ((dir = ls_dirname(path)) == NULL)
		return ERR_NOMEM;
	if ((rc = ls_mkdirs(dir, err)) != 0)
		goto out;
	if (lstat(path, &sb) == 0) {
		if (S_ISLNK(sb.st_mode)) {
			rc = err_set(err, ERR_PERM, "local store %s is a symlink; refusing it", path);
			goto out;
		}
		if (!S_ISREG(sb.st_mode)) {
			rc = err_set(err, ERR_INVAL, "local store %s is not a regular file", path);
			goto out;
		}
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;

			rc = err_set(err, (e == EACCES || e == EPERM || e == EROFS) ? ERR_PERM : ERR_IO,
				     "local store %s is not writable: %s", path, strerror(e));
			goto out;
		}
		if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0 && sb.st_uid == geteuid())
			(void)fchmod(fd, 0600);
	} else if (errno == ENOENT) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			int e = errno;

			rc = err_set(err, (e == EACCES || e == EPERM || e == EROFS) ? ERR_PERM : ERR_IO,
				     "cannot create local store %s: %s", path, strerror(e));
			goto out;
		}
		if (fchmod(fd, 0600) != 0) {
			rc = err_set(err, ERR_IO, "cannot set mode 0600 on local store %s: %s", path,
				     strerror(errno));
			goto out;
		}
	} else {
		rc = err_set(err, ERR_IO, "cannot stat local store %s: %s", path, strerror(errno));
		goto out;
	}
	/* SQLite creates its rollback journal next to the file. */
	if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) != 0) {
		rc = err_set(err, ERR_PERM,
			     "directory %s of local store %s is not writable (the journal lives there)",
			     dir, path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* Connection settings shared by every open. */
static int ls_configure(struct local_store *st, bool readonly, struct err_ctx *err)
{
	int rc;

	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, LOCAL_STORE_BUSY_TIMEOUT_MS);
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	if ((rc = ls_exec(st, "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;", err)) != 0)
		return rc;
	if (!readonly && !st->memory &&
	    (rc = ls_exec(st, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;", err)) != 0)
		return rc;
	return 0;
}

/* PRAGMA user_version, and whether the database holds any table. */
static int ls_schema_state(struct local_store *st, int *version, bool *has_tables,
			   struct err_ctx *err)
{
	sqlite3_stmt *s = NULL;
	int rc, v, t;

	rc = sqlite3_prepare_v2(st->db, "SELECT (SELECT user_version FROM pragma_user_version), "
					"(SELECT count(*) FROM sqlite_master WHERE type='table')",
				-1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = ls_err(st->path, rc, "reading the schema version", err);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = ls_err(st->path, rc, "reading the schema version", err);
		goto out;
	}
	v = sqlite3_column_int(s, 0);
	t = sqlite3_column_int(s, 1);
	*version = v;
	*has_tables = t > 0;
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Checks the schema; creates it on an empty writable store. *empty = no schema (read-only
 * opens only). */
static int ls_ensure_schema(struct local_store *st, bool readonly, bool *empty,
			    struct err_ctx *err)
{
	bool tables = false;
	int rc, v = 0;

	*empty = false;
	if ((rc = ls_schema_state(st, &v, &tables, err)) != 0)
		return rc;
	if (v > LOCAL_STORE_SCHEMA_VERSION)
		return err_set(err, ERR_UNSUPPORTED,
			       "local store %s has schema version %d; this smc knows %d", st->path, v,
			       LOCAL_STORE_SCHEMA_VERSION);
	if (v == LOCAL_STORE_SCHEMA_VERSION)
		return 0;
	if (tables)
		return err_set(err, ERR_INVAL, "%s is an SQLite database but not an smc store",
			       st->path);
	if (readonly) {
		*empty = true;
		return 0;
	}
	if ((rc = ls_exec(st, "BEGIN IMMEDIATE", err)) != 0)
		return rc;
	/* re-check under the write lock: another smc may have created it meanwhile */
	if ((rc = ls_schema_state(st, &v, &tables, err)) != 0)
		goto fail;
	if (v == 0 && !tables && (rc = ls_exec(st, ls_schema, err)) != 0)
		goto fail;
	if ((rc = ls_exec(st, "COMMIT", err)) != 0)
		goto fail;
	return 0;
fail:
	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void ls_close_db(struct local_store *st)
{
	for (int i = 0; i < LS_NSTMT; i++) {
		sqlite3_finalize(st->stmt[i]);
		st->stmt[i] = NULL;
	}
	sqlite3_close_v2(st->db);
	st->db = NULL;
}

static int ls_open_db(struct local_store *st, const char *file, int flags, struct err_ctx *err)
{
	int rc = sqlite3_open_v2(file, &st->db, flags | SQLITE_OPEN_NOFOLLOW, NULL);

	if (rc != SQLITE_OK) {
		rc = ls_err(st->path, rc, "opening", err);
		ls_close_db(st);
		return rc;
	}
	return 0;
}

static void ls_close(void *state)
{
	struct local_store *st = state;

	if (st == NULL)
		return;
	if (st->db != NULL && st->in_tx)
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	ls_close_db(st);
	free(st->path);
	free(st);
}

/* Opens for reading only: a missing file is ERR_NOTFOUND, a symlink is refused. */
static int ls_open_readonly(struct local_store *st, bool *empty, struct err_ctx *err)
{
	struct stat sb;
	int rc;

	if (lstat(st->path, &sb) != 0) {
		if (errno == ENOENT)
			return err_set(err, ERR_NOTFOUND, "no local store at %s", st->path);
		return err_set(err, errno == EACCES ? ERR_PERM : ERR_IO, "cannot stat local store %s: %s",
			       st->path, strerror(errno));
	}
	if (S_ISLNK(sb.st_mode))
		return err_set(err, ERR_PERM, "local store %s is a symlink; refusing it", st->path);
	if (!S_ISREG(sb.st_mode))
		return err_set(err, ERR_INVAL, "local store %s is not a regular file", st->path);
	if ((rc = ls_open_db(st, st->path, SQLITE_OPEN_READONLY, err)) != 0)
		return rc;
	if ((rc = ls_configure(st, true, err)) != 0)
		return rc;
	return ls_ensure_schema(st, true, empty, err);
}

static int ls_open(const struct job *job, const struct msg_credentials *creds, void **state,
		   struct err_ctx *err)
{
	struct local_store *st = xcalloc(1, sizeof(*st));
	bool empty = false;
	int rc;

	(void)creds; /* the embedded store needs none */
	if (st == NULL)
		return ERR_NOMEM;
	st->dry = job->policy.dry_run;
	if ((rc = ls_resolve_path(job->provider.store_path, &st->path, err)) != 0)
		goto out;
	if (st->dry) {
		rc = ls_open_readonly(st, &empty, err);
		if (rc == ERR_NOTFOUND || (rc == 0 && empty)) {
			/* nothing stored yet: plan against an empty store, create no file */
			ls_close_db(st);
			st->memory = true;
			if ((rc = ls_open_db(st, ":memory:",
					     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err)) != 0)
				goto out;
			if ((rc = ls_configure(st, false, err)) != 0)
				goto out;
			rc = ls_ensure_schema(st, false, &empty, err);
		}
		if (rc != 0)
			goto out;
	} else {
		if ((rc = ls_prepare_file(st->path, err)) != 0)
			goto out;
		if ((rc = ls_open_db(st, st->path, SQLITE_OPEN_READWRITE, err)) != 0)
			goto out;
		if (sqlite3_db_readonly(st->db, "main") == 1) {
			rc = err_set(err, ERR_PERM, "local store %s is read-only", st->path);
			goto out;
		}
		if ((rc = ls_configure(st, false, err)) != 0)
			goto out;
		if ((rc = ls_ensure_schema(st, false, &empty, err)) != 0)
			goto out;
	}
	*state = st;
	st = NULL;
	rc = 0;
out:
	ls_close(st);
	return rc;
}

static int ls_begin(void *state, struct err_ctx *err)
{
	struct local_store *st = state;
	int rc;

	if (st->in_tx)
		return err_set(err, ERR_INVAL, "local store %s: a job is already open", st->path);
	rc = ls_exec(st, st->dry ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE", err);
	if (rc == 0)
		st->in_tx = true;
	return rc;
}

static int ls_commit(void *state, struct err_ctx *err)
{
	struct local_store *st = state;
	int rc;

	if (!st->in_tx)
		return err_set(err, ERR_INVAL, "local store %s: no job is open", st->path);
	/* a dry run has written nothing; ending the read transaction is all there is */
	rc = ls_exec(st, st->dry ? "ROLLBACK" : "COMMIT", err);
	if (rc != 0) {
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->in_tx = false;
		return rc;
	}
	st->in_tx = false;
	return 0;
}

static void ls_rollback(void *state)
{
	struct local_store *st = state;

	if (st == NULL || !st->in_tx)
		return;
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
}

/* ---- one item ---- */

struct ls_object {
	int64_t id;
	bool marked;       /* managed-by mark present */
	bool ours;         /* owner = this config */
	bool enabled;
	char state[16];    /* enabled | disabled | deleted */
	char other[160];   /* the other owner, for the refusal reason */
};

/* Looks the object up; 1 found, 0 absent, < 0 error. */
static int ls_find(struct local_store *st, const char *kind, const char *name, const char *owner,
		   struct ls_object *o, struct err_ctx *err)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mb, *ow, *state;
	int rc;

	if ((rc = ls_stmt(st, LS_FIND, &s, err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = ls_err(st->path, rc, "looking up an object", err);
		goto out;
	}
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(s, 0);
	mb = sqlite3_column_text(s, 1);
	ow = sqlite3_column_text(s, 2);
	state = sqlite3_column_text(s, 3);
	o->marked = mb != NULL && strcmp((const char *)mb, PROVIDER_MANAGED_BY_VALUE) == 0;
	o->ours = ow != NULL && strcmp((const char *)ow, owner) == 0;
	o->enabled = state != NULL && strcmp((const char *)state, "enabled") == 0;
	(void)str_copy(o->state, sizeof(o->state), state != NULL ? (const char *)state : "");
	(void)str_copy(o->other, sizeof(o->other), ow != NULL ? (const char *)ow : "(none)");
	rc = 1;
out:
	ls_done(s);
	return rc;
}

struct ls_latest {
	bool present;
	int64_t version;
	bool drifted;     /* not written by smc as it is now */
	struct secbuf *value;
};

/* The latest enabled version of object id, its value copied into a secbuf at once. */
static int ls_latest(struct local_store *st, int64_t id, struct ls_latest *l, struct err_ctx *err)
{
	sqlite3_stmt *s = NULL;
	const void *blob, *dg;
	const unsigned char *wb;
	uint8_t md[LS_DIGEST_LEN];
	int rc, n, ndg;

	memset(l, 0, sizeof(*l));
	if ((rc = ls_stmt(st, LS_LATEST, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = ls_err(st->path, rc, "reading the latest version", err);
		goto out;
	}
	l->present = true;
	l->version = sqlite3_column_int64(s, 0);
	blob = sqlite3_column_blob(s, 1);
	n = sqlite3_column_bytes(s, 1);
	wb = sqlite3_column_text(s, 2);
	dg = sqlite3_column_blob(s, 3);
	ndg = sqlite3_column_bytes(s, 3);
	if (n < 0 || (size_t)n > LOCAL_STORE_MAX_VALUE) {
		/* larger than anything smc writes: it cannot equal the desired value */
		l->drifted = true;
		rc = 0;
		goto out;
	}
	if ((rc = secbuf_from(&l->value, blob != NULL ? blob : "", (size_t)n)) != 0)
		goto out;
	l->drifted = wb == NULL || strcmp((const char *)wb, "smc") != 0 || dg == NULL ||
		     ndg != LS_DIGEST_LEN;
	if (!l->drifted) {
		if ((rc = ls_digest(l->value, md)) != 0)
			goto out;
		l->drifted = CRYPTO_memcmp(md, dg, LS_DIGEST_LEN) != 0;
		OPENSSL_cleanse(md, sizeof(md));
	}
	rc = 0;
out:
	ls_done(s);
	if (rc != 0) {
		secbuf_free(l->value);
		l->value = NULL;
	}
	return rc;
}

static int ls_max_version(struct local_store *st, int64_t id, int64_t *out, struct err_ctx *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = ls_stmt(st, LS_MAXVER, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = ls_err(st->path, rc, "reading the version count", err);
		goto out;
	}
	*out = sqlite3_column_int64(s, 0);
	rc = 0;
out:
	ls_done(s);
	return rc;
}

static int ls_insert_version(struct local_store *st, int64_t id, int64_t version,
			     const struct secbuf *value, struct err_ctx *err)
{
	uint8_t md[LS_DIGEST_LEN];
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = ls_digest(value, md)) != 0)
		return err_set(err, rc, "local store %s: cannot hash a value", st->path);
	if ((rc = ls_stmt(st, LS_INSERT_VER, &s, err)) != 0)
		goto out_md;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, version);
	if (value->len == 0)
		sqlite3_bind_zeroblob(s, 3, 0);
	else
		sqlite3_bind_blob(s, 3, value->data, (int)value->len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
	sqlite3_bind_blob(s, 5, md, LS_DIGEST_LEN, SQLITE_STATIC);
	rc = ls_step_done(st, s, "writing a version", err);
out_md:
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

static int ls_set_state(struct local_store *st, int64_t id, const char *state,
			struct err_ctx *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = ls_stmt(st, LS_SET_STATE, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	return ls_step_done(st, s, "changing an object's state", err);
}

static int ls_set_marks(struct local_store *st, int64_t id, const char *owner,
			struct err_ctx *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = ls_stmt(st, LS_SET_MARKS, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, PROVIDER_MANAGED_BY_VALUE, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
	return ls_step_done(st, s, "setting ownership marks", err);
}

static int ls_create(struct local_store *st, const char *kind, const struct desired *it,
		     const char *owner, struct err_ctx *err)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int rc;

	if ((rc = ls_stmt(st, LS_INSERT_OBJ, &s, err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, it->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, PROVIDER_MANAGED_BY_VALUE, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (int64_t)time(NULL));
	rc = ls_step_done(st, s, "creating an object", err);
	if (rc != 0)
		return rc;
	id = sqlite3_last_insert_rowid(st->db);
	return ls_insert_version(st, id, 1, it->value, err);
}

/* Decides and (unless dry) applies one item. *outcome and reason are set on success. */
static int ls_apply(struct local_store *st, const struct job *job, const char *owner,
		    const char *kind, const struct desired *it, enum item_outcome *outcome,
		    char *reason, size_t rsize, struct err_ctx *err)
{
	struct ls_object o;
	struct ls_latest l = {0};
	bool adopt = false, revive, deleted, write;
	int64_t next = 0;
	int rc;

	reason[0] = '\0';
	if (it->value->len > LOCAL_STORE_MAX_VALUE)
		return err_set(err, ERR_TOOBIG, "value of %s is larger than %zu bytes", it->name,
			       LOCAL_STORE_MAX_VALUE);
	rc = ls_find(st, kind, it->name, owner, &o, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (!st->dry && (rc = ls_create(st, kind, it, owner, err)) != 0)
			return rc;
		*outcome = ITEM_WRITTEN;
		(void)str_copy(reason, rsize, "created");
		return 0;
	}
	if (!o.marked) {
		if (!job->policy.adopt_existing) {
			*outcome = ITEM_REFUSED;
			(void)str_fmt(reason, rsize,
				      "exists without %s=%s (adoptExisting is off)",
				      PROVIDER_MANAGED_BY_KEY, PROVIDER_MANAGED_BY_VALUE);
			return 0;
		}
		adopt = true;
	} else if (!o.ours) {
		*outcome = ITEM_REFUSED;
		(void)str_fmt(reason, rsize, "owned by %s", o.other);
		return 0;
	}
	revive = !o.enabled;
	deleted = strcmp(o.state, "deleted") == 0;
	if (!revive && !job->policy.trigger_update) {
		*outcome = ITEM_UNCHANGED;
		(void)str_copy(reason, rsize, "triggerUpdate=false");
		return 0;
	}
	if ((rc = ls_latest(st, o.id, &l, err)) != 0)
		return rc;
	/* a deleted object comes back as a fresh version, like a re-created cloud secret */
	write = deleted || !l.present || l.value == NULL || !secbuf_eq(it->value, l.value);
	if (write && (rc = ls_max_version(st, o.id, &next, err)) != 0)
		goto out;
	next++;
	if (!st->dry) {
		if (adopt && (rc = ls_set_marks(st, o.id, owner, err)) != 0)
			goto out;
		if (revive && (rc = ls_set_state(st, o.id, "enabled", err)) != 0)
			goto out;
		if (write && (rc = ls_insert_version(st, o.id, next, it->value, err)) != 0)
			goto out;
	}
	if (write) {
		*outcome = ITEM_WRITTEN;
		(void)str_fmt(reason, rsize, "%s%s%s version %lld", adopt ? "adopted, " : "",
			      revive ? "re-enabled, " : "",
			      (!deleted && (!l.present || l.drifted)) ? "drift corrected:" : "new",
			      (long long)next);
	} else if (adopt || revive) {
		*outcome = ITEM_WRITTEN;
		(void)str_fmt(reason, rsize, "%s%s", adopt ? "adopted" : "",
			      revive ? (adopt ? ", re-enabled" : "re-enabled") : "");
	} else {
		*outcome = ITEM_UNCHANGED;
	}
	rc = 0;
out:
	secbuf_free(l.value);
	return rc;
}

/* Errors that concern one item; the others leave the store unusable for this job. */
static bool ls_item_error(struct local_store *st, int rc)
{
	if (rc != ERR_CONFLICT && rc != ERR_TOOBIG && rc != ERR_INVAL && rc != ERR_CRYPTO)
		return false;
	/* SQLite may have rolled the whole transaction back on its own */
	return st->dry || !sqlite3_get_autocommit(st->db);
}

static int ls_sync_item(struct local_store *st, const struct job *job, const char *owner,
			enum item_kind kind, const struct desired *it, struct report *rep,
			struct err_ctx *err)
{
	char reason[LS_REASON_MAX];
	enum item_outcome outcome = ITEM_FAILED;
	struct err_ctx ierr = {{0}};
	int rc;

	if (!st->dry && (rc = ls_exec(st, "SAVEPOINT ls_item", err)) != 0)
		return rc;
	rc = ls_apply(st, job, owner, ls_kind_str(kind), it, &outcome, reason, sizeof(reason),
		      &ierr);
	if (rc == 0) {
		if (!st->dry && (rc = ls_exec(st, "RELEASE ls_item", err)) != 0)
			return rc;
		return report_add(rep, it->name, it->key, kind, outcome,
				  reason[0] != '\0' ? reason : NULL);
	}
	if (!st->dry && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK TO ls_item; RELEASE ls_item", NULL, NULL, NULL);
	if (!ls_item_error(st, rc)) {
		if (err != NULL)
			*err = ierr;
		return rc;
	}
	return report_add(rep, it->name, it->key, kind, ITEM_FAILED, ierr.msg);
}

/* ---- pruning ---- */

struct ls_owned {
	int64_t id;
	char *name;
};

static int ls_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void ls_owned_free(struct ls_owned *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(o[i].name);
	free(o);
}

/* Enabled objects of kind owned by owner. Owned out-parameters. */
static int ls_list_owned(struct local_store *st, const char *kind, const char *owner,
			 struct ls_owned **out, size_t *nout, struct err_ctx *err)
{
	struct ls_owned *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = ls_stmt(st, LS_OWNED, &s, err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, PROVIDER_MANAGED_BY_VALUE, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, owner, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 1);
		void *room = NULL;

		if ((rc = ls_room(st, v, sizeof(*v), n, &cap, &room, err)) != 0)
			goto out;
		v = room;
		v[n].id = sqlite3_column_int64(s, 0);
		v[n].name = xstrdup(name != NULL ? (const char *)name : "");
		if (v[n].name == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		rc = ls_err(st->path, rc, "listing owned objects", err);
		goto out;
	}
	*out = v;
	*nout = n;
	v = NULL;
	n = 0;
	rc = 0;
out:
	ls_done(s);
	ls_owned_free(v, n);
	return rc;
}

static int ls_prune(struct local_store *st, const struct job *job, const char *owner,
		    enum item_kind kind, const struct desired *items, size_t n, struct report *rep,
		    struct err_ctx *err)
{
	struct ls_owned *owned = NULL;
	const char **names = NULL;
	size_t nowned = 0, i;
	int rc;

	if ((rc = ls_list_owned(st, ls_kind_str(kind), owner, &owned, &nowned, err)) != 0)
		return rc;
	if (nowned == 0)
		goto out;
	if ((names = xcalloc(n ? n : 1, sizeof(*names))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		names[i] = items[i].name;
	qsort(names, n, sizeof(*names), ls_cmp_str);
	for (i = 0; i < nowned; i++) {
		const char *key = owned[i].name;
		enum item_outcome outcome = ITEM_RETAINED;
		const char *reason, *state = NULL;

		if (n > 0 && bsearch(&key, names, n, sizeof(*names), ls_cmp_str) != NULL)
			continue;
		if (!job->policy.prune) {
			reason = "prune=false";
		} else if (job->policy.deletion == JOB_DELETION_DISABLE) {
			outcome = ITEM_PRUNED;
			state = "disabled";
			reason = "disabled";
		} else if (job->policy.deletion == JOB_DELETION_DELETE) {
			outcome = ITEM_PRUNED;
			state = "deleted";
			reason = "deleted";
		} else {
			reason = "deletionPolicy=Retain";
		}
		if (state != NULL && !st->dry && (rc = ls_set_state(st, owned[i].id, state, err)) != 0)
			goto out;
		if ((rc = report_add(rep, owned[i].name, NULL, kind, outcome, reason)) != 0)
			goto out;
	}
	rc = 0;
out:
	free(names);
	ls_owned_free(owned, nowned);
	return rc;
}

static int ls_sync(void *state, const struct job *job, enum item_kind kind,
		   const struct desired *items, size_t n, struct report *rep, struct err_ctx *err)
{
	struct local_store *st = state;
	char *owner = NULL;
	int rc;

	if (!st->in_tx)
		return err_set(err, ERR_INVAL, "local store %s: sync outside a job", st->path);
	if (kind != ITEM_SECRET && kind != ITEM_CONFIG)
		return err_set(err, ERR_INVAL, "local store: unknown item kind %d", (int)kind);
	if (job->policy.deletion > JOB_DELETION_DELETE)
		return err_set(err, ERR_INVAL, "unknown deletion policy %u", job->policy.deletion);
	if ((owner = provider_owner(job)) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((rc = ls_sync_item(st, job, owner, kind, &items[i], rep, err)) != 0)
			goto out;
	}
	rc = ls_prune(st, job, owner, kind, items, n, rep, err);
out:
	free(owner);
	return rc;
}

const struct provider_ops local_store_ops = {
	.kind = "local",
	.transactional = true,
	.open = ls_open,
	.begin = ls_begin,
	.sync = ls_sync,
	.commit = ls_commit,
	.rollback = ls_rollback,
	.close = ls_close,
};

/* ---- read API ---- */

static int ls_open_reader(const char *path, struct local_store **out, bool *empty,
			  struct err_ctx *err)
{
	struct local_store *st = xcalloc(1, sizeof(*st));
	int rc;

	if (st == NULL)
		return ERR_NOMEM;
	st->dry = true;
	if ((rc = ls_resolve_path(path, &st->path, err)) != 0)
		goto out;
	if ((rc = ls_open_readonly(st, empty, err)) != 0)
		goto out;
	*out = st;
	st = NULL;
out:
	ls_close(st);
	return rc;
}

int local_store_get(const char *path, const char *kind, const char *name, int64_t version,
		    struct secbuf **value, int64_t *version_out, struct err_ctx *err)
{
	struct local_store *st = NULL;
	sqlite3_stmt *s = NULL;
	struct secbuf *v = NULL;
	const unsigned char *state;
	const void *blob;
	bool empty = false;
	int64_t got;
	int rc, n;

	if (kind == NULL || name == NULL || version < 0 ||
	    (strcmp(kind, "secret") != 0 && strcmp(kind, "config") != 0))
		return err_set(err, ERR_INVAL, "local store: kind must be secret or config");
	if ((rc = ls_open_reader(path, &st, &empty, err)) != 0)
		return rc;
	if (empty) {
		rc = err_set(err, ERR_NOTFOUND, "no %s named %s in local store %s", kind, name,
			     st->path);
		goto out;
	}
	if ((rc = ls_exec(st, "BEGIN", err)) != 0)
		goto out;
	rc = sqlite3_prepare_v2(st->db,
				"SELECT o.state, v.version, v.value FROM objects o LEFT JOIN versions v "
				"ON v.object_id = o.id AND v.state = 'enabled' "
				"AND (?3 = 0 OR v.version = ?3) "
				"WHERE o.kind = ?1 AND o.name = ?2 ORDER BY v.version DESC LIMIT 1",
				-1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = ls_err(st->path, rc, "preparing a query", err);
		goto out;
	}
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, version);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = err_set(err, ERR_NOTFOUND, "no %s named %s in local store %s", kind, name,
			     st->path);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = ls_err(st->path, rc, "reading a value", err);
		goto out;
	}
	state = sqlite3_column_text(s, 0);
	if (state == NULL || strcmp((const char *)state, "enabled") != 0) {
		rc = err_set(err, ERR_NOTFOUND, "%s %s is %s in local store %s", kind, name,
			     state ? (const char *)state : "?", st->path);
		goto out;
	}
	if (sqlite3_column_type(s, 1) == SQLITE_NULL) {
		if (version == 0)
			rc = err_set(err, ERR_NOTFOUND, "%s %s has no enabled version", kind, name);
		else
			rc = err_set(err, ERR_NOTFOUND, "%s %s has no enabled version %lld", kind,
				     name, (long long)version);
		goto out;
	}
	got = sqlite3_column_int64(s, 1);
	blob = sqlite3_column_blob(s, 2);
	n = sqlite3_column_bytes(s, 2);
	if (n < 0 || (size_t)n > LOCAL_STORE_MAX_VALUE) {
		rc = err_set(err, ERR_TOOBIG, "%s %s: value larger than %zu bytes", kind, name,
			     LOCAL_STORE_MAX_VALUE);
		goto out;
	}
	if ((rc = secbuf_from(&v, blob != NULL ? blob : "", (size_t)n)) != 0)
		goto out;
	*value = v;
	v = NULL;
	if (version_out != NULL)
		*version_out = got;
	rc = 0;
out:
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_finalize(s);
	}
	if (st != NULL && st->db != NULL && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	secbuf_free(v);
	ls_close(st);
	return rc;
}

void local_store_entries_free(struct local_store_entry *e, size_t n)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(e[i].kind);
		free(e[i].name);
		free(e[i].state);
		free(e[i].owner);
		free(e[i].managed_by);
	}
	free(e);
}

static char *ls_col_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

int local_store_list(const char *path, const char *kind, struct local_store_entry **out,
		     size_t *nout, struct err_ctx *err)
{
	struct local_store *st = NULL;
	struct local_store_entry *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s = NULL;
	bool empty = false;
	int rc;

	if ((rc = ls_open_reader(path, &st, &empty, err)) != 0)
		return rc;
	if (empty)
		goto done;
	rc = sqlite3_prepare_v2(
		st->db,
		"SELECT o.kind, o.name, o.state, o.owner, o.managed_by, "
		"(SELECT coalesce(max(version), 0) FROM versions v WHERE v.object_id = o.id "
		"AND v.state = 'enabled'), "
		"(SELECT count(*) FROM versions v WHERE v.object_id = o.id), "
		"o.created_at, o.updated_at FROM objects o WHERE ?1 IS NULL OR o.kind = ?1 "
		"ORDER BY o.kind, o.name",
		-1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = ls_err(st->path, rc, "preparing a query", err);
		goto out;
	}
	if (kind != NULL)
		sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct local_store_entry *e;
		void *room = NULL;

		if ((rc = ls_room(st, v, sizeof(*v), n, &cap, &room, err)) != 0)
			goto out;
		v = room;
		e = &v[n];
		memset(e, 0, sizeof(*e));
		n++;
		e->kind = ls_col_dup(s, 0);
		e->name = ls_col_dup(s, 1);
		e->state = ls_col_dup(s, 2);
		e->owner = ls_col_dup(s, 3);
		e->managed_by = ls_col_dup(s, 4);
		e->latest_version = sqlite3_column_int64(s, 5);
		e->versions = sqlite3_column_int64(s, 6);
		e->created_at = sqlite3_column_int64(s, 7);
		e->updated_at = sqlite3_column_int64(s, 8);
		if (e->kind == NULL || e->name == NULL || e->state == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = ls_err(st->path, rc, "listing objects", err);
		goto out;
	}
done:
	*out = v;
	*nout = n;
	v = NULL;
	n = 0;
	rc = 0;
out:
	sqlite3_finalize(s);
	local_store_entries_free(v, n);
	ls_close(st);
	return rc;
}
