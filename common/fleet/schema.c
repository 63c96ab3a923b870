/*
 * schema.c - the fleet's database (docs/design.md 7.2): the schema that
 * jwtrev fleet schema prints and jwtrev fleet init applies, and the
 * admin's prune.
 *
 * Roles: jwtrev_host may read the log and add to it, with op = 1 only
 * (a row-level policy), and may set no column the server fills in (the
 * inserting transaction's xid, the inserting role, the time); it may
 * not change or delete a row (no grant).  A resend is recognised by
 * (inserted_by, origin, origin_seq): with the role in it, a host that
 * writes rows under another's host_id only ever collides with itself
 * and cannot make the other's changes look like resends.  jwtrev_admin may also
 * write tombstones (op = 2) and delete (prune).  Both are NOLOGIN groups: each
 * host logs in as a role of its own, a member of jwtrev_host, named by
 * its client certificate.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "fleetp.h"

const char fleet_schema_sql[] =
    "-- jwtrev fleet schema (docs/design.md 7.2).  Safe to apply again: it\n"
    "-- creates what is missing and resets the grants and policies.\n"
    "SET client_min_messages = warning;\n"
    "DO $$\n"
    "BEGIN\n"
    "    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jwtrev_host') "
    "THEN\n"
    "        CREATE ROLE jwtrev_host NOLOGIN;\n"
    "    END IF;\n"
    "    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jwtrev_admin') "
    "THEN\n"
    "        CREATE ROLE jwtrev_admin NOLOGIN;\n"
    "    END IF;\n"
    "END\n"
    "$$;\n"
    "CREATE SCHEMA IF NOT EXISTS jwtrev;\n"
    "REVOKE ALL ON SCHEMA jwtrev FROM PUBLIC;\n"
    "GRANT USAGE ON SCHEMA jwtrev TO jwtrev_host, jwtrev_admin;\n"
    "-- The log of changes: rows are added, never changed; an admin's prune\n"
    "-- deletes the ones that no longer matter.\n"
    "CREATE TABLE IF NOT EXISTS jwtrev.log (\n"
    "    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),\n"
    "    op smallint NOT NULL CHECK (op IN (1, 2)),\n"
    "    kind smallint NOT NULL,\n"
    "    iss text NOT NULL DEFAULT '',\n"
    "    id bytea NOT NULL CHECK (octet_length(id) BETWEEN 1 AND 1024),\n"
    "    revoked_at bigint NOT NULL CHECK (revoked_at >= 0),\n"
    "    until bigint NOT NULL DEFAULT 0 CHECK (until >= 0),\n"
    "    not_before bigint NOT NULL DEFAULT 0 CHECK (not_before >= 0),\n"
    "    reason text NOT NULL DEFAULT '',\n"
    "    origin text NOT NULL CHECK (origin <> ''),\n"
    "    origin_seq bigint NOT NULL,\n"
    "    inserted_by name NOT NULL DEFAULT session_user,\n"
    "    inserted_at timestamptz NOT NULL DEFAULT now(),\n"
    "    UNIQUE (inserted_by, origin, origin_seq)\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS log_follow ON jwtrev.log (xid, seq);\n"
    "CREATE INDEX IF NOT EXISTS log_entry ON jwtrev.log (kind, iss, id);\n"
    "CREATE INDEX IF NOT EXISTS log_tombstone ON jwtrev.log (kind, iss, id, "
    "revoked_at)\n"
    "    WHERE op = 2;\n"
    "REVOKE ALL ON jwtrev.log FROM PUBLIC, jwtrev_host, jwtrev_admin;\n"
    "GRANT SELECT, INSERT (op, kind, iss, id, revoked_at, until, not_before, "
    "reason,\n"
    "    origin, origin_seq) ON jwtrev.log TO jwtrev_host, jwtrev_admin;\n"
    "GRANT DELETE ON jwtrev.log TO jwtrev_admin;\n"
    "ALTER TABLE jwtrev.log ENABLE ROW LEVEL SECURITY;\n"
    "DROP POLICY IF EXISTS read_all ON jwtrev.log;\n"
    "CREATE POLICY read_all ON jwtrev.log FOR SELECT\n"
    "    TO jwtrev_host, jwtrev_admin USING (true);\n"
    "DROP POLICY IF EXISTS host_adds ON jwtrev.log;\n"
    "CREATE POLICY host_adds ON jwtrev.log FOR INSERT TO jwtrev_host\n"
    "    WITH CHECK (op = 1);\n"
    "DROP POLICY IF EXISTS admin_writes ON jwtrev.log;\n"
    "CREATE POLICY admin_writes ON jwtrev.log FOR INSERT TO jwtrev_admin\n"
    "    WITH CHECK (true);\n"
    "DROP POLICY IF EXISTS admin_prunes ON jwtrev.log;\n"
    "CREATE POLICY admin_prunes ON jwtrev.log FOR DELETE TO jwtrev_admin\n"
    "    USING (true);\n"
    "-- Wake the followers: one notification per inserting statement,\n"
    "-- delivered at commit.\n"
    "CREATE OR REPLACE FUNCTION jwtrev.log_notify() RETURNS trigger\n"
    "    LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "    PERFORM pg_notify('jwtrev_log', '');\n"
    "    RETURN NULL;\n"
    "END\n"
    "$$;\n"
    "REVOKE ALL ON FUNCTION jwtrev.log_notify() FROM PUBLIC;\n"
    "CREATE OR REPLACE TRIGGER log_notify AFTER INSERT ON jwtrev.log\n"
    "    FOR EACH STATEMENT EXECUTE FUNCTION jwtrev.log_notify();\n";

/* A blocking session for the admin commands; NULL with err set. */
static PGconn *
admin_connect(const char *conninfo, jwtrev_error *err)
{
    static const char *const keys[] = {"connect_timeout", "application_name",
                                       "dbname", NULL};
    const char *vals[] = {"10", "jwtrev", conninfo, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    char msg[JWTREV_DETAIL_MAX];

    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        fleetp_one_line(pg != NULL ? PQerrorMessage(pg) : "out of memory", msg,
                        sizeof(msg));
        jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "cannot connect: %s", msg);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* r's failure as err (the server's message, one line); -DB_ERROR. */
static int
result_fail(PGresult *r, const char *what, jwtrev_error *err)
{
    const char *m = PQresultErrorMessage(r);
    char msg[JWTREV_DETAIL_MAX];

    fleetp_one_line(*m != '\0' ? m : "no answer", msg, sizeof(msg));
    return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: %s", what, msg);
}

int
fleet_schema_apply(const char *conninfo, jwtrev_error *err)
{
    PGconn *pg = admin_connect(conninfo, err);
    PGresult *r;
    int rc = 0;

    if (pg == NULL)
        return -JWTREV_ERR_DB_ERROR;
    /* One simple query: the server runs its statements as one
     * transaction, so a failure leaves nothing half made. */
    r = PQexec(pg, fleet_schema_sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = result_fail(r, "applying the schema", err);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int
fleet_prune(const char *conninfo, int64_t now, uint64_t *deleted,
            jwtrev_error *err)
{
    char t[24];
    const char *vals[1] = {t};
    PGconn *pg = admin_connect(conninfo, err);
    PGresult *r;
    int rc = 0;

    if (pg == NULL)
        return -JWTREV_ERR_DB_ERROR;
    snprintf(t, sizeof(t), "%lld", (long long)now);
    r = PQexecParams(
        pg,
        "DELETE FROM jwtrev.log a WHERE (a.until <> 0 AND a.until <= "
        "$1::int8) OR (a.op = 1 AND EXISTS (SELECT FROM jwtrev.log t WHERE "
        "t.op = 2 AND t.kind = a.kind AND t.iss = a.iss AND t.id = a.id AND "
        "t.revoked_at >= a.revoked_at))",
        1, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = result_fail(r, "pruning the log", err);
    else if (deleted != NULL)
        *deleted = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int
fleet_unrevoke(const char *conninfo, const char *origin, const jwtrev_entry *e,
               int64_t now, uint64_t *cancelled, jwtrev_error *err)
{
    char kind[8], at[24], seq[24];
    const char *vals[6];
    /* Entry texts are counted: iss and id go by length (binary). */
    int lens[6] = {0, (int)e->iss_len, (int)e->id_len, 0, 0, 0};
    int fmts[6] = {0, 1, 1, 0, 0, 0};
    struct timespec ts;
    PGconn *pg;
    PGresult *r;
    int rc = 0;

    if (e->id_len == 0 || jwtrev_entry_kind_name(e->kind) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "an unrevoke needs an entry's kind and id");
    pg = admin_connect(conninfo, err);
    if (pg == NULL)
        return -JWTREV_ERR_DB_ERROR;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(kind, sizeof(kind), "%d", (int)e->kind);
    snprintf(at, sizeof(at), "%lld", (long long)now);
    /* A sequence of its own per unrevoke: the time, in nanoseconds. */
    snprintf(seq, sizeof(seq), "%lld",
             (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    vals[0] = kind;
    vals[1] = e->iss_len > 0 ? e->iss : "";
    vals[2] = (const char *)e->id;
    vals[3] = at;
    vals[4] = origin;
    vals[5] = seq;
    /* Written only when it cancels an add of the log; it lasts as long as
     * the longest of them (0: for ever), so that prune keeps it while one
     * could come back from a host's outbox. */
    r = PQexecParams(
        pg,
        "WITH adds AS (SELECT until FROM jwtrev.log WHERE op = 1 AND "
        "kind = $1::int2 AND iss = $2::text AND id = $3::bytea AND "
        "revoked_at <= $4::int8) "
        "INSERT INTO jwtrev.log (op, kind, iss, id, revoked_at, until, "
        "not_before, reason, origin, origin_seq) SELECT 2, $1::int2, "
        "$2::text, $3::bytea, $4::int8, COALESCE((SELECT CASE WHEN "
        "bool_or(until = 0) THEN 0 ELSE max(until) END FROM adds), 0), 0, "
        "'unrevoke', $5::text, $6::int8 WHERE EXISTS (SELECT FROM adds) "
        "RETURNING (SELECT count(*) FROM adds)",
        6, NULL, vals, lens, fmts, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = result_fail(r, "writing the tombstone", err);
    else if (cancelled != NULL)
        *cancelled =
            PQntuples(r) == 1 ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    PQfinish(pg);
    return rc;
}
