/*
 * test_store.c - the revocation store's writers and parts: entry checks,
 * the filter and its hash, batches, the delta bound, init's modes, the writers'
 * lock and leftovers, and threads sharing one reader handle.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "store_testutil.h"

static void
test_siphash_and_filter(void)
{
    uint64_t key[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    unsigned char msg[15], id[STOREP_ID_LEN];
    storep_bloom_builder bb;
    uint64_t i, fp = 0, missing = 0;
    int k;

    for (k = 0; k < 15; k++)
        msg[k] = (unsigned char)k;
    ok(storep_siphash(2, 4, key, msg, 0) == 0x726fdb47dd0e0e31ULL,
       "SipHash-2-4 of the empty message (reference vector)");
    ok(storep_siphash(2, 4, key, msg, 15) == 0xa129ca6149be45e5ULL,
       "SipHash-2-4 of 15 bytes (reference vector)");
    memset(id, 7, sizeof(id));
    ok(storep_bloom_build_init(&bb, 10000, id) == 0, "a filter for 10000");
    for (i = 0; i < 10000; i++)
        storep_bloom_build_add(&bb, storep_siphash(1, 3, key, &i, 8));
    for (i = 0; i < 10000; i++)
        missing += !storep_bloom_maybe(&bb.b, storep_siphash(1, 3, key, &i, 8));
    for (i = 10000; i < 110000; i++)
        fp += storep_bloom_maybe(&bb.b, storep_siphash(1, 3, key, &i, 8));
    ok(missing == 0, "no false negatives");
    ok(fp < 2000, "false positives under 2%% (%llu in 100000)",
       (unsigned long long)fp);
    storep_bloom_build_seal(&bb);
    ok(storep_bloom_parse(&bb.b, bb.buf, bb.len, id) == 0,
       "the sealed filter parses");
    bb.buf[STOREP_BLOOM_HEADER + 64 * 7 + 3] ^= 0x10;
    ok(storep_bloom_parse(&bb.b, bb.buf, bb.len, id) == -2,
       "one bit flipped in a block: damage (its checksum)");
    bb.buf[STOREP_BLOOM_HEADER + 64 * 7 + 3] ^= 0x10;
    memset(bb.buf + STOREP_BLOOM_HEADER + 64, 0, 64);
    ok(storep_bloom_parse(&bb.b, bb.buf, bb.len, id) == -2,
       "a zeroed block: damage");
    storep_bloom_build_seal(&bb);
    ok(storep_bloom_parse(&bb.b, bb.buf, bb.len - 64, id) == -2,
       "a filter cut short: damage");
    bb.buf[26] ^= 1;
    ok(storep_bloom_parse(&bb.b, bb.buf, bb.len, id) == -2,
       "a block count changed: damage");
    bb.buf[26] ^= 1;
    id[0] ^= 1;
    ok(storep_bloom_parse(&bb.b, bb.buf, bb.len, id) == -2,
       "a filter keyed for another file is refused");
    id[0] ^= 1;
    memcpy(bb.buf, "JWTRBLM1", 8);
    ok(storep_bloom_parse(&bb.b, bb.buf, bb.len, id) == -1,
       "a filter of the older format is no filter (not trusted, no error)");
    storep_bloom_build_free(&bb);
}

static void
test_entry_check(void)
{
    static const unsigned char hash[32];
    static const struct {
        const char *what;
        int kind;
        const char *iss, *id, *reason;
        int64_t nb;
        int good;
    } cases[] = {
        {"token", JWTREV_ENTRY_TOKEN, "https://i", "j", "logout", 0, 1},
        {"UTF-8 id", JWTREV_ENTRY_TOKEN, "", "caf\xc3\xa9", "", 0, 1},
        {"kind 0", 0, "", "j", "", 0, 0},
        {"kind 5", 5, "", "j", "", 0, 0},
        {"empty jti", JWTREV_ENTRY_TOKEN, "", "", "", 0, 0},
        {"newline in jti", JWTREV_ENTRY_TOKEN, "", "a\nb", "", 0, 0},
        {"bad UTF-8 in jti", JWTREV_ENTRY_TOKEN, "", "\xc3(", "", 0, 0},
        {"overlong UTF-8", JWTREV_ENTRY_TOKEN, "", "\xc0\xaf", "", 0, 0},
        {"surrogate", JWTREV_ENTRY_TOKEN, "", "\xed\xa0\x80", "", 0, 0},
        {"C1 control", JWTREV_ENTRY_TOKEN, "", "\xc2\x85", "", 0, 0},
        {"tab in issuer", JWTREV_ENTRY_SUBJECT, "a\tb", "s", "", 0, 0},
        {"issuer on a key entry", JWTREV_ENTRY_KEY, "i", "k", "", 0, 0},
        {"not_before on a key entry", JWTREV_ENTRY_KEY, "", "k", "", 5, 0},
        {"DEL in reason", JWTREV_ENTRY_KEY, "", "k", "a\x7f", 0, 0},
    };
    char reason[JWTREV_STORE_REASON_MAX + 2];
    jwtrev_entry e;
    jwtrev_error err;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        e = st_entry(JWTREV_ENTRY_TOKEN, cases[i].iss, cases[i].id, 0,
                     cases[i].nb, cases[i].reason);
        e.kind = (jwtrev_entry_kind)cases[i].kind;
        ok((jwtrev_entry_check(&e, &err) == 0) == cases[i].good, "%s %s",
           cases[i].good ? "takes" : "refuses", cases[i].what);
    }
    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    e = st_entry(JWTREV_ENTRY_KEY, NULL, "k", 0, 0, reason);
    ok(jwtrev_entry_check(&e, &err) == -JWTREV_ERR_CONFIG_ERROR,
       "refuses a reason of %d bytes", JWTREV_STORE_REASON_MAX + 1);
    e.reason_len--;
    ok(jwtrev_entry_check(&e, &err) == 0, "takes one of %d",
       JWTREV_STORE_REASON_MAX);
    e = st_entry(JWTREV_ENTRY_HASH, NULL, (const char *)hash, 0, 0, NULL);
    ok(jwtrev_entry_check(&e, &err) == 0, "takes a 32-byte hash");
    e.id_len = 31;
    ok(jwtrev_entry_check(&e, &err) == -JWTREV_ERR_CONFIG_ERROR,
       "refuses a 31-byte hash");
    e = st_entry(JWTREV_ENTRY_TOKEN, "", "j", -1, 0, NULL);
    ok(jwtrev_entry_check(&e, &err) == -JWTREV_ERR_CONFIG_ERROR,
       "refuses negative times");
}

static int
collect(void *arg, const jwtrev_entry *e)
{
    storep_set *s = arg;
    storep_rec r;

    memset(&r, 0, sizeof(r));
    r.e = *e;
    return storep_set_append(s, &r, NULL);
}

/* Whether two stores hold exactly the same entries, in order. */
static int
same_entries(const char *a, const char *b)
{
    storep_set x, y;
    jwtrev_error err;
    size_t i;
    int same;

    storep_set_init(&x);
    storep_set_init(&y);
    same = jwtrev_store_foreach(a, JWTREV_ENTRY_ALL, collect, &x, NULL, &err) ==
               0 &&
           jwtrev_store_foreach(b, JWTREV_ENTRY_ALL, collect, &y, NULL, &err) ==
               0 &&
           x.n == y.n && x.n > 0;
    for (i = 0; same && i < x.n; i++) {
        const jwtrev_entry *p = &x.v[i]->e, *q = &y.v[i]->e;
        same = storep_rec_cmp(p, q) == 0 && p->revoked_at == q->revoked_at &&
               p->until == q->until && p->not_before == q->not_before &&
               p->reason_len == q->reason_len &&
               memcmp(p->reason, q->reason, p->reason_len) == 0;
    }
    storep_set_free(&x);
    storep_set_free(&y);
    return same;
}

static int
copy_into(void *arg, const jwtrev_entry *e)
{
    jwtrev_error err;

    return jwtrev_store_batch_add(arg, e, 0, &err);
}

static void
test_batches(void)
{
    char a[PATH_MAX], b[PATH_MAX], id[16];
    jwtrev_store_batch *batch;
    jwtrev_error err;
    unsigned char hash[32];
    int i;

    st_store("batch-a", a);
    st_store("batch-b", b);
    memset(hash, 0x55, sizeof(hash));
    for (i = 0; i < 40; i++) {
        snprintf(id, sizeof(id), "id%03d", i);
        st_put(a, st_entry(JWTREV_ENTRY_TOKEN, i % 3 ? "x" : "y", id,
                           i % 2 ? 0 : 5000 + i, 0, "r"));
        if (i == 20)
            jwtrev_store_compact(a, NULL, &err);
    }
    st_put(a,
           st_entry(JWTREV_ENTRY_HASH, NULL, (const char *)hash, 9, 0, NULL));
    st_put(a, st_entry(JWTREV_ENTRY_SUBJECT, "", "s", 0, 77, "all"));
    st_put(a, st_entry(JWTREV_ENTRY_KEY, NULL, "k", 0, 0, NULL));
    jwtrev_store_batch_new(&batch);
    ok(jwtrev_store_foreach(a, JWTREV_ENTRY_ALL, copy_into, batch, NULL,
                            &err) == 0 &&
           jwtrev_store_batch_count(batch) == 43,
       "walk a store of base and delta: 43 entries");
    ok(jwtrev_store_batch_commit(b, batch, NULL, &err) == 0,
       "commit them to another store in one pass");
    ok(same_entries(a, b), "both stores hold the same entries");
    jwtrev_store_batch_free(batch);
    jwtrev_store_batch_new(&batch);
    jwtrev_entry e = st_entry(JWTREV_ENTRY_KEY, NULL, "dup", 0, 0, NULL);
    jwtrev_store_batch_add(batch, &e, 3, &err);
    e = st_entry(JWTREV_ENTRY_KEY, NULL, "other", 0, 0, NULL);
    jwtrev_store_batch_add(batch, &e, 5, &err);
    e = st_entry(JWTREV_ENTRY_KEY, NULL, "dup", 0, 0, NULL);
    jwtrev_store_batch_add(batch, &e, 7, &err);
    ok(jwtrev_store_batch_commit(b, batch, NULL, &err) ==
               -JWTREV_ERR_CONFIG_ERROR &&
           strstr(err.detail, "line 7 repeats the entry of line 3"),
       "a repeated entry is refused, naming both: %s", err.detail);
    ok(same_entries(a, b), "and nothing was written");
    e.id_len = 0;
    ok(jwtrev_store_batch_add(batch, &e, 9, &err) == -JWTREV_ERR_CONFIG_ERROR,
       "a bad entry is refused when added");
    e = st_entry(JWTREV_ENTRY_KEY, NULL, "version", 0, 0, NULL);
    e.kind = 0;
    ok(jwtrev_store_remove(b, &e, &i, &err) == -JWTREV_ERR_CONFIG_ERROR,
       "remove refuses kind 0 (the meta records' prefix)");
    ok(same_entries(a, b), "the store is untouched");
    jwtrev_store_batch_free(batch);
}

/* A delta of n entries b00000... written at once (n single revocations
 * would cost n fsyncs). */
static void
fill_delta(const char *dir, int n)
{
    storep_str iss = {"i", 1};
    storep_txn w;
    storep_out *o;
    storep_rec r;
    jwtrev_error err;
    char id[16];
    int i, rc;

    rc = storep_txn_begin(dir, &w, &err);
    if (rc == 0)
        rc = storep_out_begin(&w, "delta.db", w.base->id, &iss, 1, (uint64_t)n,
                              &o, &err);
    for (i = 0; rc == 0 && i < n; i++) {
        snprintf(id, sizeof(id), "b%05d", i);
        memset(&r, 0, sizeof(r));
        r.e = st_entry(JWTREV_ENTRY_TOKEN, "i", id, 0, 0, NULL);
        rc = storep_out_add(o, &r, &err);
    }
    if (rc == 0)
        rc = storep_out_finish(o, &err);
    if (rc == 0)
        rc = storep_txn_bump(&w, &err);
    ok(rc == 0, "a delta of %d entries", n);
    storep_txn_end(&w);
}

static void
test_delta_bound(void)
{
    char dir[PATH_MAX], id[16];
    jwtrev_store_stats s;
    jwtrev_revdb *db;
    jwtrev_error err;
    jwtrev_token t;
    int i, bad = 0;

    st_store("bound", dir);
    fill_delta(dir, STOREP_DELTA_MAX - 1);
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "c1", 0, 0, NULL));
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 &&
           s.recent == STOREP_DELTA_MAX,
       "a revocation up to the bound goes to the delta");
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "c2", 0, 0, NULL));
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 &&
           s.entries[0] == STOREP_DELTA_MAX + 1 && s.recent == 0,
       "the one past it folds the delta into the base (recent %llu)",
       (unsigned long long)s.recent);
    jwtrev_revdb_open(dir, &db, &err);
    for (i = 0; i < STOREP_DELTA_MAX + 1; i++) {
        if (i < STOREP_DELTA_MAX - 1)
            snprintf(id, sizeof(id), "b%05d", i);
        else
            snprintf(id, sizeof(id), "c%d", i - STOREP_DELTA_MAX + 2);
        t = st_token(NULL, "i", NULL, id, 1, 1);
        bad += jwtrev_revdb_check(db, &t, 1, &err) != -JWTREV_ERR_REVOKED;
    }
    ok(bad == 0, "every one is still revoked");
    jwtrev_revdb_close(db);
}

static mode_t
mode_of(const char *dir, const char *name)
{
    char path[PATH_MAX + 16];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void
test_init_modes(void)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    jwtrev_error err;
    long gid = (long)getgid();

    snprintf(dir, sizeof(dir), "%s/modes-owner", st_root);
    ok(jwtrev_store_init(dir, -1, 0, &err) == 0 && mode_of(dir, ".") == 0700 &&
           mode_of(dir, "gen") == 0600 && mode_of(dir, "base.db") == 0600 &&
           mode_of(dir, "lock") == 0600,
       "owner only: 0700 and 0600");
    snprintf(dir, sizeof(dir), "%s/modes-group", st_root);
    ok(jwtrev_store_init(dir, gid, 0, &err) == 0 &&
           mode_of(dir, ".") == 02750 && mode_of(dir, "gen") == 0640 &&
           mode_of(dir, "delta.db") == 0640,
       "group reads: 2750 and 0640");
    st_put(dir, st_entry(JWTREV_ENTRY_KEY, NULL, "k", 0, 0, NULL));
    ok(mode_of(dir, "delta.db") == 0640, "a writer keeps the group's read");
    snprintf(path, sizeof(path), "%s/base.db", dir);
    chmod(path, 0666);
    ok(jwtrev_store_init(dir, gid, JWTREV_STORE_GROUP_WRITABLE, &err) == 0 &&
           mode_of(dir, ".") == 02770 && mode_of(dir, "gen") == 0660 &&
           mode_of(dir, "base.db") == 0640,
       "init again: group writes, modes repaired, nothing world-writable");
    ok(jwtrev_store_stats_get(dir, &(jwtrev_store_stats){0}, &err) == 0,
       "entries kept");
    ok(jwtrev_store_init(dir, -1, JWTREV_STORE_GROUP_WRITABLE, &err) ==
           -JWTREV_ERR_CONFIG_ERROR,
       "group-writable needs a group");
}

struct waiter {
    const char *dir;
    double seconds;
    int rc;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
put_later(void *arg)
{
    struct waiter *w = arg;
    double t0 = now_s();

    w->rc = st_put(w->dir, st_entry(JWTREV_ENTRY_KEY, NULL, "w", 0, 0, NULL));
    w->seconds = now_s() - t0;
    return NULL;
}

static void
test_lock_and_leftovers(void)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    struct waiter w;
    pthread_t th;
    int fd;

    st_store("lock", dir);
    snprintf(path, sizeof(path), "%s/lock", dir);
    fd = open(path, O_RDONLY);
    flock(fd, LOCK_EX);
    w.dir = dir;
    pthread_create(&th, NULL, put_later, &w);
    usleep(300000);
    close(fd); /* as the kernel does for a writer that dies */
    pthread_join(th, NULL);
    ok(w.rc == 0 && w.seconds > 0.25,
       "a writer waits for the lock, then writes (%.2f s)", w.seconds);
    snprintf(path, sizeof(path), "%s/delta.db.tmp.99999", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    snprintf(path, sizeof(path), "%s/bloom.00000000000000000000000000000000",
             dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    st_put(dir, st_entry(JWTREV_ENTRY_KEY, NULL, "x", 0, 0, NULL));
    ok(access(path, F_OK) != 0, "the next writer removes a stale filter");
    snprintf(path, sizeof(path), "%s/delta.db.tmp.99999", dir);
    ok(access(path, F_OK) != 0, "and a dead writer's temporary file");
}

struct reader {
    jwtrev_revdb *db;
    volatile int *acked, *done;
    int late, errors;
    long checks;
};

static void *
read_loop(void *arg)
{
    struct reader *r = arg;
    jwtrev_error err;
    jwtrev_token t;
    char id[16];
    int n, j, rc;

    while (!__atomic_load_n(r->done, __ATOMIC_ACQUIRE)) {
        n = __atomic_load_n(r->acked, __ATOMIC_ACQUIRE);
        for (j = 0; j < n; j++) {
            snprintf(id, sizeof(id), "t%d", j);
            t = st_token(NULL, "i", NULL, id, 1, 1);
            rc = jwtrev_revdb_check(r->db, &t, 1, &err);
            r->late += rc == 0;
            r->errors += rc != 0 && rc != -JWTREV_ERR_REVOKED;
            r->checks++;
        }
    }
    return NULL;
}

static void
test_threads(void)
{
    char dir[PATH_MAX], id[16];
    struct reader r[4];
    pthread_t th[4];
    volatile int acked = 0, done = 0;
    jwtrev_revdb *db;
    jwtrev_error err;
    int i, late = 0, errors = 0;
    long checks = 0;

    st_store("threads", dir);
    jwtrev_revdb_open(dir, &db, &err);
    for (i = 0; i < 4; i++) {
        r[i] = (struct reader){db, &acked, &done, 0, 0, 0};
        pthread_create(&th[i], NULL, read_loop, &r[i]);
    }
    for (i = 0; i < 60; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", id, 0, 0, NULL));
        __atomic_store_n(&acked, i + 1, __ATOMIC_RELEASE);
        if (i == 30)
            jwtrev_store_compact(dir, NULL, &err);
    }
    usleep(100000);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        late += r[i].late;
        errors += r[i].errors;
        checks += r[i].checks;
    }
    ok(checks > 1000 && late == 0 && errors == 0,
       "4 threads on one handle, 60 writes: %ld checks, none late or failed",
       checks);
    jwtrev_revdb_close(db);
}

int
main(void)
{
    st_setup();
    test_siphash_and_filter();
    test_entry_check();
    test_batches();
    test_delta_bound();
    test_init_modes();
    test_lock_and_leftovers();
    test_threads();
    return tap_done();
}
