/*
 * tests/fleet/drv.h - the fleet driver's helpers (drv.c) for its cases
 * (tests/test_fleet.c).
 */
#ifndef JWTREV_TEST_FLEET_DRV_H
#define JWTREV_TEST_FLEET_DRV_H

#include <pthread.h>
#include <stdint.h>

#include "jwtrev_fleet.h"

#define ISS "https://iss.test"
#define WAIT_MS 8000

struct got {
    int op, kind, bootstrap;
    char *iss, *id, *reason;
    size_t id_len;
    int64_t revoked_at, until, not_before;
};

struct host {
    const char *name;
    char dir[512];
    fleet *f;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct got *got;
    size_t n, cap;
    int fail_apply; /* refuse this many batches */
    unsigned applies, boot_first, boot_last;
    char logs[8192]; /* the log lines, for a look */
};

/* the scratch directory: each host's state directory is under it */
extern const char *tmpdir;

/* Open h as host name (state directory tmpdir/dir, or tmpdir/name). */
int host_open(struct host *h, const char *name, const char *conninfo,
              const char *dir);
void host_close(struct host *h);
/* Forget what h got (after host_close). */
void host_free(struct host *h);

/* Distinct ids starting with prefix that h got with op (0: any), boot
 * (1 in a bootstrap, 0 following, -1 either). */
size_t count(struct host *h, const char *prefix, int op, int boot);

/* Wait until h got want distinct ids of prefix with op: the
 * milliseconds it took, or -1 after ms. */
long wait_count(struct host *h, const char *prefix, int op, size_t want,
                long ms);

/* The last change h got for id, into *out (its texts h's): 0 or -1. */
int last_of(struct host *h, const char *id, struct got *out);

/* The last change h got of kind, as last_of. */
int last_of_kind(struct host *h, int kind, struct got *out);

/* 1 when a log line of h holds text. */
int logged(struct host *h, const char *text);

void msleep(long ms);

/* Poll h's status until fn says yes (1) or ms passed (0). */
int wait_status(struct host *h, int (*fn)(const fleet_status *), long ms,
                fleet_status *st);
int st_booted(const fleet_status *s);
int st_down(const fleet_status *s);
int st_drained(const fleet_status *s);
int st_refused(const fleet_status *s);

/* A token entry of issuer ISS. */
fleet_change token(const char *id, int64_t revoked_at, int64_t until);

/* Enqueue c on h: the ticket (0 on failure, reported). */
uint64_t enqueue1(struct host *h, fleet_change c);

/* Enqueue PREFIX0..PREFIX(n-1), one call each: the last ticket. */
uint64_t enqueue_n(struct host *h, const char *prefix, int n);

/* Enqueue PREFIX0..PREFIX(n-1), per_call in each call: 0 or -1. */
int enqueue_block(struct host *h, const char *prefix, int n, int per_call);

/* $name, or exit 2 when it is not set. */
const char *env(const char *name);

/* One statement on a session of its own: its SQLSTATE ("" success,
 * "conn" no session); the first value into val when given. */
const char *sql(const char *conninfo, const char *q, char *val, size_t size);

/* A number from the superuser's query, or -1. */
long sql_long(const char *q);

#endif /* JWTREV_TEST_FLEET_DRV_H */
