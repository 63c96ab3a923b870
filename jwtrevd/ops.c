/*
 * ops.c - the requests of jwtrevd's protocol (jwtrevd(8)) and who may
 * make them: status for everyone; revoke-token and revoke-subject, for a
 * token the peer hands over, for writers and admins; put, remove,
 * compact, purge and load for admins only.  Every write is logged with
 * the peer's uid and the entry's identity, never a token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jwtrevd.h"

/* A writer's "log out everywhere" may cover tokens up to this far past
 * the daemon's clock (the module asks for now + 1). */
#define WRITER_BEFORE_SKEW 5
/* The longest leeway a writer may add to a token's exp. */
#define WRITER_LEEWAY_MAX 86400
/* Entries one load request carries at most. */
#define LOAD_CHUNK_MAX 100000

static json_t *
reply_err(int code, const char *text)
{
    return json_pack("{s:b, s:s, s:s}", "ok", 0, "code", jwtrev_reason(-code),
                     "error", text);
}

static json_t *
reply_fail(int rc, const jwtrev_error *err)
{
    return reply_err(-rc, err->detail[0] ? err->detail : jwtrev_reason(rc));
}

static json_t *
denied(const jd_peer *p, const char *op, const char *why)
{
    char text[256];

    snprintf(text, sizeof(text), "%s refused for uid %ld (%s): %s", op,
             (long)p->uid, jd_role_name(p->role), why);
    jd_log(LOG_WARNING, "%s", text);
    return reply_err(JWTREV_ERR_CONFIG_ERROR, text);
}

/* The entry's identity as compact JSON, for the log. */
static void
log_write(const jd_peer *p, const char *op, const jwtrev_entry *e,
          const char *extra)
{
    jwtrev_entry id = *e;
    json_t *o;
    char *s;

    id.reason_len = 0;
    o = jwtrev_entry_to_json(&id);
    json_object_del(o, "reason");
    json_object_del(o, "revoked_at");
    s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    jd_log(LOG_INFO, "uid %ld (%s) %s: %s%s", (long)p->uid,
           jd_role_name(p->role), op, s != NULL ? s : "?",
           extra != NULL ? extra : "");
    free(s);
    json_decref(o);
}

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

static const char *
str_member(json_t *req, const char *name)
{
    json_t *v = json_object_get(req, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An integer member, or def when absent; -1 in *bad when of a bad type. */
static int64_t
int_member(json_t *req, const char *name, int64_t def, int *bad)
{
    json_t *v = json_object_get(req, name);

    if (v == NULL)
        return def;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        *bad = 1;
        return def;
    }
    return json_integer_value(v);
}

/* The token the peer hands over, read as the admin tool reads one. */
static int
read_token(json_t *req, jwtrev_token *t, jwtrev_error *err)
{
    json_t *v = json_object_get(req, "token");

    if (!json_is_string(v))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "the request has no token");
    return jwtrev_token_parse_unverified(json_string_value(v),
                                         json_string_length(v), t, err);
}

/* ---- the writes: prepared one by one, committed in groups ---------------- */

void
jd_write_clear(jd_write *w)
{
    jwtrev_token_clear(&w->tok);
    json_decref(w->req);
    memset(w, 0, sizeof(*w));
}

/* revoke-token: the entry read from the token the peer hands over. */
static json_t *
prep_revoke_token(const jd_peer *p, json_t *req, jd_write *w)
{
    const char *reason = str_member(req, "reason");
    jwtrev_error err;
    int bad = 0, rc;
    int64_t leeway = int_member(req, "leeway", JWTREV_DEFAULT_LEEWAY, &bad);
    int64_t at = int_member(req, "revoked_at", now_s(), &bad);

    if (bad || (p->role != JD_ADMIN && leeway > WRITER_LEEWAY_MAX))
        return reply_err(JWTREV_ERR_CONFIG_ERROR,
                         "leeway must be whole seconds, at most 86400 for "
                         "a writer");
    jwtrev_error_clear(&err);
    rc = read_token(req, &w->tok, &err);
    if (rc != 0)
        return reply_fail(rc, &err);
    /* An admin's tool may say when (jwtrev's $JWTREV_NOW); a writer's
     * revocation is dated by the daemon's clock. */
    jwtrev_entry_for_token(&w->tok, leeway, p->role == JD_ADMIN ? at : now_s(),
                           reason ? reason : "logout", &w->ch.e);
    return NULL;
}

/* revoke-subject: (iss, sub) of the token the peer hands over. */
static json_t *
prep_revoke_subject(const jd_peer *p, json_t *req, jd_write *w)
{
    const char *reason = str_member(req, "reason");
    int64_t now = now_s();
    jwtrev_error err;
    jwtrev_entry *e = &w->ch.e;
    int bad = 0, rc;
    int64_t before = int_member(req, "before", now + 1, &bad);
    int64_t until = int_member(req, "until", 0, &bad);

    if (bad)
        return reply_err(JWTREV_ERR_CONFIG_ERROR,
                         "before and until must be Unix times");
    if (p->role != JD_ADMIN && before > now + WRITER_BEFORE_SKEW)
        return denied(p, "revoke-subject",
                      "a writer's logout covers tokens issued up to now");
    jwtrev_error_clear(&err);
    rc = read_token(req, &w->tok, &err);
    if (rc == 0 && w->tok.sub == NULL)
        rc = jwtrev_fail(&err, JWTREV_ERR_MISSING_CLAIM,
                         "the token has no sub to log out");
    if (rc != 0)
        return reply_fail(rc, &err);
    e->kind = JWTREV_ENTRY_SUBJECT;
    e->iss = w->tok.iss != NULL ? w->tok.iss : "";
    e->iss_len = strlen(e->iss);
    e->id = (const unsigned char *)w->tok.sub;
    e->id_len = strlen(w->tok.sub);
    e->revoked_at = now;
    e->until = until;
    e->not_before = before;
    e->reason = reason != NULL ? reason : "logout-all";
    e->reason_len = strlen(e->reason);
    return NULL;
}

/* put, remove: the entry as the request states it (admins). */
static json_t *
prep_entry(json_t *req, jd_write *w)
{
    json_t *o = json_object_get(req, "entry");
    const char *why = "the request has no entry object";
    char text[256];

    if (json_is_object(o) &&
        jwtrev_entry_from_json(o, now_s(), w->hash, &w->ch.e, &why) == 0)
        return NULL;
    snprintf(text, sizeof(text), "entry: %s", why);
    return reply_err(JWTREV_ERR_CONFIG_ERROR, text);
}

json_t *
jd_prepare(jd *d, const jd_peer *p, json_t *req, jd_write *w)
{
    const char *op = json_is_object(req) ? str_member(req, "op") : NULL;
    jwtrev_error err;
    json_t *reply;
    int bad = 0;

    memset(w, 0, sizeof(*w));
    w->peer = p;
    w->op = op;
    w->req = json_incref(req); /* the entry may borrow its strings */
    w->wait_fleet_ms =
        int_member(req, "wait_fleet", 0, &bad) * 1000; /* seconds */
    if (bad)
        reply = reply_err(JWTREV_ERR_CONFIG_ERROR,
                          "wait_fleet must be whole seconds");
    else if (strcmp(op, "revoke-token") == 0)
        reply = prep_revoke_token(p, req, w);
    else if (strcmp(op, "revoke-subject") == 0)
        reply = prep_revoke_subject(p, req, w);
    else
        reply = prep_entry(req, w);
    w->ch.remove = strcmp(op, "remove") == 0;
    jwtrev_error_clear(&err);
    /* Refused here, the entry never reaches the group it would fail. */
    if (reply == NULL && !w->ch.remove &&
        jwtrev_entry_check(&w->ch.e, &err) != 0)
        reply = reply_fail(-JWTREV_ERR_CONFIG_ERROR, &err);
    if (reply == NULL && w->ch.remove && d->conf.fleet != NULL)
        reply = reply_err(JWTREV_ERR_CONFIG_ERROR,
                          "in fleet mode an unrevoke is the fleet's: jwtrev "
                          "fleet unrevoke (the jwtrev_admin role) removes "
                          "it on every host");
    if (reply != NULL)
        jd_write_clear(w);
    return reply;
}

void
jd_commit(jd *d, jd_write **w, size_t n, json_t **replies)
{
    jwtrev_store_change ch[JD_GROUP_MAX];
    jwtrev_error err;
    size_t i;
    int rc;

    jwtrev_error_clear(&err);
    for (i = 0; i < n; i++)
        ch[i] = w[i]->ch;
    rc = jd_fleet_enqueue(d, w, n, &err);
    if (rc == 0)
        rc = jwtrev_store_apply(d->conf.db, ch, n, &err);
    for (i = 0; i < n; i++) {
        if (rc != 0) {
            jd_log(LOG_ERR, "uid %ld %s failed: %s", (long)w[i]->peer->uid,
                   w[i]->op, err.detail);
            replies[i] = reply_fail(rc, &err);
            continue;
        }
        __atomic_add_fetch(&d->writes, 1, __ATOMIC_RELAXED);
        log_write(w[i]->peer, w[i]->op, &w[i]->ch.e,
                  w[i]->ch.remove && !ch[i].removed ? " (there was none)"
                                                    : NULL);
        replies[i] =
            w[i]->ch.remove
                ? json_pack("{s:b, s:i}", "ok", 1, "removed", ch[i].removed)
                : json_pack("{s:b, s:o}", "ok", 1, "entry",
                            jwtrev_entry_to_json(&w[i]->ch.e));
    }
}

int
jd_is_write(json_t *req)
{
    const char *op = json_is_object(req) ? str_member(req, "op") : NULL;

    return op != NULL && (strcmp(op, "revoke-token") == 0 ||
                          strcmp(op, "revoke-subject") == 0 ||
                          strcmp(op, "put") == 0 || strcmp(op, "remove") == 0);
}

static json_t *
op_fold(jd *d, const jd_peer *p, json_t *req, int purge)
{
    jwtrev_error err;
    uint64_t dropped = 0;
    int bad = 0, rc;
    int64_t now = purge ? int_member(req, "now", now_s(), &bad) : 0;

    if (bad || (purge && now <= 0))
        return reply_err(JWTREV_ERR_CONFIG_ERROR, "now must be a Unix time");
    jwtrev_error_clear(&err);
    rc = jd_maint_fold(d, now, &dropped, &err);
    if (rc != 0)
        return reply_fail(rc, &err);
    jd_log(LOG_INFO, "uid %ld (%s) %s: done%s", (long)p->uid,
           jd_role_name(p->role), purge ? "purge" : "compact", "");
    return json_pack("{s:b, s:I}", "ok", 1, "dropped", (json_int_t)dropped);
}

/* load-add: {"entries": [...]}, collected per connection until commit. */
static json_t *
op_load_add(json_t *req, void **batch)
{
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    json_t *list = json_object_get(req, "entries"), *o;
    jwtrev_store_batch *b = *batch;
    const char *why;
    jwtrev_error err;
    jwtrev_entry e;
    char text[300];
    size_t i;

    if (!json_is_array(list) || json_array_size(list) > LOAD_CHUNK_MAX)
        return reply_err(JWTREV_ERR_CONFIG_ERROR,
                         "entries must be an array of at most 100000");
    if (b == NULL && jwtrev_store_batch_new(&b) != 0)
        return reply_err(JWTREV_ERR_INTERNAL, "out of memory");
    *batch = b;
    json_array_foreach(list, i, o)
    {
        if (!json_is_object(o) ||
            jwtrev_entry_from_json(o, now_s(), hash, &e, &why) != 0) {
            snprintf(text, sizeof(text), "entry %zu of this request: %s", i,
                     json_is_object(o) ? why : "not an object");
            return reply_err(JWTREV_ERR_CONFIG_ERROR, text);
        }
        if (jwtrev_store_batch_add(b, &e, jwtrev_store_batch_count(b) + 1,
                                   &err) != 0)
            return reply_err(JWTREV_ERR_CONFIG_ERROR, err.detail);
    }
    return json_pack("{s:b, s:I}", "ok", 1, "count",
                     (json_int_t)jwtrev_store_batch_count(b));
}

static json_t *
op_load_commit(jd *d, const jd_peer *p, void **batch)
{
    jwtrev_store_batch *b = *batch;
    jwtrev_error err;
    size_t n = b != NULL ? jwtrev_store_batch_count(b) : 0;
    int rc = 0;

    jwtrev_error_clear(&err);
    if (n > 0) {
        /* One new base: the fold's lock keeps a fold from racing it. */
        pthread_mutex_lock(&d->maint.fold_lock);
        rc = jwtrev_store_batch_commit(d->conf.db, b, NULL, &err);
        pthread_mutex_unlock(&d->maint.fold_lock);
    }
    jd_batch_free(b);
    *batch = NULL;
    if (rc != 0)
        return reply_fail(rc, &err);
    __atomic_add_fetch(&d->writes, n, __ATOMIC_RELAXED);
    jd_log(LOG_INFO, "uid %ld (%s) load: %zu entries", (long)p->uid,
           jd_role_name(p->role), n);
    return json_pack("{s:b, s:I}", "ok", 1, "loaded", (json_int_t)n);
}

static json_t *
op_status(jd *d)
{
    jwtrev_store_stats s;
    jwtrev_error err;
    jd_maint *m = &d->maint;
    json_t *r, *fold;
    int rc = jwtrev_store_stats_get(d->conf.db, &s, &err);

    pthread_mutex_lock(&m->lock);
    fold = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "state",
                     m->failing ? "failing" : "ok", "last_error", m->last_error,
                     "failing_since", (json_int_t)m->failing_since, "last",
                     (json_int_t)m->last_fold, "last_ms",
                     (json_int_t)m->last_fold_ms, "folds", (json_int_t)m->folds,
                     "failures", (json_int_t)m->fold_failures, "bound",
                     (json_int_t)d->conf.fold_at);
    pthread_mutex_unlock(&m->lock);
    r = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o}", "ok", 1,
                  "daemon", "jwtrevd", "version", PACKAGE_VERSION, "store",
                  d->conf.db, "pid", (json_int_t)getpid(), "started",
                  (json_int_t)d->started, "writes", (json_int_t)d->writes,
                  "refused", (json_int_t)d->refused, "fold", fold, "fleet",
                  jd_fleet_status(d));
    if (rc == 0)
        json_object_set_new(r, "stats",
                            json_pack("{s:I, s:I, s:I}", "entries",
                                      (json_int_t)s.entries[0], "recent",
                                      (json_int_t)s.recent, "generation",
                                      (json_int_t)s.generation));
    else
        json_object_set_new(r, "store_error", json_string(err.detail));
    return r;
}

int
jd_is_slow(json_t *req)
{
    const char *op = str_member(req, "op");

    return op != NULL &&
           (strcmp(op, "compact") == 0 || strcmp(op, "purge") == 0 ||
            strcmp(op, "load-commit") == 0);
}

void
jd_batch_free(void *batch)
{
    jwtrev_store_batch_free(batch);
}

/* The peer may read the store (root, its owner, its group). */
static int
may_read(jd *d, const jd_peer *p)
{
    struct stat st;
    size_t i;

    if (p->role != JD_NOBODY)
        return 1;
    if (stat(d->conf.db, &st) != 0)
        return 0;
    if (p->uid == st.st_uid)
        return 1;
    for (i = 0; (st.st_mode & S_IRGRP) && i < p->n_groups; i++) {
        if (p->groups[i] == st.st_gid)
            return 1;
    }
    return 0;
}

/*
 * snapshot {"id": HEX}: base.db's sealed snapshot, if it is of that base,
 * as the descriptor beside the reply ("_fd", taken off by the sender).
 */
static json_t *
op_snapshot(jd *d, const jd_peer *p, json_t *req)
{
    const char *want = str_member(req, "id");
    char hex[2 * JWTREV_STORE_SNAPSHOT_ID + 1];
    int fd = -1;

    if (!may_read(d, p))
        return denied(p, "snapshot", "may not read the store");
    pthread_mutex_lock(&d->snap_lock);
    if (d->snap_fd >= 0) {
        jwtrev_hex(d->snap_id, sizeof(d->snap_id), hex);
        if (want != NULL && strcmp(want, hex) == 0)
            fd = dup(d->snap_fd);
    }
    pthread_mutex_unlock(&d->snap_lock);
    if (fd < 0)
        return reply_err(JWTREV_ERR_DB_ERROR,
                         "no snapshot of that base (yet): read the file");
    return json_pack("{s:b, s:s, s:i}", "ok", 1, "id", want, "_fd", fd);
}

/*
 * refresh-keys {"files": [...]}: a module saw a kid none of these files
 * has.  Anyone may ask (it only brings a fetch forward, a minute apart
 * per set at most).
 */
static json_t *
op_refresh_keys(jd *d, json_t *req)
{
    json_t *files = json_object_get(req, "files"), *f;
    const char *list[64];
    size_t i, n = 0;

    if (!json_is_array(files))
        return reply_err(JWTREV_ERR_CONFIG_ERROR, "files must be an array");
    json_array_foreach(files, i, f)
    {
        if (json_is_string(f) && n < sizeof(list) / sizeof(list[0]))
            list[n++] = json_string_value(f);
    }
    jd_keys_ask(d, list, n);
    return json_pack("{s:b}", "ok", 1);
}

/* NULL when p may make req; else the refusal. */
json_t *
jd_authorize(jd *d, const jd_peer *p, json_t *req)
{
    const char *op = json_is_object(req) ? str_member(req, "op") : NULL;

    if (op == NULL) {
        __atomic_add_fetch(&d->bad_requests, 1, __ATOMIC_RELAXED);
        return reply_err(JWTREV_ERR_CONFIG_ERROR,
                         "a request is a JSON object with a string op");
    }
    if (strcmp(op, "status") == 0 || strcmp(op, "snapshot") == 0 ||
        strcmp(op, "refresh-keys") == 0)
        return NULL;
    if (strcmp(op, "revoke-token") == 0 || strcmp(op, "revoke-subject") == 0) {
        if (p->role == JD_WRITER || p->role == JD_ADMIN)
            return NULL;
        __atomic_add_fetch(&d->refused, 1, __ATOMIC_RELAXED);
        return denied(p, op,
                      "not a writer or admin (jwtrevd.conf writers=, admins=)");
    }
    if (strcmp(op, "put") == 0 || strcmp(op, "remove") == 0 ||
        strcmp(op, "compact") == 0 || strcmp(op, "purge") == 0 ||
        strcmp(op, "load-add") == 0 || strcmp(op, "load-commit") == 0) {
        if (p->role == JD_ADMIN)
            return NULL;
        __atomic_add_fetch(&d->refused, 1, __ATOMIC_RELAXED);
        return denied(p, op,
                      p->role == JD_WRITER
                          ? "writers may only revoke a token they hand "
                            "over, or its subject"
                          : "not an admin (jwtrevd.conf admins=)");
    }
    __atomic_add_fetch(&d->bad_requests, 1, __ATOMIC_RELAXED);
    return reply_err(JWTREV_ERR_CONFIG_ERROR, "unknown op");
}

/* A request that is neither a write nor refused. */
json_t *
jd_handle(jd *d, const jd_peer *p, json_t *req, void **batch)
{
    const char *op = str_member(req, "op");

    if (strcmp(op, "status") == 0)
        return op_status(d);
    if (strcmp(op, "snapshot") == 0)
        return op_snapshot(d, p, req);
    if (strcmp(op, "refresh-keys") == 0)
        return op_refresh_keys(d, req);
    if (strcmp(op, "load-add") == 0)
        return op_load_add(req, batch);
    if (strcmp(op, "load-commit") == 0)
        return op_load_commit(d, p, batch);
    return op_fold(d, p, req, op[0] == 'p');
}
