/*
 * cmd_daemon.c - the store commands' writes when a jwtrevd owns the store
 * (its marker names the socket; --socket overrides): the same commands,
 * sent to the daemon instead of written directly (docs/design.md 7).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cmd_store.h"
#include "jwtrev_daemon.h"

/* A write waits this long for the daemon; a fold or a load longer. */
#define WRITE_TIMEOUT_MS 30000
#define BULK_TIMEOUT_MS (30L * 60 * 1000)

static const char *socket_override;
static int64_t wait_fleet_s; /* 0: do not wait */

void
store_use_socket(const char *path)
{
    socket_override = path;
}

int
store_use_wait_fleet(const char *cmd, const char *arg)
{
    wait_fleet_s = 10;
    if (arg != NULL &&
        (cli_parse_int64(cmd, "--wait-fleet", arg, &wait_fleet_s) != CLI_OK ||
         wait_fleet_s <= 0))
        return cli_usage_error(cmd, "--wait-fleet wants whole seconds > 0");
    return CLI_OK;
}

/* The request asks to wait for the fleet when --wait-fleet was given. */
static json_t *
with_wait(json_t *req)
{
    if (wait_fleet_s > 0)
        json_object_set_new(req, "wait_fleet", json_integer(wait_fleet_s));
    return req;
}

/* After a write: what the fleet said; CLI_OK or the exit code. */
static int
fleet_outcome(const char *cmd, json_t *reply)
{
    const char *f = json_string_value(json_object_get(reply, "fleet"));

    if (wait_fleet_s <= 0)
        return CLI_OK;
    if (f != NULL && strcmp(f, "committed") == 0) {
        printf("fleet: in the fleet's database\n");
        return CLI_OK;
    }
    cli_error("%s: done on this host, but not in the fleet's database after "
              "%lld s (it stays queued and goes out when the database "
              "answers; see jwtrev fleet status)",
              cmd, (long long)wait_fleet_s);
    return CLI_STORE;
}

int
store_daemon_of(const char *cmd, const char *db, char *sock, size_t len)
{
    jwtrev_error err;
    int rc;

    jwtrev_error_clear(&err);
    rc = jwtrev_daemon_for_store(db, socket_override, sock, len, &err);
    if (rc < 0)
        return -store_fail(cmd, rc, &err);
    if (rc == 0 && wait_fleet_s > 0) {
        cli_error("%s: --wait-fleet: no jwtrevd owns %s (fleet mode is the "
                  "daemon's)",
                  cmd, db);
        return -CLI_USAGE;
    }
    return rc;
}

int
store_daemon_call(const char *cmd, const char *sock, json_t *req,
                  json_t **reply)
{
    const char *op = json_string_value(json_object_get(req, "op"));
    long timeout =
        op != NULL && (strcmp(op, "compact") == 0 || strcmp(op, "purge") == 0 ||
                       strcmp(op, "load-commit") == 0)
            ? BULK_TIMEOUT_MS
            : WRITE_TIMEOUT_MS;
    jwtrev_error err;
    int rc;

    jwtrev_error_clear(&err);
    rc = jwtrev_daemon_request(sock, req, timeout, reply, &err);
    json_decref(req);
    if (rc != 0) {
        json_decref(*reply);
        *reply = NULL;
        return store_fail(cmd, rc, &err);
    }
    return CLI_OK;
}

/* Print "revoked: " and the entry the daemon stored. */
static int
print_stored(const char *cmd, json_t *reply)
{
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    json_t *o = json_object_get(reply, "entry");
    const char *why = "no entry in the reply";
    jwtrev_entry e;
    int rc;

    if (!json_is_object(o) ||
        jwtrev_entry_from_json(o, 0, hash, &e, &why) != 0) {
        cli_error("%s: jwtrevd's reply: %s", cmd, why);
        json_decref(reply);
        return CLI_STORE;
    }
    fputs("revoked: ", stdout);
    store_print_entry(stdout, &e);
    rc = fleet_outcome(cmd, reply);
    json_decref(reply);
    return rc;
}

int
store_daemon_put(const char *cmd, const char *sock, const jwtrev_entry *e)
{
    json_t *reply,
        *req = with_wait(json_pack("{s:s, s:o}", "op", "put", "entry",
                                   jwtrev_entry_to_json(e)));
    int rc = store_daemon_call(cmd, sock, req, &reply);

    return rc != CLI_OK ? rc : print_stored(cmd, reply);
}

int
store_revoke_token_report(const char *cmd, const char *db, const char *tok,
                          size_t len, const jwtrev_token *t, int64_t leeway,
                          int64_t now, const char *reason)
{
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    jwtrev_entry e;
    json_t *req, *reply;
    int rc = store_daemon_of(cmd, db, sock, sizeof(sock));

    if (rc < 0)
        return -rc;
    if (rc == 0) {
        jwtrev_entry_for_token(t, leeway, now, reason, &e);
        return store_put_report(cmd, db, &e);
    }
    /* The token itself: a writer (www-data) may revoke what it hands
     * over; the daemon reads the entry from it. */
    req = json_pack("{s:s, s:s%, s:I, s:I, s:s}", "op", "revoke-token", "token",
                    tok, len, "leeway", (json_int_t)leeway, "revoked_at",
                    (json_int_t)now, "reason", reason != NULL ? reason : "");
    rc = store_daemon_call(cmd, sock, with_wait(req), &reply);
    return rc != CLI_OK ? rc : print_stored(cmd, reply);
}

int
store_daemon_remove(const char *cmd, const char *sock, const jwtrev_entry *e,
                    int *found)
{
    json_t *reply, *req = json_pack("{s:s, s:o}", "op", "remove", "entry",
                                    jwtrev_entry_to_json(e));
    int rc = store_daemon_call(cmd, sock, req, &reply);

    if (rc == CLI_OK)
        *found = json_is_true(json_object_get(reply, "removed")) ||
                 json_integer_value(json_object_get(reply, "removed")) == 1;
    json_decref(reply);
    return rc;
}

int
store_daemon_fold(const char *cmd, const char *sock, int64_t purge_now,
                  uint64_t *dropped)
{
    json_t *reply, *req = purge_now != 0
                              ? json_pack("{s:s, s:I}", "op", "purge", "now",
                                          (json_int_t)purge_now)
                              : json_pack("{s:s}", "op", "compact");
    int rc = store_daemon_call(cmd, sock, req, &reply);

    if (rc == CLI_OK && dropped != NULL)
        *dropped =
            (uint64_t)json_integer_value(json_object_get(reply, "dropped"));
    json_decref(reply);
    return rc;
}

/* ---- load through the daemon: chunks of entries, then one commit --------- */

#define LOAD_CHUNK 10000

struct store_daemon_load {
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    jwtrev_daemon *d;
    json_t *chunk;
    uint64_t sent;
};

int
store_daemon_load_begin(const char *sock, struct store_daemon_load **out)
{
    struct store_daemon_load *l = calloc(1, sizeof(*l));
    jwtrev_error err;
    int rc;

    if (l == NULL || (l->chunk = json_array()) == NULL) {
        free(l);
        cli_error("load: out of memory");
        return CLI_USAGE;
    }
    snprintf(l->sock, sizeof(l->sock), "%s", sock);
    jwtrev_error_clear(&err);
    rc = jwtrev_daemon_connect(sock, BULK_TIMEOUT_MS, &l->d, &err);
    if (rc != 0) {
        json_decref(l->chunk);
        free(l);
        return store_fail("load", rc, &err);
    }
    *out = l;
    return CLI_OK;
}

static int
call_on(struct store_daemon_load *l, json_t *req, json_t **reply)
{
    jwtrev_error err;
    int rc;

    jwtrev_error_clear(&err);
    rc = jwtrev_daemon_call(l->d, req, reply, &err);
    json_decref(req);
    if (rc != 0) {
        json_decref(*reply);
        *reply = NULL;
        return store_fail("load", rc, &err);
    }
    return CLI_OK;
}

static int
flush_chunk(struct store_daemon_load *l)
{
    json_t *reply;
    int rc;

    if (json_array_size(l->chunk) == 0)
        return CLI_OK;
    rc = call_on(l,
                 json_pack("{s:s, s:O}", "op", "load-add", "entries", l->chunk),
                 &reply);
    json_decref(reply);
    l->sent += json_array_size(l->chunk);
    json_array_clear(l->chunk);
    return rc;
}

int
store_daemon_load_add(struct store_daemon_load *l, json_t *entry)
{
    if (json_array_append(l->chunk, entry) != 0) {
        cli_error("load: out of memory");
        return CLI_USAGE;
    }
    return json_array_size(l->chunk) >= LOAD_CHUNK ? flush_chunk(l) : CLI_OK;
}

int
store_daemon_load_end(struct store_daemon_load *l, int commit)
{
    json_t *reply = NULL;
    int rc = commit ? flush_chunk(l) : CLI_OK;

    if (rc == CLI_OK && commit)
        rc = call_on(l, json_pack("{s:s}", "op", "load-commit"), &reply);
    json_decref(reply);
    json_decref(l->chunk);
    jwtrev_daemon_close(l->d); /* uncommitted: the daemon drops the batch */
    free(l);
    return rc;
}

/* ---- stats: what the daemon says of itself ------------------------------- */

json_t *
store_daemon_status(const char *db)
{
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    jwtrev_error err;
    json_t *req, *reply = NULL;
    int rc;

    jwtrev_error_clear(&err);
    rc = jwtrev_daemon_for_store(db, socket_override, sock, sizeof(sock), &err);
    if (rc <= 0)
        return NULL;
    req = json_pack("{s:s}", "op", "status");
    rc = jwtrev_daemon_request(sock, req, 5000, &reply, &err);
    json_decref(req);
    if (rc != 0) {
        json_decref(reply);
        return json_pack("{s:s, s:b, s:s}", "socket", sock, "running", 0,
                         "error", err.detail);
    }
    json_object_set_new(reply, "socket", json_string(sock));
    json_object_set_new(reply, "running", json_true());
    return reply;
}
