/*
 * outbox.c - the host's durable queue of changes for the fleet (fleetp.h
 * describes the file).  A change is in it, fsynced, before the core
 * applies it locally; it leaves only once the database committed it.
 * After a crash a torn record can only be at the end: the checksum or
 * the length finds it and it is cut off.  Sequences only grow, across
 * rewrites too (the header carries the next one), so that the
 * database's UNIQUE (role, origin, origin_seq) never mistakes a new change
 * for a resent one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleetp.h"

#define OB_FRAME 8                /* length, checksum */
#define OB_HEADER_LEN (1 + 8 + 8) /* 'H', magic, next sequence */
#define OB_CHANGE_FIXED (1 + 8 + 1 + 1 + 2 + 2 + 2 + 3 * 8)
#define OB_RECORD_MAX 4096 /* more is damage */
#define OB_TRIM_BYTES (1 << 20)
#define OB_TRIM_LEFT (256 << 10)
static const char ob_magic[8] = {'J', 'W', 'T', 'R', 'F', 'O', 'B', '1'};

uint32_t
fleetp_crc32c(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    int k;

    crc = ~crc;
    while (n-- > 0) {
        crc ^= *b++;
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void
fleetp_put_be(unsigned char *p, uint64_t v, int bytes)
{
    int i;

    for (i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

uint64_t
fleetp_get_be(const void *p, int bytes)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    int i;

    for (i = 0; i < bytes; i++)
        v = v << 8 | b[i];
    return v;
}

/* Frame len payload bytes at p + OB_FRAME: length and checksum first. */
static void
frame(unsigned char *p, size_t len)
{
    fleetp_put_be(p, len, 4);
    fleetp_put_be(p + 4,
                  fleetp_crc32c(fleetp_crc32c(0, p, 4), p + OB_FRAME, len), 4);
}

static size_t
change_size(const fleet_change *c)
{
    return OB_FRAME + OB_CHANGE_FIXED + c->e.iss_len + c->e.id_len +
           c->e.reason_len;
}

static size_t
encode_change(unsigned char *p, uint64_t seq, const fleet_change *c)
{
    const jwtrev_entry *e = &c->e;
    unsigned char *q = p + OB_FRAME;
    size_t len = OB_CHANGE_FIXED + e->iss_len + e->id_len + e->reason_len;

    *q++ = 'C';
    fleetp_put_be(q, seq, 8);
    q[8] = (unsigned char)c->op;
    q[9] = (unsigned char)e->kind;
    fleetp_put_be(q + 10, e->iss_len, 2);
    fleetp_put_be(q + 12, e->id_len, 2);
    fleetp_put_be(q + 14, e->reason_len, 2);
    fleetp_put_be(q + 16, (uint64_t)e->revoked_at, 8);
    fleetp_put_be(q + 24, (uint64_t)e->until, 8);
    fleetp_put_be(q + 32, (uint64_t)e->not_before, 8);
    q += 40;
    if (e->iss_len > 0) /* an empty text may be NULL */
        memcpy(q, e->iss, e->iss_len);
    memcpy(q + e->iss_len, e->id, e->id_len);
    if (e->reason_len > 0)
        memcpy(q + e->iss_len + e->id_len, e->reason, e->reason_len);
    frame(p, len);
    return OB_FRAME + len;
}

/* A change record's payload (after 'C') into *r; 0, or -1 if malformed. */
static int
decode_change(const unsigned char *q, size_t len, fleetp_rec *r)
{
    jwtrev_entry *e = &r->c.e;
    size_t iss, id, reason;

    if (len < OB_CHANGE_FIXED || q[0] != 'C')
        return -1;
    q++;
    iss = fleetp_get_be(q + 10, 2);
    id = fleetp_get_be(q + 12, 2);
    reason = fleetp_get_be(q + 14, 2);
    if (OB_CHANGE_FIXED + iss + id + reason != len)
        return -1;
    memset(r, 0, sizeof(*r));
    r->seq = fleetp_get_be(q, 8);
    r->c.op = (fleet_op)q[8];
    e->kind = (jwtrev_entry_kind)q[9];
    e->revoked_at = (int64_t)fleetp_get_be(q + 16, 8);
    e->until = (int64_t)fleetp_get_be(q + 24, 8);
    e->not_before = (int64_t)fleetp_get_be(q + 32, 8);
    q += 40;
    e->iss = (const char *)q;
    e->iss_len = iss;
    e->id = q + iss;
    e->id_len = id;
    e->reason = (const char *)q + iss + id;
    e->reason_len = reason;
    return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t n, off_t off)
{
    ssize_t w;

    while (n > 0) {
        w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

static int
read_all(int fd, unsigned char *p, size_t n, off_t off)
{
    ssize_t r;

    while (n > 0) {
        r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

static void
encode_header(unsigned char *p, uint64_t next_seq)
{
    p[OB_FRAME] = 'H';
    memcpy(p + OB_FRAME + 1, ob_magic, sizeof(ob_magic));
    fleetp_put_be(p + OB_FRAME + 9, next_seq, 8);
    frame(p, OB_HEADER_LEN);
}

/*
 * Read the record at off (at most OB_RECORD_MAX bytes of payload into
 * buf); its payload length, or -1 when it is torn or damaged.
 */
static long
read_record(int fd, off_t off, off_t size, unsigned char *buf)
{
    unsigned char fr[OB_FRAME];
    uint64_t len;

    if (size - off < OB_FRAME || read_all(fd, fr, OB_FRAME, off) != 0)
        return -1;
    len = fleetp_get_be(fr, 4);
    if (len < 1 || len > OB_RECORD_MAX || (off_t)len > size - off - OB_FRAME ||
        read_all(fd, buf, len, off + OB_FRAME) != 0 ||
        fleetp_crc32c(fleetp_crc32c(0, fr, 4), buf, len) !=
            fleetp_get_be(fr + 4, 4))
        return -1;
    return (long)len;
}

/* A fresh file: only a header; sequences start at the clock in
 * microseconds, above any an earlier outbox of this host gave out. */
static int
create_fresh(fleetp_outbox *ob, jwtrev_error *err)
{
    unsigned char h[OB_FRAME + OB_HEADER_LEN];
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ob->next_seq = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
    encode_header(h, ob->next_seq);
    if (ftruncate(ob->fd, 0) != 0 || write_all(ob->fd, h, sizeof(h), 0) != 0 ||
        fdatasync(ob->fd) != 0)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot write: %s",
                           ob->path, strerror(errno));
    ob->header_len = ob->end = ob->sent_off = (off_t)sizeof(h);
    ob->sent_seq = ob->next_seq - 1;
    return fleetp_fsync_dir(ob->dir, err);
}

/* Walk the records after the header: count them, find the end of the
 * last whole one, cut anything after it. */
static int
scan(fleetp_outbox *ob, off_t size, off_t *dropped, jwtrev_error *err)
{
    unsigned char *buf = malloc(OB_RECORD_MAX);
    uint64_t last = 0;
    fleetp_rec r;
    off_t off = ob->header_len;
    long len;

    if (buf == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    while ((len = read_record(ob->fd, off, size, buf)) > 0 &&
           decode_change(buf, (size_t)len, &r) == 0 && r.seq > last) {
        last = r.seq;
        ob->pending++;
        off += OB_FRAME + len;
    }
    free(buf);
    *dropped = size - off;
    if (off < size && (ftruncate(ob->fd, off) != 0 || fdatasync(ob->fd) != 0))
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s: cannot cut a torn record: %s", ob->path,
                           strerror(errno));
    ob->end = off;
    if (last >= ob->next_seq)
        ob->next_seq = last + 1;
    return 0;
}

static int
load(fleetp_outbox *ob, off_t *dropped, jwtrev_error *err)
{
    unsigned char buf[OB_RECORD_MAX];
    struct stat st;
    long len;

    if (fstat(ob->fd, &st) != 0 || !S_ISREG(st.st_mode))
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: not a regular file",
                           ob->path);
    *dropped = 0;
    if (st.st_size == 0)
        return create_fresh(ob, err);
    len = read_record(ob->fd, 0, st.st_size, buf);
    if (len != OB_HEADER_LEN || buf[0] != 'H' ||
        memcmp(buf + 1, ob_magic, sizeof(ob_magic)) != 0) {
        /* Not an outbox, or its header torn at creation: nothing in it
         * can be trusted.  Start afresh. */
        *dropped = st.st_size;
        return create_fresh(ob, err);
    }
    ob->next_seq = fleetp_get_be(buf + 9, 8);
    ob->header_len = OB_FRAME + OB_HEADER_LEN;
    if (scan(ob, st.st_size, dropped, err) != 0)
        return -JWTREV_ERR_DB_ERROR;
    ob->sent_off = ob->header_len;
    ob->sent_seq = 0;
    return 0;
}

static char *
path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int
fleetp_outbox_open(fleetp_outbox *ob, const char *dir, off_t *dropped,
                   jwtrev_error *err)
{
    int rc;

    memset(ob, 0, sizeof(*ob));
    ob->fd = -1;
    ob->dir = strdup(dir);
    ob->path = path_in(dir, "outbox");
    ob->tmp_path = path_in(dir, "outbox.tmp");
    if (ob->dir == NULL || ob->path == NULL || ob->tmp_path == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    ob->fd = open(ob->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (ob->fd < 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot open: %s",
                         ob->path, strerror(errno));
        goto done;
    }
    rc = load(ob, dropped, err);
done:
    if (rc != 0)
        fleetp_outbox_close(ob);
    return rc;
}

int
fleetp_outbox_append(fleetp_outbox *ob, const fleet_change *c, size_t n,
                     uint64_t *last, jwtrev_error *err)
{
    unsigned char *buf;
    size_t size = 0, i, off = 0;
    int rc = 0;

    for (i = 0; i < n; i++)
        size += change_size(&c[i]);
    buf = malloc(size > 0 ? size : 1);
    if (buf == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 0; i < n; i++)
        off += encode_change(buf + off, ob->next_seq + i, &c[i]);
    if (write_all(ob->fd, buf, size, ob->end) != 0 || fdatasync(ob->fd) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot append: %s",
                         ob->path, strerror(errno));
        /* Whatever reached the file is past end: the next append
         * overwrites it, a reopen cuts it. */
        if (ftruncate(ob->fd, ob->end) != 0)
            rc = -JWTREV_ERR_DB_ERROR;
        goto done;
    }
    ob->end += (off_t)size;
    ob->pending += n;
    ob->next_seq += n;
    *last = ob->next_seq - 1;
done:
    free(buf);
    return rc;
}

int
fleetp_outbox_read(fleetp_outbox *ob, unsigned char **buf, size_t *bufsize,
                   fleetp_rec *recs, size_t max, size_t *n, jwtrev_error *err)
{
    size_t want = (size_t)(ob->end - ob->sent_off), pos = 0, got = 0, len;
    const size_t cap = max * (OB_FRAME + OB_RECORD_MAX);

    if (want > cap)
        want = cap;
    if (want > *bufsize) {
        unsigned char *p = realloc(*buf, want);
        if (p == NULL)
            return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        *buf = p;
        *bufsize = want;
    }
    if (want > 0 && read_all(ob->fd, *buf, want, ob->sent_off) != 0)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot read: %s",
                           ob->path, strerror(errno));
    while (got < max && want - pos >= OB_FRAME) {
        const unsigned char *p = *buf + pos;
        len = (size_t)fleetp_get_be(p, 4);
        if (len > want - pos - OB_FRAME)
            break; /* the rest of it is past this read */
        if (fleetp_crc32c(fleetp_crc32c(0, p, 4), p + OB_FRAME, len) !=
                fleetp_get_be(p + 4, 4) ||
            decode_change(p + OB_FRAME, len, &recs[got]) != 0)
            return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                               "%s: a record changed on disk at offset %lld",
                               ob->path, (long long)(ob->sent_off + pos));
        pos += OB_FRAME + len;
        recs[got++].end = ob->sent_off + (off_t)pos;
    }
    *n = got;
    return 0;
}

void
fleetp_outbox_sent(fleetp_outbox *ob, const fleetp_rec *r, size_t count)
{
    ob->pending = ob->pending > count ? ob->pending - count : 0;
    ob->sent_off = r->end;
    ob->sent_seq = r->seq;
}

int
fleetp_outbox_trim(fleetp_outbox *ob, int force, jwtrev_error *err)
{
    off_t done = ob->sent_off - ob->header_len, left = ob->end - ob->sent_off;
    unsigned char h[OB_FRAME + OB_HEADER_LEN], *rest = NULL;
    int64_t now = fleetp_now_ms();
    int fd, rc = 0;

    if (done <= 0 || (!force && !(left == 0 && now - ob->last_trim >= 1000) &&
                      !(done >= OB_TRIM_BYTES && left <= OB_TRIM_LEFT)))
        return 0;
    encode_header(h, ob->next_seq);
    rest = malloc(left > 0 ? (size_t)left : 1);
    fd = open(ob->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (rest == NULL || fd < 0 ||
        (left > 0 && read_all(ob->fd, rest, (size_t)left, ob->sent_off) != 0) ||
        write_all(fd, h, sizeof(h), 0) != 0 ||
        (left > 0 && write_all(fd, rest, (size_t)left, sizeof(h)) != 0) ||
        fdatasync(fd) != 0 || rename(ob->tmp_path, ob->path) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot rewrite: %s",
                         ob->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(ob->tmp_path);
        goto done;
    }
    close(ob->fd);
    ob->fd = fd;
    ob->header_len = ob->sent_off = (off_t)sizeof(h);
    ob->end = ob->header_len + left;
    ob->last_trim = now;
    rc = fleetp_fsync_dir(ob->dir, err);
done:
    free(rest);
    return rc;
}

void
fleetp_outbox_close(fleetp_outbox *ob)
{
    if (ob->fd >= 0)
        close(ob->fd);
    free(ob->path);
    free(ob->tmp_path);
    free(ob->dir);
    memset(ob, 0, sizeof(*ob));
    ob->fd = -1;
}
