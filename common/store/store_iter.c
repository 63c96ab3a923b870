/*
 * store_iter.c - reading the whole store for list, dump and stats: the
 * base and the delta merged in key order, from one consistent pair of
 * files and without the writers' lock (read access is enough).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "storep.h"

#define PROGRESS_EVERY 65536

struct walk {
    storep_cursor b, d;
    int b_has, d_has;
};

static int
step(storep_cursor *c, int *has, jwtrev_error *err)
{
    int rc = storep_cursor_next(c, err);

    *has = rc == 1;
    return rc < 0 ? rc : 0;
}

static uint64_t
total_of(const storep_file *base)
{
    uint64_t n = 0;
    int k;

    for (k = JWTREV_ENTRY_TOKEN; k <= JWTREV_ENTRY_KEY; k++)
        n += base->count[k] > 0 ? (uint64_t)base->count[k] : 0;
    return n;
}

/*
 * The next merged entry into *out (valid until the next call): 1, or 0 at
 * the end.  The delta's record wins over the base's; tombstones hide.
 */
static int
walk_next(struct walk *w, storep_rec *out, int *pending, jwtrev_error *err)
{
    int c, rc;

    for (;;) {
        /* Advance what the previous call handed out. */
        if (*pending & 1 && (rc = step(&w->b, &w->b_has, err)) != 0)
            return rc;
        if (*pending & 2 && (rc = step(&w->d, &w->d_has, err)) != 0)
            return rc;
        *pending = 0;
        if (!w->b_has && !w->d_has)
            return 0;
        c = !w->d_has   ? -1
            : !w->b_has ? 1
                        : storep_rec_cmp(&w->b.rec.e, &w->d.rec.e);
        if (c <= 0)
            *pending |= 1;
        if (c >= 0)
            *pending |= 2;
        *out = c < 0 ? w->b.rec : w->d.rec;
        if (!(out->flags & STOREP_TOMBSTONE))
            return 1;
    }
}

int
jwtrev_store_foreach(const char *dir, unsigned kinds, jwtrev_store_visit_fn *fn,
                     void *arg, const jwtrev_store_progress *p,
                     jwtrev_error *err)
{
    storep_file *base, *delta;
    struct walk w;
    storep_rec r;
    uint64_t seen = 0, total;
    int rc, pending = 0;

    rc = storep_open_pair(dir, 0, &base, &delta, err);
    if (rc != 0)
        return rc;
    memset(&w, 0, sizeof(w));
    total = total_of(base);
    rc = storep_cursor_open(base, &w.b, err);
    if (rc == 0 && delta != NULL)
        rc = storep_cursor_open(delta, &w.d, err);
    if (rc == 0)
        rc = step(&w.b, &w.b_has, err);
    if (rc == 0 && delta != NULL)
        rc = step(&w.d, &w.d_has, err);
    while (rc == 0 && (rc = walk_next(&w, &r, &pending, err)) == 1) {
        rc = kinds & JWTREV_ENTRY_BIT(r.e.kind) ? fn(arg, &r.e) : 0;
        if (p != NULL && p->fn != NULL && ++seen % PROGRESS_EVERY == 0)
            p->fn(p->arg, "reading", seen < total ? seen : total, total);
    }
    storep_cursor_close(&w.b);
    storep_cursor_close(&w.d);
    storep_file_close(base);
    storep_file_close(delta);
    return rc;
}

static int
read_gen(const char *dir, uint64_t *out, jwtrev_error *err)
{
    storep_dir sd;
    struct stat st;
    int fd, rc = storep_dir_check(dir, &sd, err);

    if (rc == 0)
        rc = storep_open_in(&sd, "gen", O_RDONLY, &fd, &st, err);
    if (rc != 0)
        return rc;
    rc = storep_gen_read(fd, dir, out, err);
    close(fd);
    return rc;
}

/* The number of records in the delta (small: bounded). */
static int
count_records(const storep_file *f, uint64_t *out, jwtrev_error *err)
{
    storep_cursor c;
    uint64_t n = 0;
    int rc = storep_cursor_open(f, &c, err);

    while (rc == 0 && (rc = storep_cursor_next(&c, err)) == 1) {
        n++;
        rc = 0;
    }
    storep_cursor_close(&c);
    if (rc == 0)
        *out = n;
    return rc;
}

int
jwtrev_store_stats_get(const char *dir, jwtrev_store_stats *out,
                       jwtrev_error *err)
{
    jwtrev_store_stats s;
    storep_file *base, *delta;
    int64_t n;
    int k, rc;

    memset(&s, 0, sizeof(s));
    rc = storep_open_pair(dir, 0, &base, &delta, err);
    if (rc != 0)
        return rc;
    for (k = JWTREV_ENTRY_TOKEN; k <= JWTREV_ENTRY_KEY; k++) {
        n = base->count[k] + (delta != NULL ? delta->count[k] : 0);
        s.entries[k] = n > 0 ? (uint64_t)n : 0;
        s.entries[0] += s.entries[k];
    }
    s.base_bytes = base->size;
    s.delta_bytes = delta != NULL ? delta->size : 0;
    s.filter_bytes =
        base->bloom.blocks != NULL
            ? STOREP_BLOOM_HEADER + (size_t)base->bloom.nblocks * 64
            : 0;
    s.issuers = base->n_iss;
    if (delta != NULL)
        rc = count_records(delta, &s.recent, err);
    if (rc == 0)
        rc = read_gen(dir, &s.generation, err);
    storep_file_close(base);
    storep_file_close(delta);
    if (rc == 0)
        *out = s;
    return rc;
}
