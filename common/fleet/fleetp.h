/*
 * fleetp.h - the insides of fleet mode (common/fleet/): the outbox file,
 * the position file, the libpq session, sending and following.  Nothing
 * outside common/fleet/ includes it; hosts see jwtrev_fleet.h.
 */
#ifndef JWTREV_FLEETP_H
#define JWTREV_FLEETP_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "jwtrev_fleet.h"

/* ---- the outbox (outbox.c) -----------------------------------------------
 *
 * state_dir/outbox: a header record (magic, the sequence of the next
 * change), then one record per change, each framed as [u32 length][u32
 * CRC-32C of length and payload][payload], integers big-endian.  Changes
 * are appended and fsynced; the committed prefix is cut off by
 * rewriting the file (temporary file, fsync, rename).
 */
typedef struct fleetp_outbox {
    int fd;
    char *path;
    char *tmp_path;
    char *dir;
    off_t end;         /* bytes of whole records */
    off_t sent_off;    /* the first record not committed yet */
    off_t header_len;  /* the header record's bytes */
    uint64_t next_seq; /* the sequence the next change gets */
    uint64_t sent_seq; /* every change up to it is committed */
    uint64_t pending;  /* records from sent_off to end */
    int64_t last_trim; /* monotonic ms of the last rewrite */
} fleetp_outbox;

/* One record read back: c borrows from the read buffer. */
typedef struct fleetp_rec {
    uint64_t seq;
    fleet_change c;
    off_t end; /* the offset just past it */
} fleetp_rec;

/*
 * Open or create dir/outbox.  A torn or damaged tail (a crash while
 * appending) is cut off; *dropped says how many bytes, for the log.
 */
int fleetp_outbox_open(fleetp_outbox *ob, const char *dir, off_t *dropped,
                       jwtrev_error *err);

/* Append n changes and fsync; *last: the sequence of the last one. */
int fleetp_outbox_append(fleetp_outbox *ob, const fleet_change *c, size_t n,
                         uint64_t *last, jwtrev_error *err);

/*
 * Read up to max records from sent_off into buf (grown as needed, the
 * caller frees *buf); *n records in recs (room for max).
 */
int fleetp_outbox_read(fleetp_outbox *ob, unsigned char **buf, size_t *bufsize,
                       fleetp_rec *recs, size_t max, size_t *n,
                       jwtrev_error *err);

/* The count records read, up to and including r, are committed. */
void fleetp_outbox_sent(fleetp_outbox *ob, const fleetp_rec *r, size_t count);

/*
 * Cut the committed prefix off (a rewrite), when it is worth it: all of
 * it committed and at least a second since the last rewrite, or more
 * than a megabyte committed and little left.  force: whenever there is
 * a committed prefix.
 */
int fleetp_outbox_trim(fleetp_outbox *ob, int force, jwtrev_error *err);

void fleetp_outbox_close(fleetp_outbox *ob);

/* Big-endian integers of bytes bytes (the outbox's, PostgreSQL's binary
 * format). */
void fleetp_put_be(unsigned char *p, uint64_t v, int bytes);
uint64_t fleetp_get_be(const void *p, int bytes);

/* CRC-32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t fleetp_crc32c(uint32_t crc, const void *p, size_t n);

/* ---- the position (position.c) --------------------------------------------
 */

/* 1 when s is a snapshot's text (digits:digits:[digits[,digits]...]). */
int fleetp_snapshot_valid(const char *s);

/*
 * Read dir/position into *out (the caller frees) and the server epoch
 * it was taken on into epoch (size bytes; "" when unknown): 0; 1 when
 * there is none (no file, or one that is not a snapshot: *out NULL,
 * *why says which); else an error.
 */
int fleetp_position_load(const char *dir, char **out, char *epoch, size_t size,
                         const char **why, jwtrev_error *err);

/* Write dir/position durably (temporary file, fsync, rename, fsync dir). */
int fleetp_position_save(const char *dir, const char *pos, const char *epoch,
                         jwtrev_error *err);

/* Write fd's data to disk, then make the rename into dir durable. */
int fleetp_fsync_dir(const char *dir, jwtrev_error *err);

/* ---- the handle -----------------------------------------------------------
 */

struct fleet {
    char *conninfo;
    char *host_id;
    char *state_dir;
    fleet_apply_fn *apply;
    fleet_log_fn *log;
    void *arg;

    pthread_t thread;
    int started;
    int wake_fd; /* an eventfd: enqueue and close wake the thread */

    pthread_mutex_t mu; /* the outbox, stop, and status below */
    pthread_cond_t sent_cv;
    fleetp_outbox ob;
    int stop;
    fleet_status st;    /* connected, server, counters, last_error */
    int64_t in_step_ms; /* monotonic ms when the log was last caught up */
    int standby_up;     /* following a standby */
    int64_t failed_logged_ms;

    /* the fleet thread's own */
    PGconn *pg;
    int standby;  /* the session is to a read-only server */
    int notified; /* a wake-up arrived since the last fetch */
    int64_t connected_ms;
    int64_t retry_ms;       /* connect again then */
    int64_t retry_apply_ms; /* offer the log to apply again then */
    int64_t backoff_ms;
    unsigned seed;
    int64_t last_fetch_ms;
    int64_t saved_ms;        /* the position was last written */
    char *position;          /* NULL: none yet (bootstrap) */
    char position_epoch[48]; /* "system/timeline" the position is of */
    char server_epoch[48];   /* the session's; "" unknown (a standby) */
    int position_dirty;      /* newer than the file */
    unsigned char *sendbuf;
    size_t sendbuf_size;
};

/* 1 when fleet_close asked the thread to stop. */
int fleetp_stopping(fleet *f);

/* Monotonic and wall clocks in milliseconds. */
int64_t fleetp_now_ms(void);
int64_t fleetp_wall_ms(void);

/* A line for the host's log (printf-style). */
void fleetp_log(fleet *f, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record a failure in the status (and log it at level when > 0). */
void fleetp_failed(fleet *f, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the session (conn.c) -------------------------------------------------
 */

/* Connect (blocking, within connect_timeout per host), LISTEN unless
 * the server is a standby.  0, or -1 with the status saying why. */
int fleetp_connect(fleet *f);

/* Drop the session. */
void fleetp_disconnect(fleet *f);

/*
 * Run one statement (or several, with no parameters) and return its last
 * result in *out (the caller PQclear()s it): 0, or -1 when the session
 * failed or timeout_ms passed (then it is dropped) or the thread is
 * asked to stop.  The statement may still have failed: check
 * PQresultStatus.  Notifications that arrive are noted (f->notified).
 */
int fleetp_exec(fleet *f, const char *sql, int n, const char *const *vals,
                const int *lens, const int *fmts, int binary, long timeout_ms,
                PGresult **out);

/*
 * Wait up to timeout_ms for the session's socket (a notification, or the
 * server going away) or a wake-up.  0, or -1 when the session failed.
 */
int fleetp_wait(fleet *f, long timeout_ms);

/* s as one line of text into buf: newlines become "; ", trailing ones
 * and other control characters go. */
void fleetp_one_line(const char *s, char *buf, size_t size);

/* The SQLSTATE of a failed result ("" when none). */
const char *fleetp_sqlstate(const PGresult *r);

/* The server's message for r, one line, no trailing newline. */
void fleetp_pgerror(fleet *f, const PGresult *r, char *buf, size_t size);

/* ---- sending and following (send.c, follow.c) -----------------------------
 */

/* Send the whole outbox, in order.  0; -1 (the status says why). */
int fleetp_send(fleet *f);

/* Start from the fleet's live set (no position yet). */
int fleetp_bootstrap(fleet *f);

/* Apply what the log gained since the position. */
int fleetp_follow(fleet *f);

#endif /* JWTREV_FLEETP_H */
