/*
 * fleet.c - jwtrevd's side of fleet mode (docs/design.md 7.2): local
 * writes queued durably for the fleet before they are made, the log's
 * changes applied to the local store in batches, the live set a new
 * host starts from written as one base, the state in status.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "jwtrevd.h"

/* Changes of the log applied in one store write at most. */
#define APPLY_CHUNK 1024

static void
fleet_log(void *arg, int level, const char *msg)
{
    (void)arg;
    jd_log(level, "fleet: %s", msg);
}

/* The live set of a new host: collected, written once at its end. */
static int
bootstrap(jd *d, const fleet_change *c, size_t n, int flags, jwtrev_error *err)
{
    size_t i;
    int rc = 0;

    if ((flags & FLEET_BOOTSTRAP_FIRST) || d->boot == NULL) {
        jwtrev_store_batch_free(d->boot);
        d->boot = NULL;
        if (jwtrev_store_batch_new(&d->boot) != 0)
            return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    for (i = 0; i < n && rc == 0; i++) {
        if (c[i].op == FLEET_ADD)
            rc = jwtrev_store_batch_add(
                d->boot, &c[i].e, jwtrev_store_batch_count(d->boot) + 1, err);
    }
    if (rc == 0 && (flags & FLEET_BOOTSTRAP_LAST)) {
        size_t total = jwtrev_store_batch_count(d->boot);

        if (total > 0) {
            pthread_mutex_lock(&d->maint.fold_lock);
            rc = jwtrev_store_batch_commit(d->conf.db, d->boot, NULL, err);
            pthread_mutex_unlock(&d->maint.fold_lock);
        }
        if (rc == 0)
            jd_log(LOG_NOTICE,
                   "fleet: in step with the fleet's live set "
                   "(%zu entries)",
                   total);
        jwtrev_store_batch_free(d->boot);
        d->boot = NULL;
    }
    return rc;
}

static int
apply(void *arg, const fleet_change *c, size_t n, int flags, jwtrev_error *err)
{
    jwtrev_store_change ch[APPLY_CHUNK];
    jd *d = arg;
    size_t i, k;
    int rc = 0;

    if (flags & FLEET_BOOTSTRAP)
        return bootstrap(d, c, n, flags, err);
    for (i = 0; i < n && rc == 0; i += k) {
        for (k = 0; k < APPLY_CHUNK && i + k < n; k++) {
            memset(&ch[k], 0, sizeof(ch[k]));
            ch[k].remove = c[i + k].op == FLEET_REMOVE;
            ch[k].e = c[i + k].e;
        }
        rc = jwtrev_store_apply(d->conf.db, ch, k, err);
    }
    if (rc != 0)
        jd_log(LOG_ERR, "fleet: applying %zu changes of the log: %s", n,
               err->detail);
    return rc;
}

int
jd_fleet_start(jd *d, jwtrev_error *err)
{
    fleet_config cfg;

    if (d->conf.fleet == NULL)
        return 0;
    memset(&cfg, 0, sizeof(cfg));
    cfg.conninfo = d->conf.fleet;
    cfg.host_id = d->conf.host_id;
    cfg.state_dir = d->conf.state_dir;
    cfg.apply = apply;
    cfg.log = fleet_log;
    cfg.arg = d;
    return fleet_open(&cfg, &d->fleet, err);
}

void
jd_fleet_stop(jd *d)
{
    if (d->fleet != NULL)
        fleet_close(d->fleet);
    d->fleet = NULL;
    jwtrev_store_batch_free(d->boot);
    d->boot = NULL;
}

int
jd_fleet_enqueue(jd *d, jd_write **w, size_t n, jwtrev_error *err)
{
    fleet_change c[JD_GROUP_MAX] = {0};
    uint64_t ticket = 0;
    size_t i;
    int rc;

    if (d->fleet == NULL)
        return 0;
    for (i = 0; i < n; i++) {
        c[i].op = w[i]->ch.remove ? FLEET_REMOVE : FLEET_ADD;
        c[i].e = w[i]->ch.e;
    }
    rc = fleet_enqueue(d->fleet, c, n, &ticket, err);
    for (i = 0; i < n; i++)
        w[i]->ticket = ticket;
    return rc;
}

int
jd_fleet_wait(jd *d, uint64_t ticket, long timeout_ms)
{
    return d->fleet == NULL ||
           fleet_wait_sent(d->fleet, ticket, timeout_ms) == 0;
}

json_t *
jd_fleet_status(jd *d)
{
    fleet_status s;

    if (d->fleet == NULL)
        return json_null();
    fleet_status_get(d->fleet, &s);
    return json_pack("{s:b, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:I, "
                     "s:s, s:s}",
                     "connected", s.connected, "bootstrapped", s.bootstrapped,
                     "server", s.server, "position", s.position, "outbox",
                     (json_int_t)s.outbox, "applied", (json_int_t)s.applied,
                     "skipped", (json_int_t)s.skipped, "refused",
                     (json_int_t)s.refused, "lag_seconds", s.lag_seconds,
                     "last_contact", (json_int_t)s.last_contact, "last_error",
                     s.last_error, "host_id", d->conf.host_id);
}
