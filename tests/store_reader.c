/*
 * store_reader.c - a reader process for the store's concurrency and kill
 * tests: it loops jwtrev_revdb_check as an httpd child would.
 *
 *   store_reader watch DIR N SECONDS
 *       ids c0..c<N-1> (issuer "t") until all are revoked or time is
 *       up; prints per id "ID LAST_NEG FIRST_POS": the CLOCK_REALTIME ns
 *       at which the last "not revoked" check started and at which the
 *       first "revoked" one did (0: never)
 *   store_reader hammer DIR SECONDS
 *       two threads check p0..p99 (issuer "k", preloaded: must always be
 *       revoked) and n0..n99 (never revoked) for SECONDS or until SIGTERM;
 *       a watchdog ends the process with status 3 when a check takes over
 *       5 s.  Prints
 *       "calls C wrong W errors E max_us M"
 *   store_reader verify DIR FILE
 *       every id in FILE (one a line, issuer "w") must be revoked; prints
 *       "checked C missing M"
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jwtrev.h"

#define BLOCKED_NS 5000000000LL

static volatile sig_atomic_t stop; /* SIGTERM: finish and report */

static void
on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t
real_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
check(jwtrev_revdb *db, const char *iss, const char *jti, jwtrev_error *err)
{
    jwtrev_token t;

    memset(&t, 0, sizeof(t));
    t.iss = iss;
    t.jti = jti;
    t.sub = "reader";
    t.iat = 1;
    t.has_iat = 1;
    return jwtrev_revdb_check(db, &t, 1000, err);
}

static int
open_db(const char *dir, jwtrev_revdb **db)
{
    jwtrev_error err;

    if (jwtrev_revdb_open(dir, db, &err) != 0) {
        fprintf(stderr, "store_reader: %s\n", err.detail);
        return -1;
    }
    return 0;
}

static int
watch(const char *dir, int n, int seconds)
{
    int64_t *neg = calloc((size_t)n, sizeof(*neg));
    int64_t *pos = calloc((size_t)n, sizeof(*pos));
    int64_t end = mono_ns() + (int64_t)seconds * 1000000000LL, t0;
    jwtrev_revdb *db;
    jwtrev_error err;
    char id[32];
    int i, left = n, rc, errors = 0;

    if (neg == NULL || pos == NULL || open_db(dir, &db) != 0) {
        free(neg);
        free(pos);
        return 1;
    }
    while (left > 0 && mono_ns() < end) {
        for (i = 0; i < n; i++) {
            if (pos[i] != 0)
                continue;
            snprintf(id, sizeof(id), "c%d", i);
            t0 = real_ns();
            rc = check(db, "t", id, &err);
            if (rc == 0)
                neg[i] = t0;
            else if (rc == -JWTREV_ERR_REVOKED) {
                pos[i] = t0;
                left--;
            } else if (errors++ == 0)
                fprintf(stderr, "store_reader: %s\n", err.detail);
        }
    }
    for (i = 0; i < n; i++)
        printf("c%d %lld %lld\n", i, (long long)neg[i], (long long)pos[i]);
    printf("errors %d\n", errors);
    jwtrev_revdb_close(db);
    free(neg);
    free(pos);
    return 0;
}

struct hammer {
    jwtrev_revdb *db;
    int64_t end;
    int64_t busy_since; /* mono ns when the current call started, or 0 */
    long calls, wrong, errors, max_ns;
    unsigned seed;
    int finished;
};

static void *
hammer_loop(void *arg)
{
    struct hammer *h = arg;
    jwtrev_error err;
    char id[16];
    int64_t t0, d;
    int k, rc, want;

    while ((t0 = mono_ns()) < h->end && !stop) {
        k = (int)(rand_r(&h->seed) % 200);
        snprintf(id, sizeof(id), "%c%d", k < 100 ? 'p' : 'n', k % 100);
        want = k < 100 ? -JWTREV_ERR_REVOKED : 0;
        __atomic_store_n(&h->busy_since, t0, __ATOMIC_RELEASE);
        rc = check(h->db, "k", id, &err);
        __atomic_store_n(&h->busy_since, 0, __ATOMIC_RELEASE);
        d = mono_ns() - t0;
        h->max_ns = d > h->max_ns ? d : h->max_ns;
        h->calls++;
        if (rc == -JWTREV_ERR_DB_ERROR && h->errors++ == 0)
            fprintf(stderr, "store_reader: %s\n", err.detail);
        else if (rc != want && rc != -JWTREV_ERR_DB_ERROR)
            h->wrong++;
        if (h->calls % 64 == 0)
            usleep(200); /* a server between requests: leave the writer
                            some of this busy machine */
    }
    __atomic_store_n(&h->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* A reader that blocks would hang the test: end it loudly instead. */
static void
watchdog(struct hammer *h, int n)
{
    int64_t since;
    int i, running;

    do {
        usleep(100000);
        running = 0;
        for (i = 0; i < n; i++) {
            since = __atomic_load_n(&h[i].busy_since, __ATOMIC_ACQUIRE);
            if (since != 0 && mono_ns() - since > BLOCKED_NS) {
                printf("blocked: a check has not returned for 5 s\n");
                _exit(3);
            }
            running |= !__atomic_load_n(&h[i].finished, __ATOMIC_ACQUIRE);
        }
    } while (running);
}

static int
hammer(const char *dir, int seconds)
{
    struct hammer h[2];
    pthread_t th[2];
    jwtrev_revdb *db;
    int i;

    if (open_db(dir, &db) != 0)
        return 1;
    signal(SIGTERM, on_term);
    memset(h, 0, sizeof(h));
    for (i = 0; i < 2; i++) {
        h[i].db = db;
        h[i].end = mono_ns() + (int64_t)seconds * 1000000000LL;
        h[i].seed = (unsigned)getpid() * 2 + (unsigned)i;
        pthread_create(&th[i], NULL, hammer_loop, &h[i]);
    }
    watchdog(h, 2);
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("calls %ld wrong %ld errors %ld max_us %ld\n",
           h[0].calls + h[1].calls, h[0].wrong + h[1].wrong,
           h[0].errors + h[1].errors,
           (h[0].max_ns > h[1].max_ns ? h[0].max_ns : h[1].max_ns) / 1000);
    jwtrev_revdb_close(db);
    return 0;
}

static int
verify(const char *dir, const char *file)
{
    FILE *f = fopen(file, "r");
    jwtrev_revdb *db;
    jwtrev_error err;
    char line[128];
    long checked = 0, missing = 0;

    if (f == NULL || open_db(dir, &db) != 0) {
        if (f != NULL)
            fclose(f);
        return 1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0')
            continue;
        checked++;
        if (check(db, "w", line, &err) != -JWTREV_ERR_REVOKED) {
            if (missing++ < 5)
                printf("missing %s\n", line);
        }
    }
    fclose(f);
    printf("checked %ld missing %ld\n", checked, missing);
    jwtrev_revdb_close(db);
    return 0;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "watch") == 0)
        return watch(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "hammer") == 0)
        return hammer(argv[2], atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "verify") == 0)
        return verify(argv[2], argv[3]);
    fprintf(stderr, "usage: store_reader watch DIR N SECONDS | hammer DIR "
                    "SECONDS | verify DIR FILE\n");
    return 2;
}
