/*
 * cmd_store.h - what the store commands (cmd_store.c, cmd_query.c,
 * cmd_bulk.c) share: option values, token and entry handling, entry text
 * and JSON, progress on a terminal.
 */
#ifndef JWTREV_CMD_STORE_H
#define JWTREV_CMD_STORE_H

#include <stdio.h>

#include "cli.h"
#include "jwtrev_store.h"

/* Long option values shared by the store commands (above any char). */
enum {
    SOPT_DB = 0x100,
    SOPT_HELP,
    SOPT_GROUP,
    SOPT_LOGOUT_WRITABLE,
    SOPT_REASON,
    SOPT_JTI,
    SOPT_ISS,
    SOPT_UNTIL,
    SOPT_BEFORE,
    SOPT_LEEWAY,
    SOPT_KEY,
    SOPT_SECRET,
    SOPT_ALG,
    SOPT_SUBJECT,
    SOPT_KID,
    SOPT_HASH,
    SOPT_NOW,
    SOPT_JSON,
    SOPT_KIND,
    SOPT_WAIT_FLEET = SOPT_KIND + 16 /* above the commands' own */
};

/* Report a library failure as "jwtrev: CMD: detail"; the exit code. */
int store_fail(const char *cmd, int rc, const jwtrev_error *err);

/* Store e and print "revoked: <entry>"; the exit code. */
int store_put_report(const char *cmd, const char *db, const jwtrev_entry *e);

/*
 * Read a token (arg NULL or "-": standard input) and parse it without
 * verifying (jwtrev_token_parse_unverified).  CLI_OK, or the exit code
 * with the message printed (an unparseable token is a usage error).
 * On success the caller clears *t.
 */
int store_read_token(const char *cmd, const char *arg, jwtrev_token *t);

/* Parse a time option (Unix seconds >= 0); CLI_OK or CLI_USAGE. */
int store_parse_time(const char *cmd, const char *opt, const char *s,
                     int64_t *out);

/* 64 lowercase hex digits into 32 bytes; 0 or -1. */
int store_parse_sha256(const char *s, unsigned char *out);

/* A text as an entry field (counted, borrowed). */
void store_text(const char *s, const char **p, size_t *len);

/* A jwtrev_store_foreach callback: the entry as one JSON line on stdout
 * (dump, list --json). */
int store_print_json_line(void *arg, const jwtrev_entry *e);

/*
 * The entry that JSON object o describes (the format above; revoked_at
 * defaults to now, until to 0, reason to "", before to now).  *e borrows
 * from o and hash.  0, or -1 with *why set.
 */
int store_entry_from_json(json_t *o, int64_t now,
                          unsigned char hash[JWTREV_STORE_HASH_LEN],
                          jwtrev_entry *e, const char **why);

/* One line for people: kind, identity, times, reason. */
void store_print_entry(FILE *f, const jwtrev_entry *e);

/* "token entry iss=\"..\" jti=\"..\"" and so on: the identity only. */
void store_print_identity(FILE *f, const jwtrev_entry *e);

/* Progress of a long operation on stderr, only when it is a terminal. */
struct store_progress {
    jwtrev_store_progress p; /* pass &sp.p to the library */
    const char *cmd;
    const char *what;
    int pct;
    int shown;
};

void store_progress_init(struct store_progress *sp, const char *cmd);
void store_progress_show(struct store_progress *sp, const char *what,
                         uint64_t done, uint64_t total);
/* End the progress line, if one was shown. */
void store_progress_end(struct store_progress *sp);

/* ---- through the store's daemon (cmd_daemon.c) -------------------------- */

/* --socket: the daemon to write through, whatever the store's marker. */
void store_use_socket(const char *path);

/* --wait-fleet[=SECONDS] (arg NULL: 10 s): each write through the daemon
 * waits until the fleet's database has it.  CLI_OK or CLI_USAGE. */
int store_use_wait_fleet(const char *cmd, const char *arg);

/* 1 and sock: write db through the daemon; 0: directly; < 0: -(exit
 * code), the message printed. */
int store_daemon_of(const char *cmd, const char *db, char *sock, size_t len);

/* Send req (consumed); CLI_OK and *reply (the caller's), or the exit
 * code with the daemon's message printed. */
int store_daemon_call(const char *cmd, const char *sock, json_t *req,
                      json_t **reply);

/* put; print "revoked: <entry>" as stored.  The exit code. */
int store_daemon_put(const char *cmd, const char *sock, const jwtrev_entry *e);

/* The entry of token t (text tok) stored directly or through the daemon
 * (which takes the token itself: a writer may revoke what it holds). */
int store_revoke_token_report(const char *cmd, const char *db, const char *tok,
                              size_t len, const jwtrev_token *t, int64_t leeway,
                              int64_t now, const char *reason);

int store_daemon_remove(const char *cmd, const char *sock,
                        const jwtrev_entry *e, int *found);

/* compact (purge_now 0) or purge; *dropped (may be NULL). */
int store_daemon_fold(const char *cmd, const char *sock, int64_t purge_now,
                      uint64_t *dropped);

/* load: entries in chunks on one connection, then one commit. */
struct store_daemon_load;
int store_daemon_load_begin(const char *sock, struct store_daemon_load **out);
int store_daemon_load_add(struct store_daemon_load *l, json_t *entry);
/* commit 0: drop what was sent.  Frees l. */
int store_daemon_load_end(struct store_daemon_load *l, int commit);

/*
 * jwtrev fleet unrevoke (cmd_fleet.c): unrevoke writes the fleet's
 * tombstone with the admin conninfo set here instead of removing from
 * the store; store_fleet_unrevoke does it for one entry (*removed counts
 * the revocations it cancels; the exit code).
 */
const char *store_fleet_admin(void);
int store_fleet_unrevoke(const jwtrev_entry *e, int *removed);

/* The daemon's status reply with "socket" and "running" added, NULL
 * when no daemon owns db. */
json_t *store_daemon_status(const char *db);

#endif /* JWTREV_CMD_STORE_H */
