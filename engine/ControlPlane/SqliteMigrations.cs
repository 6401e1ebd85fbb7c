using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

/// <summary>Versioned schema changes of the SQLite control plane, applied in order at start, each once, each in a transaction.</summary>
internal static class SqliteMigrations
{
    private static readonly (int Version, string Name, string Sql)[] All =
    [
        (1, "tenants and api keys", """
            CREATE TABLE tenants (
                tenant_id  TEXT PRIMARY KEY,
                name       TEXT NOT NULL,
                plan       TEXT NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE api_keys (
                prefix     TEXT PRIMARY KEY,
                tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id),
                hash       BLOB NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER);
            CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);
            """),
        (2, "encrypted provider keys", """
            CREATE TABLE provider_keys (
                tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
                provider    TEXT NOT NULL,
                key_version INTEGER NOT NULL,
                nonce       BLOB NOT NULL,
                ciphertext  BLOB NOT NULL,
                tag         BLOB NOT NULL,
                last4       TEXT NOT NULL,
                updated_at  INTEGER NOT NULL,
                PRIMARY KEY (tenant_id, provider));
            """),
        (3, "experiments", """
            CREATE TABLE experiments (
                tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id),
                experiment_id TEXT NOT NULL,
                name          TEXT NOT NULL,
                currency      TEXT NOT NULL,
                status        TEXT NOT NULL,
                variants      TEXT NOT NULL,
                created_at    INTEGER NOT NULL,
                updated_at    INTEGER NOT NULL,
                PRIMARY KEY (tenant_id, experiment_id));
            """),
        (4, "api calls per tenant and day", """
            CREATE TABLE api_calls (
                tenant_id TEXT NOT NULL,
                day       TEXT NOT NULL,
                calls     INTEGER NOT NULL,
                PRIMARY KEY (tenant_id, day));
            """),
        (5, "busiest minute per tenant and day", """
            ALTER TABLE api_calls ADD COLUMN peak_per_minute INTEGER NOT NULL DEFAULT 0;
            """),
        (6, "billing adapter per tenant and dead letters", """
            CREATE TABLE billing_adapters (
                tenant_id  TEXT PRIMARY KEY REFERENCES tenants(tenant_id),
                provider   TEXT NOT NULL,
                mode       TEXT NOT NULL,
                updated_at INTEGER NOT NULL);
            CREATE TABLE dead_letters (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                tenant_id  TEXT NOT NULL,
                provider   TEXT NOT NULL,
                event_id   TEXT NOT NULL,
                kind       TEXT NOT NULL,
                event      TEXT NOT NULL,
                error      TEXT NOT NULL,
                attempts   INTEGER NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE INDEX dead_letters_by_tenant ON dead_letters (tenant_id, id);
            """),
        (7, "one dead letter per event and kind", """
            DELETE FROM dead_letters WHERE id NOT IN (SELECT max(id) FROM dead_letters GROUP BY tenant_id, event_id, kind);
            CREATE UNIQUE INDEX dead_letters_once ON dead_letters (tenant_id, event_id, kind);
            """),
        (8, "experiment versions for conditional writes", """
            ALTER TABLE experiments ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
            """),
        (9, "the goal an experiment is decided on", """
            ALTER TABLE experiments ADD COLUMN goal TEXT NOT NULL DEFAULT 'revenue';
            ALTER TABLE experiments ADD COLUMN unit_cost TEXT;
            """),
        (10, "how an experiment splits its users (null: fixed weights)", """
            ALTER TABLE experiments ADD COLUMN allocation TEXT;
            """),
        (11, "adaptive weight versions and each user's first assignment", """
            CREATE TABLE weight_versions (
                tenant_id     TEXT NOT NULL,
                experiment_id TEXT NOT NULL,
                version       INTEGER NOT NULL,
                starts_at     INTEGER NOT NULL,
                weights       TEXT NOT NULL,
                reasons       TEXT NOT NULL,
                PRIMARY KEY (tenant_id, experiment_id, version));
            CREATE TABLE first_assignments (
                tenant_id     TEXT NOT NULL,
                experiment_id TEXT NOT NULL,
                user_id       TEXT NOT NULL,
                variant_id    TEXT NOT NULL,
                version       INTEGER NOT NULL,
                assigned_at   INTEGER NOT NULL,
                PRIMARY KEY (tenant_id, experiment_id, user_id)) WITHOUT ROWID;
            """),
    ];

    public static int Latest => All[^1].Version;

    public static void Apply(SqliteConnection connection)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    applied_at INTEGER NOT NULL);
                """;
            create.ExecuteNonQuery();
        }

        foreach (var (version, name, sql) in All)
        {
            // BEGIN IMMEDIATE: two processes starting together apply each migration once.
            using var transaction = connection.BeginTransaction(deferred: false);
            using var check = connection.CreateCommand();
            check.Transaction = transaction;
            check.CommandText = "SELECT count(*) FROM schema_migrations WHERE version = $v";
            check.Parameters.AddWithValue("$v", version);
            if ((long)check.ExecuteScalar()! > 0)
            {
                continue;
            }

            using var apply = connection.CreateCommand();
            apply.Transaction = transaction;
            apply.CommandText = sql + "\nINSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t);";
            apply.Parameters.AddWithValue("$v", version);
            apply.Parameters.AddWithValue("$n", name);
            apply.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            apply.ExecuteNonQuery();
            transaction.Commit();
        }
    }
}
