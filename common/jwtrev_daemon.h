/*
 * jwtrev_daemon.h - talking to jwtrevd, the one writer of a host's store
 * (docs/design.md 7; the protocol is in jwtrevd(8)).
 *
 * The protocol: a UNIX stream socket; the client sends one request per
 * line, a JSON object with "op" and its arguments, and reads one reply
 * per line: {"ok": true, ...} or {"ok": false, "code": REASON, "error":
 * TEXT}.  Lines are at most JWTREV_DAEMON_LINE_MAX bytes.
 *
 * Writers (the modules, the CLI) do not choose: jwtrev_writes_* below go
 * through the daemon that owns the store (its marker names the socket),
 * and write directly to a store no daemon owns.
 */
#ifndef JWTREV_DAEMON_H
#define JWTREV_DAEMON_H

#include <jansson.h>

#include "jwtrev_store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JWTREV_DAEMON_SOCKET "/run/jwtrev/jwtrevd.sock"
#define JWTREV_DAEMON_LINE_MAX (1024 * 1024)

/* A connection to a daemon; one caller at a time. */
typedef struct jwtrev_daemon jwtrev_daemon;

/*
 * Connect to the daemon at socket; each later call waits at most
 * timeout_ms for its reply.  db_error naming the socket when nobody
 * answers.
 */
int jwtrev_daemon_connect(const char *socket, long timeout_ms,
                          jwtrev_daemon **out, jwtrev_error *err);

/*
 * Send req (borrowed) and read the reply into *reply (the caller's).  A
 * reply {"ok": false} is returned as -code (the reply's reason code:
 * db_error, config_error, ...), with err's detail "jwtrevd: " and its
 * text; *reply is set either way when a reply came.
 */
int jwtrev_daemon_call(jwtrev_daemon *d, json_t *req, json_t **reply,
                       jwtrev_error *err);

void jwtrev_daemon_close(jwtrev_daemon *d);

/*
 * The socket through which dir is written: override when not NULL, else
 * the one the store's marker names.  1 and socket filled; 0 when dir has
 * no daemon (write directly); db_error for a marker that is refused.
 */
int jwtrev_daemon_for_store(const char *dir, const char *override, char *socket,
                            size_t len, jwtrev_error *err);

/* One request/reply on a fresh connection (connect, call, close). */
int jwtrev_daemon_request(const char *socket, json_t *req, long timeout_ms,
                          json_t **reply, jwtrev_error *err);

/*
 * The sealed snapshot of base id that the daemon owning dir hands out
 * (jwtrev_store_snapshot_make): 0 and *fd (the caller's); 1 when there is
 * none (no daemon, or none ready yet: read the file); db_error for a
 * daemon that is neither root nor the store's owner, or that fails.
 */
int jwtrev_daemon_snapshot(const char *dir, const unsigned char *id, int *fd,
                           jwtrev_error *err);

/*
 * Send req (borrowed) and go: no reply read, never a wait (a daemon that
 * does not take it at once does not get it).  For hints such as
 * refresh-keys from a request path.  0 sent, -1 not.
 */
int jwtrev_daemon_notify(const char *socket, json_t *req);

/*
 * A token's kid is in none of the keys read from files: ask the daemon
 * that owns dir's store (dir may be NULL), else the one on
 * JWTREV_DAEMON_SOCKET, to fetch the sets it writes to those files now
 * (jwtrevd.conf jwks=, issuer=; it limits itself to one fetch a minute
 * per set).  Never waits.  0 asked (the socket in used, when not NULL),
 * -1 no daemon took it.
 */
int jwtrev_daemon_ask_keys(const char *dir, const char *const *files, size_t n,
                           char *used, size_t used_len);

/* ---- the writes a module makes, through the daemon or directly ----------- */

/*
 * Revoke the token whose text is token (len bytes; t is its parsed
 * form): jwtrev_store_revoke_token, or through the store's daemon,
 * which reads the entry from the token itself.  socket: an override
 * (AuthJWTDaemonSocket), or NULL.
 */
int jwtrev_writes_revoke_token(const char *dir, const char *socket,
                               const char *token, size_t len,
                               const jwtrev_token *t, int64_t leeway,
                               int64_t now, const char *reason,
                               jwtrev_error *err);

/*
 * Revoke every token of the token's (iss, sub) issued before `before`,
 * until `until` (0: until removed): jwtrev_store_revoke_subject, or
 * through the daemon.
 */
int jwtrev_writes_revoke_subject(const char *dir, const char *socket,
                                 const char *token, size_t len,
                                 const jwtrev_token *t, int64_t before,
                                 int64_t until, int64_t now, const char *reason,
                                 jwtrev_error *err);

#ifdef __cplusplus
}
#endif
#endif /* JWTREV_DAEMON_H */
