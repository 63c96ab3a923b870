/*
 * tests/fleet/drv.c - what the fleet driver's cases share: simulated
 * hosts (a fleet handle each, whose apply records what reaches it),
 * waiting for what arrives, statements on a session of their own.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libpq-fe.h>

#include "drv.h"
#include "tap.h"

const char *tmpdir;

static char *
dupn(const void *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int
on_apply(void *arg, const fleet_change *c, size_t n, int bootstrap,
         jwtrev_error *err)
{
    struct host *h = arg;
    size_t i;

    pthread_mutex_lock(&h->mu);
    h->applies++;
    if (h->fail_apply > 0) {
        h->fail_apply--;
        pthread_mutex_unlock(&h->mu);
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "refused by the test");
    }
    h->boot_first += (bootstrap & FLEET_BOOTSTRAP_FIRST) != 0;
    h->boot_last += (bootstrap & FLEET_BOOTSTRAP_LAST) != 0;
    for (i = 0; i < n; i++) {
        struct got *g;
        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 1024;
            h->got = realloc(h->got, h->cap * sizeof(*h->got));
            if (h->got == NULL)
                abort();
        }
        g = &h->got[h->n++];
        g->op = c[i].op;
        g->kind = c[i].e.kind;
        g->bootstrap = bootstrap;
        g->iss = dupn(c[i].e.iss, c[i].e.iss_len);
        g->id = dupn(c[i].e.id, c[i].e.id_len);
        g->id_len = c[i].e.id_len;
        g->reason = dupn(c[i].e.reason, c[i].e.reason_len);
        g->revoked_at = c[i].e.revoked_at;
        g->until = c[i].e.until;
        g->not_before = c[i].e.not_before;
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static void
on_log(void *arg, int level, const char *msg)
{
    struct host *h = arg;
    size_t len;

    pthread_mutex_lock(&h->mu);
    len = strlen(h->logs);
    snprintf(h->logs + len, sizeof(h->logs) - len, "%s\n", msg);
    pthread_mutex_unlock(&h->mu);
    printf("# %s [%d]: %s\n", h->name, level, msg);
    fflush(stdout);
}

int
host_open(struct host *h, const char *name, const char *conninfo,
          const char *dir)
{
    fleet_config cfg = {conninfo, name, h->dir, on_apply, on_log, h};
    jwtrev_error err;

    h->name = name;
    snprintf(h->dir, sizeof(h->dir), "%s/%s", tmpdir, dir != NULL ? dir : name);
    mkdir(h->dir, 0700);
    if (h->cap == 0) {
        pthread_mutex_init(&h->mu, NULL);
        pthread_cond_init(&h->cv, NULL);
    }
    if (fleet_open(&cfg, &h->f, &err) != 0) {
        tap_diag("fleet_open %s: %s", name, err.detail);
        return -1;
    }
    return 0;
}

void
host_close(struct host *h)
{
    fleet_close(h->f);
    h->f = NULL;
}

void
host_free(struct host *h)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        free(h->got[i].iss);
        free(h->got[i].id);
        free(h->got[i].reason);
    }
    free(h->got);
    h->got = NULL;
    h->n = h->cap = 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* distinct ids starting with prefix received with op (0: any) */
static size_t
count_locked(struct host *h, const char *prefix, int op, int boot)
{
    size_t i, n = 0, k, plen = strlen(prefix);
    char **ids = malloc((h->n + 1) * sizeof(*ids));

    for (i = 0; i < h->n; i++)
        if ((op == 0 || h->got[i].op == op) &&
            (boot < 0 || (h->got[i].bootstrap != 0) == boot) &&
            strncmp(h->got[i].id, prefix, plen) == 0)
            ids[n++] = h->got[i].id;
    qsort(ids, n, sizeof(*ids), cmp_str);
    for (i = 0, k = 0; i < n; i++)
        k += i == 0 || strcmp(ids[i], ids[i - 1]) != 0;
    free(ids);
    return k;
}

size_t
count(struct host *h, const char *prefix, int op, int boot)
{
    size_t n;

    pthread_mutex_lock(&h->mu);
    n = count_locked(h, prefix, op, boot);
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* Wait until h got want distinct ids of prefix (op, boot as count):
 * the milliseconds it took, or -1. */
long
wait_count(struct host *h, const char *prefix, int op, size_t want, long ms)
{
    struct timespec t0, now, until;
    long took = -1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&h->mu);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        took = (now.tv_sec - t0.tv_sec) * 1000 +
               (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (count_locked(h, prefix, op, -1) >= want)
            break;
        if (took >= ms) {
            took = -1;
            break;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&h->cv, &h->mu, &until);
    }
    pthread_mutex_unlock(&h->mu);
    return took;
}

/* the last change received for id, copied into *out; 0 or -1 */
int
last_of(struct host *h, const char *id, struct got *out)
{
    size_t i;
    int rc = -1;

    pthread_mutex_lock(&h->mu);
    for (i = h->n; i-- > 0;)
        if (strcmp(h->got[i].id, id) == 0) {
            *out = h->got[i];
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int
last_of_kind(struct host *h, int kind, struct got *out)
{
    size_t i;
    int rc = -1;

    pthread_mutex_lock(&h->mu);
    for (i = h->n; i-- > 0;)
        if (h->got[i].kind == kind) {
            *out = h->got[i];
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int
logged(struct host *h, const char *text)
{
    int r;

    pthread_mutex_lock(&h->mu);
    r = strstr(h->logs, text) != NULL;
    pthread_mutex_unlock(&h->mu);
    return r;
}

void
msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Wait for a status condition (checked by fn) up to ms: 1 when met. */
int
wait_status(struct host *h, int (*fn)(const fleet_status *), long ms,
            fleet_status *st)
{
    long t;

    for (t = 0; t <= ms; t += 20) {
        fleet_status_get(h->f, st);
        if (fn(st))
            return 1;
        msleep(20);
    }
    return 0;
}

int
st_booted(const fleet_status *s)
{
    return s->bootstrapped && s->connected;
}

int
st_down(const fleet_status *s)
{
    return !s->connected && s->last_error[0] != '\0';
}

int
st_drained(const fleet_status *s)
{
    return s->connected && s->outbox == 0;
}

int
st_refused(const fleet_status *s)
{
    return s->refused > 0 && s->outbox == 0;
}

fleet_change
token(const char *id, int64_t revoked_at, int64_t until)
{
    fleet_change c;

    memset(&c, 0, sizeof(c));
    c.op = FLEET_ADD;
    c.e.kind = JWTREV_ENTRY_TOKEN;
    c.e.iss = ISS;
    c.e.iss_len = strlen(ISS);
    c.e.id = (const unsigned char *)id;
    c.e.id_len = strlen(id);
    c.e.revoked_at = revoked_at;
    c.e.until = until;
    c.e.reason = "test";
    c.e.reason_len = 4;
    return c;
}

uint64_t
enqueue1(struct host *h, fleet_change c)
{
    jwtrev_error err;
    uint64_t t = 0;

    if (fleet_enqueue(h->f, &c, 1, &t, &err) != 0)
        tap_diag("enqueue on %s: %s", h->name, err.detail);
    return t;
}

/* enqueue n tokens PREFIX0..PREFIXn-1 one call each; the last ticket */
uint64_t
enqueue_n(struct host *h, const char *prefix, int n)
{
    char id[128];
    uint64_t t = 0;
    int i;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s%d", prefix, i);
        t = enqueue1(h, token(id, time(NULL), 4000000000));
    }
    return t;
}

int
enqueue_block(struct host *h, const char *prefix, int n, int per_call)
{
    fleet_change *c = malloc((size_t)per_call * sizeof(*c));
    char(*ids)[64] = malloc((size_t)per_call * sizeof(*ids));
    jwtrev_error err;
    int i, k, rc = 0;

    for (i = 0; c != NULL && ids != NULL && i < n && rc == 0; i += k) {
        for (k = 0; k < per_call && i + k < n; k++) {
            snprintf(ids[k], sizeof(ids[k]), "%s%d", prefix, i + k);
            c[k] = token(ids[k], time(NULL), 4000000000);
        }
        rc = fleet_enqueue(h->f, c, (size_t)k, NULL, &err);
    }
    if (rc != 0)
        tap_diag("enqueue on %s: %s", h->name, err.detail);
    free(c);
    free(ids);
    return c != NULL && ids != NULL ? rc : -1;
}

const char *
env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL) {
        fprintf(stderr, "test_fleet: %s is not set (run tests/fleet.sh)\n",
                name);
        exit(2);
    }
    return v;
}

/* One statement on its own session: the SQLSTATE ("" on success, "conn"
 * when the session failed), the first value into val when given. */
const char *
sql(const char *conninfo, const char *q, char *val, size_t size)
{
    static char state[16];
    PGconn *pg = PQconnectdb(conninfo);
    PGresult *r;
    const char *s;

    if (PQstatus(pg) != CONNECTION_OK) {
        PQfinish(pg);
        return "conn";
    }
    r = PQexec(pg, q);
    s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof(state), "%s", s != NULL ? s : "");
    if (val != NULL) {
        snprintf(val, size, "%s",
                 PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0
                     ? PQgetvalue(r, 0, 0)
                     : "");
    }
    PQclear(r);
    PQfinish(pg);
    return state;
}

long
sql_long(const char *q)
{
    char v[64];

    if (*sql(env("FLEET_SUPER"), q, v, sizeof(v)) != '\0')
        return -1;
    return strtol(v, NULL, 10);
}
