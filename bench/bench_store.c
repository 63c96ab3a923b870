/*
 * bench_store.c - the revocation store's benchmark helper (bench/store.sh).
 *
 *   bench_store gen N            N entries as JSON Lines on stdout
 *   bench_store lookup DIR N R   N positive and N negative in-process
 *                                lookups among R entries; p50/p99 of each
 *                                (ns), and the heap the handle added
 *   bench_store busy DIR S W R   lookups for S seconds while a forked
 *                                writer revokes W tokens a second; p50/p99
 *
 * Entry i of gen is a token entry of issuer ISS with jti "<i as 8 hex>-
 * 4b1d-4c5e-9f00-<i as 12 hex>" (a UUID's shape and size); every 100th is
 * a subject entry instead, every 10000th a key entry.  Lookups time the
 * whole jwtrev_revdb_check, new-version check included.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jwtrev_store.h"

#define ISS "https://id.example.com"

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
jti_of(uint64_t i, char *buf, size_t len)
{
    snprintf(buf, len, "%08llx-4b1d-4c5e-9f00-%012llx",
             (unsigned long long)(i * 2654435761u & 0xffffffffu),
             (unsigned long long)i);
}

static int
gen(uint64_t n)
{
    char jti[64];
    uint64_t i;

    for (i = 0; i < n; i++) {
        if (i % 10000 == 9999)
            printf("{\"kind\":\"key\",\"kid\":\"key-%llu\",\"revoked_at\":"
                   "1700000000,\"until\":0,\"reason\":\"rotated\"}\n",
                   (unsigned long long)i);
        else if (i % 100 == 99)
            printf("{\"kind\":\"subject\",\"iss\":\"" ISS "\",\"sub\":"
                   "\"user%llu\",\"before\":1700000000,\"revoked_at\":"
                   "1700000000,\"until\":0,\"reason\":\"logout-all\"}\n",
                   (unsigned long long)i);
        else {
            jti_of(i, jti, sizeof(jti));
            printf("{\"kind\":\"token\",\"iss\":\"" ISS "\",\"jti\":\"%s\","
                   "\"revoked_at\":1700000000,\"until\":4000000000,"
                   "\"reason\":\"logout\"}\n",
                   jti);
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* A token like the ones a verifier hands over: kid, iss, sub, jti, iat. */
static void
token_of(jwtrev_token *t, char *jti, size_t len, uint64_t i, int present)
{
    memset(t, 0, sizeof(*t));
    /* Absent tokens use indexes the generator never reached. */
    jti_of(present ? i : i + 100000000000ull, jti, len);
    t->kid = "signing-key-1";
    t->iss = ISS;
    t->sub = "someone";
    t->jti = jti;
    t->iat = 1800000000;
    t->has_iat = 1;
    memcpy(t->sighash, &i, sizeof(i));
}

/* n lookups of tokens present (or absent); latencies into lat. */
static int
run(jwtrev_revdb *db, uint64_t n, uint64_t range, int present, uint64_t *lat)
{
    jwtrev_token t;
    jwtrev_error err;
    char jti[64];
    uint64_t i, k, t0;
    int rc, want = present ? -JWTREV_ERR_REVOKED : 0;

    for (i = 0; i < n; i++) {
        k = (i * 7919 + 13) % range;
        if (present && k % 100 == 99)
            k--; /* every 100th index is a subject entry */
        token_of(&t, jti, sizeof(jti), k, present);
        t0 = now_ns();
        rc = jwtrev_revdb_check(db, &t, 1800000000, &err);
        lat[i] = now_ns() - t0;
        if (rc != want) {
            fprintf(stderr, "bench_store: lookup %llu: got %d, want %d: %s\n",
                    (unsigned long long)k, rc, want, err.detail);
            return 1;
        }
    }
    return 0;
}

static void
report(const char *name, uint64_t *lat, uint64_t n)
{
    qsort(lat, n, sizeof(*lat), cmp_u64);
    printf("%s p50_ns=%llu p99_ns=%llu\n", name, (unsigned long long)lat[n / 2],
           (unsigned long long)lat[n * 99 / 100]);
}

/* RssAnon of this process in kB: what a handle costs each process (the
 * mapped files are page cache, shared by every process that reads). */
static long
anon_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long kb = -1;

    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
            break;
    }
    if (f != NULL)
        fclose(f);
    return kb;
}

static int
lookup(const char *dir, uint64_t n, uint64_t range)
{
    uint64_t *pos = calloc(n, sizeof(*pos)), *neg = calloc(n, sizeof(*neg));
    jwtrev_revdb *db = NULL;
    jwtrev_error err;
    long anon0, anon;
    int rc = 1;

    if (pos == NULL || neg == NULL)
        goto done;
    /* Touched now, so that the heap measured below is the handle's. */
    memset(pos, 1, n * sizeof(*pos));
    memset(neg, 1, n * sizeof(*neg));
    anon0 = anon_kb();
    /* $BENCH_SNAPSHOTS: as an httpd child opens it (the daemon's
     * snapshot when a jwtrevd owns the store). */
    if (jwtrev_revdb_open_flags(
            dir, getenv("BENCH_SNAPSHOTS") != NULL ? JWTREV_REVDB_SNAPSHOTS : 0,
            &db, &err) != 0) {
        fprintf(stderr, "bench_store: %s\n", err.detail);
        goto done;
    }
    /* The first pass of each pays for page faults, not lookups. */
    if (run(db, n, range, 1, pos) != 0 || run(db, n, range, 0, neg) != 0 ||
        run(db, n, range, 1, pos) != 0 || run(db, n, range, 0, neg) != 0)
        goto done;
    anon = anon_kb() - anon0; /* before the sorts below allocate */
    report("positive", pos, n);
    report("negative", neg, n);
    printf("handle_anon_kb=%ld\n", anon);
    rc = 0;
done:
    jwtrev_revdb_close(db);
    free(pos);
    free(neg);
    return rc;
}

/* The writer of busy(): rate revocations a second until killed. */
static void
writer(const char *dir, unsigned rate)
{
    jwtrev_error err;
    jwtrev_entry e;
    char jti[64];
    uint64_t i, start = now_ns();
    struct timespec ts;

    for (i = 0;; i++) {
        snprintf(jti, sizeof(jti), "busy-%llu-%ld", (unsigned long long)i,
                 (long)getpid());
        memset(&e, 0, sizeof(e));
        e.kind = JWTREV_ENTRY_TOKEN;
        e.iss = ISS;
        e.iss_len = strlen(ISS);
        e.id = (const unsigned char *)jti;
        e.id_len = strlen(jti);
        e.revoked_at = 1800000000;
        e.until = 4000000000;
        if (jwtrev_store_put(dir, &e, &err) != 0) {
            fprintf(stderr, "bench_store: writer: %s\n", err.detail);
            _exit(1);
        }
        /* Keep to the schedule, not to a fixed sleep. */
        uint64_t due = start + (i + 1) * 1000000000ull / rate, t = now_ns();
        if (due > t) {
            ts.tv_sec = (time_t)((due - t) / 1000000000u);
            ts.tv_nsec = (long)((due - t) % 1000000000u);
            nanosleep(&ts, NULL);
        }
    }
}

/* Latencies of busy(): 10 ns buckets up to 1 ms, then one for the rest. */
#define HIST_STEP 10
#define HIST_N 100000

static uint64_t
hist_pct(const uint64_t *hist, uint64_t n, unsigned pct)
{
    uint64_t want = n * pct / 100, seen = 0;
    unsigned i;

    for (i = 0; i <= HIST_N; i++) {
        seen += hist[i];
        if (seen > want)
            return (uint64_t)i * HIST_STEP;
    }
    return (uint64_t)HIST_N * HIST_STEP;
}

static int
busy(const char *dir, unsigned secs, unsigned rate, uint64_t range)
{
    uint64_t *hist = calloc(HIST_N + 1, sizeof(*hist));
    uint64_t n = 0, end, t0, d;
    jwtrev_revdb *db;
    jwtrev_error err;
    jwtrev_token t;
    char jti[64];
    pid_t pid;
    int st;

    if (hist == NULL || jwtrev_revdb_open(dir, &db, &err) != 0)
        return 1;
    pid = fork();
    if (pid == 0)
        writer(dir, rate);
    end = now_ns() + (uint64_t)secs * 1000000000u;
    while ((t0 = now_ns()) < end) {
        token_of(&t, jti, sizeof(jti), (n * 7919) % range, n & 1);
        jwtrev_revdb_check(db, &t, 1800000000, &err);
        d = (now_ns() - t0) / HIST_STEP;
        hist[d < HIST_N ? d : HIST_N]++;
        if ((++n & 1023) == 0)
            usleep(200); /* a server between requests, not a spin loop */
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    printf("busy p50_ns=%llu p99_ns=%llu lookups=%llu\n",
           (unsigned long long)hist_pct(hist, n, 50),
           (unsigned long long)hist_pct(hist, n, 99), (unsigned long long)n);
    jwtrev_revdb_close(db);
    free(hist);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "gen") == 0)
        return gen(strtoull(argv[2], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "lookup") == 0)
        return lookup(argv[2], strtoull(argv[3], NULL, 10),
                      strtoull(argv[4], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "busy") == 0)
        return busy(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]),
                    strtoull(argv[5], NULL, 10));
    fprintf(stderr, "usage: bench_store gen N | lookup DIR N RANGE | busy "
                    "DIR SECS RATE RANGE\n");
    return 2;
}
