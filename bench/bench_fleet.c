/*
 * bench_fleet.c - fleet mode's figures (bench/fleet.sh runs it against a
 * private PostgreSQL):
 *
 *   bench_fleet latency A B DIR RATE SECONDS
 *       host A (conninfo A) enqueues RATE changes a second for SECONDS,
 *       host B (conninfo B) follows; each change's time from A's
 *       fleet_enqueue to B's apply: p50, p99, max
 *   bench_fleet bootstrap C DIR [STORE]
 *       a new host starts from the live set: the time until it is in
 *       step; with STORE, apply collects the set into one batch of the
 *       store in STORE and commits it at the last batch
 *   bench_fleet outage A B DIR SECONDS RATE STOP START
 *       while the database is stopped (the command STOP) A enqueues RATE
 *       a second for SECONDS; then START; the time from START's return
 *       until B has every change
 *
 * Output: one line of name=value pairs.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "jwtrev_fleet.h"

struct bench {
    pthread_mutex_t mu;
    int64_t *sent_ns, *got_ns; /* per change number; 0: not yet */
    size_t n, got;
    jwtrev_store_batch *batch;
    const char *store;
    int64_t in_step_ns;
};

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until(int64_t ns)
{
    int64_t d = ns - now_ns();
    struct timespec ts;

    if (d <= 0)
        return;
    ts.tv_sec = d / 1000000000;
    ts.tv_nsec = d % 1000000000;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Changes "bench-N": note when N arrived. */
static int
apply_mem(void *arg, const fleet_change *c, size_t n, int bootstrap,
          jwtrev_error *err)
{
    struct bench *b = arg;
    int64_t t = now_ns();
    char id[32];
    size_t i, k;

    (void)bootstrap;
    (void)err;
    pthread_mutex_lock(&b->mu);
    for (i = 0; i < n; i++) {
        if (c[i].e.id_len < 7 || c[i].e.id_len >= sizeof(id) ||
            memcmp(c[i].e.id, "bench-", 6) != 0)
            continue;
        memcpy(id, c[i].e.id, c[i].e.id_len);
        id[c[i].e.id_len] = '\0';
        k = strtoul(id + 6, NULL, 10);
        if (k < b->n && b->got_ns[k] == 0) {
            b->got_ns[k] = t;
            b->got++;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return 0;
}

/* The sending host's own follower: nothing to note. */
static int
apply_none(void *arg, const fleet_change *c, size_t n, int bootstrap,
           jwtrev_error *err)
{
    (void)arg;
    (void)c;
    (void)n;
    (void)bootstrap;
    (void)err;
    return 0;
}

/* The bootstrap into a real store: one batch, committed at LAST. */
static int
apply_store(void *arg, const fleet_change *c, size_t n, int bootstrap,
            jwtrev_error *err)
{
    struct bench *b = arg;
    size_t i;
    int rc = 0;

    if (!bootstrap)
        return 0;
    if ((bootstrap & FLEET_BOOTSTRAP_FIRST) && b->batch != NULL) {
        jwtrev_store_batch_free(b->batch);
        b->batch = NULL;
    }
    if (b->batch == NULL && jwtrev_store_batch_new(&b->batch) != 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 0; i < n && rc == 0; i++)
        rc = jwtrev_store_batch_add(b->batch, &c[i].e, i, err);
    if (rc == 0 && (bootstrap & FLEET_BOOTSTRAP_LAST)) {
        rc = jwtrev_store_batch_commit(b->store, b->batch, NULL, err);
        jwtrev_store_batch_free(b->batch);
        b->batch = NULL;
    }
    return rc;
}

static void
quiet(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level <= 4)
        fprintf(stderr, "bench_fleet: %s\n", msg);
}

static fleet *
open_host(const char *conninfo, const char *name, const char *dir,
          fleet_apply_fn *fn, struct bench *b)
{
    char path[1024];
    fleet_config cfg = {conninfo, name, path, fn, quiet, b};
    jwtrev_error err;
    fleet *f;

    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    mkdir(path, 0700);
    if (fleet_open(&cfg, &f, &err) != 0) {
        fprintf(stderr, "bench_fleet: %s\n", err.detail);
        exit(1);
    }
    return f;
}

static void
wait_booted(fleet *f)
{
    fleet_status st;

    do {
        sleep_until(now_ns() + 2000000);
        fleet_status_get(f, &st);
    } while (!st.bootstrapped || !st.connected);
}

static void
enqueue(fleet *f, size_t k)
{
    char id[32];
    fleet_change c;

    memset(&c, 0, sizeof(c));
    snprintf(id, sizeof(id), "bench-%zu", k);
    c.op = FLEET_ADD;
    c.e.kind = JWTREV_ENTRY_TOKEN;
    c.e.iss = "https://id.example.com";
    c.e.iss_len = strlen(c.e.iss);
    c.e.id = (const unsigned char *)id;
    c.e.id_len = strlen(id);
    c.e.revoked_at = time(NULL);
    c.e.until = c.e.revoked_at + 3600;
    if (fleet_enqueue(f, &c, 1, NULL, NULL) != 0) {
        fprintf(stderr, "bench_fleet: enqueue failed\n");
        exit(1);
    }
}

/* Enqueue b->n changes on f at rate a second, noting when each went. */
static void
paced(struct bench *b, fleet *f, double rate)
{
    int64_t start = now_ns();
    size_t k;

    for (k = 0; k < b->n; k++) {
        sleep_until(start + (int64_t)((double)k * 1e9 / rate));
        pthread_mutex_lock(&b->mu);
        b->sent_ns[k] = now_ns();
        pthread_mutex_unlock(&b->mu);
        enqueue(f, k);
    }
}

static int
wait_all(struct bench *b, int64_t limit_ns)
{
    size_t got;

    for (;;) {
        pthread_mutex_lock(&b->mu);
        got = b->got;
        pthread_mutex_unlock(&b->mu);
        if (got == b->n)
            return 0;
        if (now_ns() > limit_ns)
            return -1;
        sleep_until(now_ns() + 1000000);
    }
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static void
init(struct bench *b, size_t n)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->mu, NULL);
    b->n = n;
    b->sent_ns = calloc(n + 1, sizeof(int64_t));
    b->got_ns = calloc(n + 1, sizeof(int64_t));
    if (b->sent_ns == NULL || b->got_ns == NULL)
        exit(1);
}

static int
latency(char **argv)
{
    double rate = atof(argv[5]), secs = atof(argv[6]);
    struct bench b;
    fleet *fa, *fb;
    int64_t *d;
    size_t i, n;

    init(&b, (size_t)(rate * secs));
    fa = open_host(argv[2], "bench-a", argv[4], apply_none, NULL);
    fb = open_host(argv[3], "bench-b", argv[4], apply_mem, &b);
    wait_booted(fa);
    wait_booted(fb);
    paced(&b, fa, rate);
    if (wait_all(&b, now_ns() + 30 * 1000000000LL) != 0)
        fprintf(stderr, "bench_fleet: %zu of %zu arrived\n", b.got, b.n);
    n = b.n;
    d = malloc(n * sizeof(*d));
    for (i = 0; i < n; i++)
        d[i] = b.got_ns[i] > 0 ? b.got_ns[i] - b.sent_ns[i] : INT64_MAX;
    qsort(d, n, sizeof(*d), cmp_i64);
    printf("rate=%.0f n=%zu arrived=%zu p50_us=%lld p99_us=%lld max_us=%lld\n",
           rate, n, b.got, (long long)(d[n / 2] / 1000),
           (long long)(d[(n * 99) / 100] / 1000), (long long)(d[n - 1] / 1000));
    fleet_close(fa);
    fleet_close(fb);
    free(d);
    return b.got == n ? 0 : 1;
}

static int
bootstrap(int argc, char **argv)
{
    struct bench b;
    int64_t t0;
    fleet *f;
    fleet_status st;

    init(&b, 1);
    b.store = argc > 4 ? argv[4] : NULL;
    t0 = now_ns();
    f = open_host(argv[2], "bench-new", argv[3],
                  b.store != NULL ? apply_store : apply_mem, &b);
    wait_booted(f);
    fleet_status_get(f, &st);
    printf("bootstrap_ms=%lld entries=%llu into=%s\n",
           (long long)((now_ns() - t0) / 1000000),
           (unsigned long long)st.applied,
           b.store != NULL ? "store" : "memory");
    fleet_close(f);
    return 0;
}

static int
outage(char **argv)
{
    double secs = atof(argv[5]), rate = atof(argv[6]);
    struct bench b;
    fleet *fa, *fb;
    int64_t t0;
    int rc;

    init(&b, (size_t)(rate * secs));
    fb = open_host(argv[3], "bench-b", argv[4], apply_mem, &b);
    fa = open_host(argv[2], "bench-a", argv[4], apply_none, NULL);
    wait_booted(fa);
    wait_booted(fb);
    if (system(argv[7]) != 0)
        return 1;
    paced(&b, fa, rate);
    t0 = now_ns(); /* from the start command: the server's own start
                      counts too */
    if (system(argv[8]) != 0)
        return 1;
    rc = wait_all(&b, t0 + 120 * 1000000000LL);
    printf("outage_s=%.0f changes=%zu catchup_ms=%lld%s\n", secs, b.n,
           (long long)((now_ns() - t0) / 1000000),
           rc != 0 ? " INCOMPLETE" : "");
    fleet_close(fa);
    fleet_close(fb);
    return rc != 0;
}

int
main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "latency") == 0)
        return latency(argv);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "bootstrap") == 0)
        return bootstrap(argc, argv);
    if (argc == 9 && strcmp(argv[1], "outage") == 0)
        return outage(argv);
    fprintf(stderr, "usage: see bench/bench_fleet.c\n");
    return 2;
}
