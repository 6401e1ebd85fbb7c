using Npgsql;

namespace PricingOptimizer.ControlPlane.Postgres;

/// <summary>
/// Versioned schema changes of the PostgreSQL control plane, applied in order at start, each once, each in a
/// transaction under an advisory lock, so several processes starting together apply each once. The schema is the
/// SQLite one's (times as Unix milliseconds, so both stores read the same way).
/// </summary>
internal static class PostgresMigrations
{
    private const long LockKey = 0x706f5f6d6967; // "po_mig"

    private static readonly (int Version, string Name, string Sql)[] All =
    [
        (1, "the control plane as of SQLite schema 8", """
            CREATE TABLE tenants (
                tenant_id  TEXT PRIMARY KEY,
                name       TEXT NOT NULL,
                plan       TEXT NOT NULL,
                created_at BIGINT NOT NULL);
            CREATE TABLE api_keys (
                prefix     TEXT PRIMARY KEY,
                tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id),
                hash       BYTEA NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT);
            CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);
            CREATE TABLE provider_keys (
                tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
                provider    TEXT NOT NULL,
                key_version INTEGER NOT NULL,
                nonce       BYTEA NOT NULL,
                ciphertext  BYTEA NOT NULL,
                tag         BYTEA NOT NULL,
                last4       TEXT NOT NULL,
                updated_at  BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, provider));
            CREATE TABLE experiments (
                tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id),
                experiment_id TEXT NOT NULL,
                name          TEXT NOT NULL,
                currency      TEXT NOT NULL,
                status        TEXT NOT NULL,
                variants      TEXT NOT NULL,
                created_at    BIGINT NOT NULL,
                updated_at    BIGINT NOT NULL,
                version       BIGINT NOT NULL DEFAULT 1,
                PRIMARY KEY (tenant_id, experiment_id));
            CREATE TABLE api_calls (
                tenant_id       TEXT NOT NULL,
                day             TEXT NOT NULL,
                calls           BIGINT NOT NULL,
                peak_per_minute BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant_id, day));
            CREATE TABLE billing_adapters (
                tenant_id  TEXT PRIMARY KEY REFERENCES tenants (tenant_id),
                provider   TEXT NOT NULL,
                mode       TEXT NOT NULL,
                updated_at BIGINT NOT NULL);
            CREATE TABLE dead_letters (
                id         BIGSERIAL PRIMARY KEY,
                tenant_id  TEXT NOT NULL,
                provider   TEXT NOT NULL,
                event_id   TEXT NOT NULL,
                kind       TEXT NOT NULL,
                event      TEXT NOT NULL,
                error      TEXT NOT NULL,
                attempts   INTEGER NOT NULL,
                created_at BIGINT NOT NULL);
            CREATE INDEX dead_letters_by_tenant ON dead_letters (tenant_id, id);
            CREATE UNIQUE INDEX dead_letters_once ON dead_letters (tenant_id, event_id, kind);
            """),
        (2, "request counts per partition and clock-aligned window (one rate-limit budget for every API process)", """
            CREATE UNLOGGED TABLE request_windows (
                partition    TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                count        BIGINT NOT NULL,
                PRIMARY KEY (partition, window_start));
            """),
        (3, "the goal an experiment is decided on", """
            ALTER TABLE experiments ADD COLUMN goal TEXT NOT NULL DEFAULT 'revenue';
            ALTER TABLE experiments ADD COLUMN unit_cost TEXT;
            """),
        (4, "how an experiment splits its users (null: fixed weights)", """
            ALTER TABLE experiments ADD COLUMN allocation TEXT;
            """),
        (5, "adaptive weight versions and each user's first assignment", """
            CREATE TABLE weight_versions (
                tenant_id     TEXT NOT NULL,
                experiment_id TEXT NOT NULL,
                version       INTEGER NOT NULL,
                starts_at     BIGINT NOT NULL,
                weights       TEXT NOT NULL,
                reasons       TEXT NOT NULL,
                PRIMARY KEY (tenant_id, experiment_id, version));
            CREATE TABLE first_assignments (
                tenant_id     TEXT NOT NULL,
                experiment_id TEXT NOT NULL,
                user_id       TEXT NOT NULL,
                variant_id    TEXT NOT NULL,
                version       INTEGER NOT NULL,
                assigned_at   BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, experiment_id, user_id));
            """),
    ];

    public static int Latest => All[^1].Version;

    public static async Task ApplyAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at BIGINT NOT NULL)
            """, connection))
        {
            try
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
            {
                // another process created it at the same moment
            }
        }

        foreach (var (version, name, sql) in All)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue("key", LockKey);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var check = new NpgsqlCommand("SELECT count(*) FROM schema_migrations WHERE version = @v", connection, transaction))
            {
                check.Parameters.AddWithValue("v", version);
                if ((long)(await check.ExecuteScalarAsync(cancellationToken))! > 0)
                {
                    continue;
                }
            }

            await using (var apply = new NpgsqlCommand(sql, connection, transaction))
            {
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)", connection,
                transaction))
            {
                record.Parameters.AddWithValue("v", version);
                record.Parameters.AddWithValue("n", name);
                record.Parameters.AddWithValue("t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }
}
