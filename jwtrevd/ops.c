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

static json_t *
put(jd *d, const jd_peer *p, const char *op, const jwtrev_entry *e)
{
    jwtrev_error err;
    int rc;

    jwtrev_error_clear(&err);
    rc = jwtrev_store_put(d->conf.db, e, &err);
    if (rc != 0) {
        jd_log(LOG_ERR, "uid %ld %s failed: %s", (long)p->uid, op, err.detail);
        return reply_fail(rc, &err);
    }
    __atomic_add_fetch(&d->writes, 1, __ATOMIC_RELAXED);
    log_write(p, op, e, NULL);
    return json_pack("{s:b, s:o}", "ok", 1, "entry", jwtrev_entry_to_json(e));
}

static json_t *
op_revoke_token(jd *d, const jd_peer *p, json_t *req)
{
    const char *reason = str_member(req, "reason");
    jwtrev_error err;
    jwtrev_token t;
    jwtrev_entry e;
    json_t *r;
    int bad = 0, rc;
    int64_t leeway = int_member(req, "leeway", JWTREV_DEFAULT_LEEWAY, &bad);

    if (bad || (p->role != JD_ADMIN && leeway > WRITER_LEEWAY_MAX))
        return reply_err(JWTREV_ERR_CONFIG_ERROR,
                         "leeway must be whole seconds, at most 86400 for "
                         "a writer");
    jwtrev_error_clear(&err);
    rc = read_token(req, &t, &err);
    if (rc != 0)
        return reply_fail(rc, &err);
    /* An admin's tool may say when (jwtrev's $JWTREV_NOW); a writer's
     * revocation is dated by the daemon's clock. */
    jwtrev_entry_for_token(&t, leeway,
                           p->role == JD_ADMIN
                               ? int_member(req, "revoked_at", now_s(), &bad)
                               : now_s(),
                           reason ? reason : "logout", &e);
    r = put(d, p, "revoke-token", &e);
    jwtrev_token_clear(&t);
    return r;
}

static json_t *
op_revoke_subject(jd *d, const jd_peer *p, json_t *req)
{
    const char *reason = str_member(req, "reason");
    int64_t now = now_s();
    jwtrev_error err;
    jwtrev_token t;
    jwtrev_entry e;
    json_t *r;
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
    rc = read_token(req, &t, &err);
    if (rc == 0 && t.sub == NULL)
        rc = jwtrev_fail(&err, JWTREV_ERR_MISSING_CLAIM,
                         "the token has no sub to log out");
    if (rc != 0) {
        jwtrev_token_clear(&t);
        return reply_fail(rc, &err);
    }
    memset(&e, 0, sizeof(e));
    e.kind = JWTREV_ENTRY_SUBJECT;
    e.iss = t.iss != NULL ? t.iss : "";
    e.iss_len = strlen(e.iss);
    e.id = (const unsigned char *)t.sub;
    e.id_len = strlen(t.sub);
    e.revoked_at = now;
    e.until = until;
    e.not_before = before;
    e.reason = reason != NULL ? reason : "logout-all";
    e.reason_len = strlen(e.reason);
    r = put(d, p, "revoke-subject", &e);
    jwtrev_token_clear(&t);
    return r;
}

static json_t *
entry_of(json_t *req, unsigned char *hash, jwtrev_entry *e)
{
    json_t *o = json_object_get(req, "entry");
    const char *why = "the request has no entry object";
    char text[256];

    if (json_is_object(o) &&
        jwtrev_entry_from_json(o, now_s(), hash, e, &why) == 0)
        return NULL;
    snprintf(text, sizeof(text), "entry: %s", why);
    return reply_err(JWTREV_ERR_CONFIG_ERROR, text);
}

static json_t *
op_put(jd *d, const jd_peer *p, json_t *req)
{
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    jwtrev_entry e;
    json_t *bad = entry_of(req, hash, &e);

    return bad != NULL ? bad : put(d, p, "put", &e);
}

static json_t *
op_remove(jd *d, const jd_peer *p, json_t *req)
{
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    jwtrev_error err;
    jwtrev_entry e;
    json_t *bad = entry_of(req, hash, &e);
    int removed = 0, rc;

    if (bad != NULL)
        return bad;
    jwtrev_error_clear(&err);
    rc = jwtrev_store_remove(d->conf.db, &e, &removed, &err);
    if (rc != 0)
        return reply_fail(rc, &err);
    __atomic_add_fetch(&d->writes, 1, __ATOMIC_RELAXED);
    log_write(p, "remove", &e, removed ? "" : " (there was none)");
    return json_pack("{s:b, s:i}", "ok", 1, "removed", removed);
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
    r = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "ok", 1,
                  "daemon", "jwtrevd", "version", PACKAGE_VERSION, "store",
                  d->conf.db, "pid", (json_int_t)getpid(), "started",
                  (json_int_t)d->started, "writes", (json_int_t)d->writes,
                  "refused", (json_int_t)d->refused, "fold", fold);
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

json_t *
jd_handle(jd *d, const jd_peer *p, json_t *req, void **batch)
{
    const char *op = json_is_object(req) ? str_member(req, "op") : NULL;
    int writer = p->role == JD_WRITER || p->role == JD_ADMIN;
    int admin = p->role == JD_ADMIN;

    if (op == NULL) {
        __atomic_add_fetch(&d->bad_requests, 1, __ATOMIC_RELAXED);
        return reply_err(JWTREV_ERR_CONFIG_ERROR,
                         "a request is a JSON object with a string op");
    }
    if (strcmp(op, "status") == 0)
        return op_status(d);
    if (strcmp(op, "revoke-token") == 0 || strcmp(op, "revoke-subject") == 0) {
        if (!writer) {
            __atomic_add_fetch(&d->refused, 1, __ATOMIC_RELAXED);
            return denied(p, op,
                          "not a writer or admin (jwtrevd.conf "
                          "writers=, admins=)");
        }
        return op[7] == 't' ? op_revoke_token(d, p, req)
                            : op_revoke_subject(d, p, req);
    }
    if (strcmp(op, "put") == 0 || strcmp(op, "remove") == 0 ||
        strcmp(op, "compact") == 0 || strcmp(op, "purge") == 0 ||
        strcmp(op, "load-add") == 0 || strcmp(op, "load-commit") == 0) {
        if (!admin) {
            __atomic_add_fetch(&d->refused, 1, __ATOMIC_RELAXED);
            return denied(p, op,
                          p->role == JD_WRITER
                              ? "writers may only revoke a token they hand "
                                "over, or its subject"
                              : "not an admin (jwtrevd.conf admins=)");
        }
        if (strcmp(op, "put") == 0)
            return op_put(d, p, req);
        if (strcmp(op, "remove") == 0)
            return op_remove(d, p, req);
        if (strcmp(op, "load-add") == 0)
            return op_load_add(req, batch);
        if (strcmp(op, "load-commit") == 0)
            return op_load_commit(d, p, batch);
        return op_fold(d, p, req, op[0] == 'p');
    }
    __atomic_add_fetch(&d->bad_requests, 1, __ATOMIC_RELAXED);
    return reply_err(JWTREV_ERR_CONFIG_ERROR, "unknown op");
}
