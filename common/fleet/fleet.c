/*
 * fleet.c - the handle of jwtrev_fleet.h and its thread.
 *
 * The thread's round: connect when there is no session (backing off, up
 * to FLEET_BACKOFF_MAX_MS, while the database is away), send the whole
 * outbox, bootstrap when there is no position, else fetch what the log
 * gained when woken (a notification) or when the poll timer is due;
 * then wait on the socket and the wake-up fd.  Wake-ups are coalesced
 * to one fetch per FLEET_COALESCE_MS whatever the rate of notifications;
 * the timer (FLEET_POLL_MS) bounds what a lost notification costs, and
 * is all a standby gets (it cannot LISTEN).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fleetp.h"

#define FLEET_POLL_MS 1000
#define FLEET_COALESCE_MS 50
#define FLEET_BACKOFF_MIN_MS 100
#define FLEET_BACKOFF_MAX_MS 2000
#define FLEET_APPLY_RETRY_MS 1000
#define FLEET_STANDBY_RECHECK_MS 10000
#define FLEET_LOG_REPEAT_MS 60000

int64_t
fleetp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
fleetp_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fleetp_log(fleet *f, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (f->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    f->log(f->arg, level, msg);
}

void
fleetp_failed(fleet *f, int level, const char *fmt, ...)
{
    char msg[sizeof(f->st.last_error)];
    int64_t now = fleetp_now_ms();
    int repeat;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&f->mu);
    /* The same failure again and again (a database that is away) is
     * logged once a minute. */
    repeat = strcmp(msg, f->st.last_error) == 0 &&
             now - f->failed_logged_ms < FLEET_LOG_REPEAT_MS;
    snprintf(f->st.last_error, sizeof(f->st.last_error), "%s", msg);
    if (!repeat)
        f->failed_logged_ms = now;
    pthread_mutex_unlock(&f->mu);
    if (level > 0 && !repeat)
        fleetp_log(f, level, "%s", msg);
}

int
fleetp_stopping(fleet *f)
{
    int s;

    pthread_mutex_lock(&f->mu);
    s = f->stop;
    pthread_mutex_unlock(&f->mu);
    return s;
}

static void
wake(fleet *f)
{
    uint64_t one = 1;

    if (write(f->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return; /* a full counter wakes the thread just as well */
}

/* Sleep up to ms, or until woken. */
static void
nap(fleet *f, int64_t ms)
{
    struct pollfd p = {f->wake_fd, POLLIN, 0};
    uint64_t v;

    if (poll(&p, 1, (int)ms) > 0 && read(f->wake_fd, &v, sizeof(v)) < 0)
        return;
}

static uint64_t
pending(fleet *f)
{
    uint64_t n;

    pthread_mutex_lock(&f->mu);
    n = f->ob.pending;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/*
 * One round on a session: send, then bootstrap or follow when due.
 * 0; -1 the session failed (it is dropped); -2 apply failed.
 */
static int
round_trip(fleet *f)
{
    int64_t now = fleetp_now_ms(), since;

    if (!f->standby && fleetp_send(f) != 0) {
        fleetp_disconnect(f);
        return -1;
    }
    if (now < f->retry_apply_ms)
        return 0;
    if (f->position == NULL)
        return fleetp_bootstrap(f);
    since = now - f->last_fetch_ms;
    if ((f->notified && since >= FLEET_COALESCE_MS) || since >= FLEET_POLL_MS)
        return fleetp_follow(f);
    if (f->standby && now - f->connected_ms >= FLEET_STANDBY_RECHECK_MS) {
        /* look for a primary again */
        fleetp_disconnect(f);
        f->retry_ms = now;
        return 1;
    }
    return 0;
}

/* Wait for the next thing to do on the session. */
static int
idle(fleet *f)
{
    int64_t now = fleetp_now_ms(), until = f->last_fetch_ms + FLEET_POLL_MS;

    if (f->notified && f->last_fetch_ms + FLEET_COALESCE_MS < until)
        until = f->last_fetch_ms + FLEET_COALESCE_MS;
    if (f->retry_apply_ms > now && f->retry_apply_ms < until)
        until = f->retry_apply_ms;
    if (!f->standby && pending(f) > 0)
        until = now;
    if (fleetp_wait(f, (long)(until > now ? until - now : 0)) != 0) {
        fleetp_disconnect(f);
        return -1;
    }
    return 0;
}

static int64_t
backoff(fleet *f)
{
    f->backoff_ms =
        f->backoff_ms == 0 ? FLEET_BACKOFF_MIN_MS : f->backoff_ms * 2;
    if (f->backoff_ms > FLEET_BACKOFF_MAX_MS)
        f->backoff_ms = FLEET_BACKOFF_MAX_MS;
    /* up to a fifth more, so that a fleet does not come back at once */
    return f->backoff_ms +
           (int64_t)(rand_r(&f->seed) % (f->backoff_ms / 5 + 1));
}

static void *
fleet_main(void *arg)
{
    fleet *f = arg;
    int64_t now;
    int rc;

    while (!fleetp_stopping(f)) {
        now = fleetp_now_ms();
        if (f->pg == NULL && now < f->retry_ms) {
            nap(f, f->retry_ms - now);
            continue;
        }
        if (f->pg == NULL && fleetp_connect(f) != 0) {
            f->retry_ms = fleetp_now_ms() + backoff(f);
            continue;
        }
        rc = round_trip(f);
        if (rc == -1) {
            f->retry_ms = fleetp_now_ms() + backoff(f);
            continue;
        }
        if (rc == -2)
            f->retry_apply_ms = fleetp_now_ms() + FLEET_APPLY_RETRY_MS;
        if (rc == 0)
            f->backoff_ms = 0;
        if (f->pg != NULL && idle(f) != 0)
            f->retry_ms = fleetp_now_ms() + backoff(f);
    }
    fleetp_disconnect(f);
    return NULL;
}

static int
copy_config(fleet *f, const fleet_config *cfg, jwtrev_error *err)
{
    if (cfg->conninfo == NULL || cfg->host_id == NULL ||
        cfg->host_id[0] == '\0' || cfg->state_dir == NULL || cfg->apply == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "fleet: conninfo, host_id, state_dir and apply "
                           "are required");
    if (strlen(cfg->host_id) > 255)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "fleet: host_id is longer than 255 bytes");
    f->conninfo = strdup(cfg->conninfo);
    f->host_id = strdup(cfg->host_id);
    f->state_dir = strdup(cfg->state_dir);
    f->apply = cfg->apply;
    f->log = cfg->log;
    f->arg = cfg->arg;
    if (f->conninfo == NULL || f->host_id == NULL || f->state_dir == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    return 0;
}

static int
open_state(fleet *f, jwtrev_error *err)
{
    const char *why;
    off_t dropped = 0;
    int rc;

    rc = fleetp_outbox_open(&f->ob, f->state_dir, &dropped, err);
    if (rc != 0)
        return rc;
    if (dropped > 0)
        fleetp_log(f, LOG_WARNING,
                   "outbox: dropped %lld bytes of a torn record at its end "
                   "(a crash while writing; that change was never "
                   "acknowledged)",
                   (long long)dropped);
    rc = fleetp_position_load(f->state_dir, &f->position, f->position_epoch,
                              sizeof(f->position_epoch), &why, err);
    if (rc < 0)
        return rc;
    if (rc == 1 && strcmp(why, "no position yet") != 0)
        fleetp_log(f, LOG_WARNING, "%s: starting from the live set", why);
    f->st.bootstrapped = f->position != NULL;
    if (f->position != NULL)
        snprintf(f->st.position, sizeof(f->st.position), "%s", f->position);
    return 0;
}

static void
free_handle(fleet *f)
{
    if (f->wake_fd >= 0)
        close(f->wake_fd);
    fleetp_outbox_close(&f->ob);
    pthread_cond_destroy(&f->sent_cv);
    pthread_mutex_destroy(&f->mu);
    free(f->position);
    free(f->sendbuf);
    free(f->conninfo);
    free(f->host_id);
    free(f->state_dir);
    free(f);
}

int
fleet_open(const fleet_config *cfg, fleet **out, jwtrev_error *err)
{
    pthread_condattr_t ca;
    fleet *f = calloc(1, sizeof(*f));
    int rc;

    if (f == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    f->ob.fd = -1;
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->sent_cv, &ca);
    pthread_condattr_destroy(&ca);
    f->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    f->seed = (unsigned)getpid() ^ (unsigned)fleetp_wall_ms();
    f->in_step_ms = fleetp_now_ms();
    if (f->wake_fd < 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "eventfd: %s",
                         strerror(errno));
        goto fail;
    }
    if ((rc = copy_config(f, cfg, err)) != 0 || (rc = open_state(f, err)) != 0)
        goto fail;
    if (pthread_create(&f->thread, NULL, fleet_main, f) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "cannot start a thread");
        goto fail;
    }
    *out = f;
    return 0;
fail:
    free_handle(f);
    return rc;
}

int
fleet_enqueue(fleet *f, const fleet_change *c, size_t n, uint64_t *ticket,
              jwtrev_error *err)
{
    fleet_change *copy = malloc((n > 0 ? n : 1) * sizeof(*copy));
    int64_t now = fleetp_wall_ms() / 1000;
    uint64_t last = 0;
    size_t i;
    int rc = 0;

    if (copy == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 0; i < n && rc == 0; i++) {
        copy[i] = c[i];
        if (c[i].op == FLEET_REMOVE && c[i].e.revoked_at == 0)
            copy[i].e.revoked_at = now;
        if (c[i].op != FLEET_ADD && c[i].op != FLEET_REMOVE)
            rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                             "fleet: unknown op %d", (int)c[i].op);
        else
            rc = jwtrev_entry_check(&copy[i].e, err);
    }
    if (rc == 0 && n > 0) {
        pthread_mutex_lock(&f->mu);
        rc = fleetp_outbox_append(&f->ob, copy, n, &last, err);
        pthread_mutex_unlock(&f->mu);
        if (rc == 0)
            wake(f);
    }
    free(copy);
    if (rc == 0 && ticket != NULL)
        *ticket = last;
    return rc;
}

int
fleet_wait_sent(fleet *f, uint64_t ticket, long timeout_ms)
{
    struct timespec ts;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (timeout_ms >= 0) {
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (timeout_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
    }
    pthread_mutex_lock(&f->mu);
    while (f->ob.sent_seq < ticket && rc == 0)
        rc = timeout_ms < 0 ? pthread_cond_wait(&f->sent_cv, &f->mu)
                            : pthread_cond_timedwait(&f->sent_cv, &f->mu, &ts);
    rc = f->ob.sent_seq >= ticket ? 0 : -1;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void
fleet_status_get(fleet *f, fleet_status *out)
{
    int64_t now = fleetp_now_ms(), age;

    pthread_mutex_lock(&f->mu);
    *out = f->st;
    out->outbox = f->ob.pending;
    age = now - f->in_step_ms;
    /* In step: following, and the last fetch is recent.  Else the age
     * of the last moment the host was known to be in step. */
    out->lag_seconds = out->bootstrapped && (out->connected || f->standby_up) &&
                               age < 2 * FLEET_POLL_MS + FLEET_COALESCE_MS
                           ? 0
                           : (double)age / 1000.0;
    pthread_mutex_unlock(&f->mu);
}

void
fleet_close(fleet *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_mutex_unlock(&f->mu);
    wake(f);
    pthread_join(f->thread, NULL);
    free_handle(f);
}
