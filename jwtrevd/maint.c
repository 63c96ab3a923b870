/*
 * maint.c - the store's maintenance, off the request path: a thread that
 * folds the delta into the base once it passes fold_at changes and
 * purges every purge_interval (jwtrev_store_fold, which holds the
 * writers' lock only at its two ends).  A fold that fails (a disk too
 * full for a new base) leaves the writes working on a growing delta; the
 * daemon says so in its log and in status, and tries again.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "jwtrevd.h"

/* How often the thread looks at the delta. */
#define LOOK_EVERY_MS 1000

static long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
jd_maint_fold(jd *d, int64_t purge_now, uint64_t *dropped, jwtrev_error *err)
{
    jd_maint *m = &d->maint;
    long t0;
    int raced = 0, rc, tries;

    pthread_mutex_lock(&m->fold_lock);
    t0 = mono_ms();
    /* Another writer's compact (an admin's direct jwtrev compact) may win
     * the race: then fold what is left. */
    for (tries = 0; tries < 3; tries++) {
        rc = jwtrev_store_fold(d->conf.db, purge_now, NULL, dropped, &raced,
                               err);
        if (rc != 0 || !raced)
            break;
    }
    pthread_mutex_lock(&m->lock);
    if (rc == 0) {
        if (m->failing)
            jd_log(LOG_NOTICE, "fold: works again (after %lld s of failures)",
                   (long long)(time(NULL) - m->failing_since));
        m->failing = 0;
        m->last_error[0] = '\0';
        m->last_fold = (int64_t)time(NULL);
        m->last_fold_ms = mono_ms() - t0;
        m->folds++;
        if (purge_now != 0 && dropped != NULL)
            m->last_dropped = *dropped;
    } else {
        m->fold_failures++;
        if (!m->failing || strcmp(m->last_error, err->detail) != 0)
            jd_log(LOG_ERR,
                   "fold: %s; revocations still succeed, the delta grows "
                   "past its bound of %ld changes until a fold works "
                   "(free space for a copy of base.db?)",
                   err->detail, d->conf.fold_at);
        if (!m->failing)
            m->failing_since = (int64_t)time(NULL);
        m->failing = 1;
        snprintf(m->last_error, sizeof(m->last_error), "%s", err->detail);
    }
    pthread_mutex_unlock(&m->lock);
    pthread_mutex_unlock(&m->fold_lock);
    return rc;
}

/* Past the bound, or a purge due: fold (off the lock of m). */
static void
look(jd *d, int forced)
{
    jd_maint *m = &d->maint;
    jwtrev_store_stats s;
    jwtrev_error err;
    int64_t now = (int64_t)time(NULL), purge_now = 0;
    uint64_t dropped = 0;
    int due;

    pthread_mutex_lock(&m->lock);
    if (m->purge_at != 0 && now >= m->purge_at) {
        purge_now = now;
        m->purge_at = now + d->conf.purge_interval;
    }
    due = m->failing && now - m->last_fold < d->conf.fold_retry && !forced &&
          purge_now == 0;
    pthread_mutex_unlock(&m->lock);
    if (due)
        return; /* failing: wait before the next try */
    jwtrev_error_clear(&err);
    if (purge_now == 0 && (jwtrev_store_stats_get(d->conf.db, &s, &err) != 0 ||
                           s.recent < (uint64_t)d->conf.fold_at))
        return;
    if (jd_maint_fold(d, purge_now, &dropped, &err) == 0 && purge_now != 0)
        jd_log(LOG_INFO, "purge: %llu entries dropped",
               (unsigned long long)dropped);
    if (m->failing) {
        pthread_mutex_lock(&m->lock);
        m->last_fold = (int64_t)time(NULL); /* the time of the last try */
        pthread_mutex_unlock(&m->lock);
    }
}

void
jd_snapshot_refresh(jd *d)
{
    unsigned char id[JWTREV_STORE_SNAPSHOT_ID];
    char path[PATH_MAX];
    struct stat st;
    jwtrev_error err;
    int fd, old = -1;

    snprintf(path, sizeof(path), "%s/base.db", d->conf.db);
    if (lstat(path, &st) != 0)
        return;
    pthread_mutex_lock(&d->snap_lock);
    if (d->snap_fd >= 0 && st.st_ino == d->snap_st.st_ino &&
        st.st_ctim.tv_sec == d->snap_st.st_ctim.tv_sec &&
        st.st_ctim.tv_nsec == d->snap_st.st_ctim.tv_nsec) {
        pthread_mutex_unlock(&d->snap_lock);
        return; /* still the base it was made of */
    }
    pthread_mutex_unlock(&d->snap_lock);
    jwtrev_error_clear(&err);
    if (jwtrev_store_snapshot_make(d->conf.db, d->conf.state_dir, &fd, id,
                                   &err) != 0) {
        jd_log(LOG_WARNING, "snapshot of base.db: %s (readers read the file)",
               err.detail);
        return;
    }
    pthread_mutex_lock(&d->snap_lock);
    old = d->snap_fd;
    d->snap_fd = fd;
    memcpy(d->snap_id, id, sizeof(id));
    d->snap_st = st;
    pthread_mutex_unlock(&d->snap_lock);
    /* Readers that mapped the old one keep it until they let it go. */
    if (old >= 0)
        close(old);
}

static void *
run(void *arg)
{
    jd *d = arg;
    jd_maint *m = &d->maint;
    struct timespec until;
    int forced;

    for (;;) {
        pthread_mutex_lock(&m->lock);
        if (!m->stop && !m->fold_now) {
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += LOOK_EVERY_MS / 1000;
            pthread_cond_timedwait(&m->wake, &m->lock, &until);
        }
        forced = m->fold_now;
        m->fold_now = 0;
        if (m->stop) {
            pthread_mutex_unlock(&m->lock);
            return NULL;
        }
        pthread_mutex_unlock(&m->lock);
        look(d, forced);
        jd_snapshot_refresh(d);
    }
}

int
jd_maint_start(jd *d, jwtrev_error *err)
{
    jd_maint *m = &d->maint;
    int e;

    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->fold_lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    pthread_cond_init(&m->done, NULL);
    if (d->conf.purge_interval > 0)
        m->purge_at = (int64_t)time(NULL) + d->conf.purge_interval;
    e = pthread_create(&m->thread, NULL, run, d);
    if (e != 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL,
                           "cannot start the maintenance thread: %s",
                           strerror(e));
    m->started = 1;
    return 0;
}

void
jd_maint_stop(jd *d)
{
    jd_maint *m = &d->maint;

    if (!m->started)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = 1;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    m->started = 0;
}
