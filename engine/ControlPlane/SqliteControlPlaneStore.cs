using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

/// <summary>The control plane in one SQLite file (WAL, safe for several processes), migrated at start.</summary>
public sealed class SqliteControlPlaneStore : IControlPlaneStore
{
    private readonly string connectionString;

    public SqliteControlPlaneStore(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true, DefaultTimeout = 30 };
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        this.connectionString = builder.ToString();
        using var connection = Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        SqliteMigrations.Apply(connection);
    }

    /// <summary>The schema version after start.</summary>
    public static int SchemaVersion => SqliteMigrations.Latest;

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    private async Task<T> RunAsync<T>(string sql, Action<SqliteParameterCollection> bind, Func<SqliteCommand, CancellationToken, Task<T>> run,
        CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command.Parameters);
        return await run(command, cancellationToken);
    }

    private static async Task<List<T>> ReadAllAsync<T>(SqliteCommand command, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
    {
        var result = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(map(reader));
        }

        return result;
    }

    private static DateTimeOffset Time(SqliteDataReader reader, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    private static Tenant ReadTenant(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), Time(r, 3));

    private static ApiKeyInfo ReadKey(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), Time(r, 2), r.IsDBNull(3) ? null : Time(r, 3));

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken) =>
        await RunAsync("SELECT count(*) FROM schema_migrations", _ => { }, async (c, ct) => await c.ExecuteScalarAsync(ct), cancellationToken) is long;

    public Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken) => RunAsync(
        "INSERT INTO tenants (tenant_id, name, plan, created_at) VALUES ($id, $name, $plan, $at)",
        p =>
        {
            p.AddWithValue("$id", tenant.TenantId);
            p.AddWithValue("$name", tenant.Name);
            p.AddWithValue("$plan", tenant.Plan);
            p.AddWithValue("$at", tenant.CreatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<Tenant?> GetTenantAsync(string tenantId, CancellationToken cancellationToken) => (await RunAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants WHERE tenant_id = $id",
        p => p.AddWithValue("$id", tenantId),
        (c, ct) => ReadAllAsync(c, ReadTenant, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken) => await RunAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants ORDER BY created_at, tenant_id",
        _ => { },
        (c, ct) => ReadAllAsync(c, ReadTenant, ct), cancellationToken);

    public async Task<bool> SetPlanAsync(string tenantId, string plan, CancellationToken cancellationToken) => await RunAsync(
        "UPDATE tenants SET plan = $plan WHERE tenant_id = $id",
        p =>
        {
            p.AddWithValue("$id", tenantId);
            p.AddWithValue("$plan", plan);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    public Task AddApiKeyAsync(ApiKeyInfo key, byte[] hash, CancellationToken cancellationToken) => RunAsync(
        "INSERT INTO api_keys (prefix, tenant_id, hash, created_at) VALUES ($prefix, $tenant, $hash, $at)",
        p =>
        {
            p.AddWithValue("$prefix", key.Prefix);
            p.AddWithValue("$tenant", key.TenantId);
            p.AddWithValue("$hash", hash);
            p.AddWithValue("$at", key.CreatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<ApiKeyInfo?> FindApiKeyAsync(byte[] hash, CancellationToken cancellationToken) => (await RunAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE hash = $hash",
        p => p.AddWithValue("$hash", hash),
        (c, ct) => ReadAllAsync(c, ReadKey, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string tenantId, CancellationToken cancellationToken) => await RunAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE tenant_id = $tenant ORDER BY created_at, prefix",
        p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => ReadAllAsync(c, ReadKey, ct), cancellationToken);

    public async Task<bool> RevokeApiKeyAsync(string tenantId, string prefix, DateTimeOffset at, CancellationToken cancellationToken) => await RunAsync(
        "UPDATE api_keys SET revoked_at = $at WHERE tenant_id = $tenant AND prefix = $prefix AND revoked_at IS NULL",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$prefix", prefix);
            p.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    private static SealedProviderKey ReadSealed(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt32(2),
        (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), r.GetString(6), Time(r, 7));

    private const string SealedColumns = "tenant_id, provider, key_version, nonce, ciphertext, tag, last4, updated_at";

    public Task SaveProviderKeyAsync(SealedProviderKey key, CancellationToken cancellationToken) => RunAsync(
        $"INSERT OR REPLACE INTO provider_keys ({SealedColumns}) VALUES ($tenant, $provider, $version, $nonce, $ciphertext, $tag, $last4, $at)",
        p =>
        {
            p.AddWithValue("$tenant", key.TenantId);
            p.AddWithValue("$provider", key.Provider);
            p.AddWithValue("$version", key.KeyVersion);
            p.AddWithValue("$nonce", key.Nonce);
            p.AddWithValue("$ciphertext", key.Ciphertext);
            p.AddWithValue("$tag", key.Tag);
            p.AddWithValue("$last4", key.Last4);
            p.AddWithValue("$at", key.UpdatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<SealedProviderKey?> GetProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => (await RunAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE tenant_id = $tenant AND provider = $provider",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$provider", provider);
        },
        (c, ct) => ReadAllAsync(c, ReadSealed, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<SealedProviderKey>> ListProviderKeysAsync(string? tenantId, CancellationToken cancellationToken) => await RunAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE $tenant IS NULL OR tenant_id = $tenant ORDER BY tenant_id, provider",
        p => p.AddWithValue("$tenant", (object?)tenantId ?? DBNull.Value),
        (c, ct) => ReadAllAsync(c, ReadSealed, ct), cancellationToken);

    public async Task<bool> DeleteProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => await RunAsync(
        "DELETE FROM provider_keys WHERE tenant_id = $tenant AND provider = $provider",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$provider", provider);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    private const string ExperimentColumns = "tenant_id, experiment_id, name, currency, status, variants, created_at, updated_at, version";

    private static Experiments.Experiment ReadExperiment(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2),
        r.GetString(3), ExperimentColumnsText.Status(r.GetString(4)),
        ExperimentColumnsText.Variants(r.GetString(5)), Time(r, 6), Time(r, 7)) { Version = r.GetInt64(8) };

    private static void BindExperiment(SqliteParameterCollection p, Experiments.Experiment e)
    {
        p.AddWithValue("$tenant", e.TenantId);
        p.AddWithValue("$id", e.ExperimentId);
        p.AddWithValue("$name", e.Name);
        p.AddWithValue("$currency", e.Currency);
        p.AddWithValue("$status", ExperimentColumnsText.Status(e.Status));
        p.AddWithValue("$variants", ExperimentColumnsText.Variants(e.Variants));
        p.AddWithValue("$created", e.CreatedAt.ToUnixTimeMilliseconds());
        p.AddWithValue("$updated", e.UpdatedAt.ToUnixTimeMilliseconds());
        p.AddWithValue("$version", e.Version);
    }

    public async Task<bool> InsertExperimentAsync(Experiments.Experiment experiment, CancellationToken cancellationToken) => await RunAsync(
        $"INSERT OR IGNORE INTO experiments ({ExperimentColumns}) VALUES ($tenant, $id, $name, $currency, $status, $variants, $created, $updated, $version)",
        p => BindExperiment(p, experiment),
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    public async Task<bool> UpdateExperimentAsync(Experiments.Experiment experiment, long expectedVersion, CancellationToken cancellationToken) => await RunAsync(
        """
        UPDATE experiments SET name = $name, currency = $currency, status = $status, variants = $variants, updated_at = $updated, version = $version
        WHERE tenant_id = $tenant AND experiment_id = $id AND created_at = $created AND version = $expected
        """,
        p =>
        {
            BindExperiment(p, experiment);
            p.AddWithValue("$expected", expectedVersion);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    public async Task<Experiments.Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken) => (await RunAsync(
        $"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = $tenant AND experiment_id = $id",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$id", experimentId);
        },
        (c, ct) => ReadAllAsync(c, ReadExperiment, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Experiments.Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken) => await RunAsync(
        $"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = $tenant ORDER BY created_at, experiment_id",
        p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => ReadAllAsync(c, ReadExperiment, ct), cancellationToken);

    public async Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion, CancellationToken cancellationToken) => await RunAsync(
        "DELETE FROM experiments WHERE tenant_id = $tenant AND experiment_id = $id AND version = $expected",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$id", experimentId);
            p.AddWithValue("$expected", expectedVersion);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    public async Task AddApiCallsAsync(IReadOnlyCollection<ApiCallCount> counts, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO api_calls (tenant_id, day, calls, peak_per_minute) VALUES ($tenant, $day, $calls, $peak)
            ON CONFLICT (tenant_id, day) DO UPDATE SET
                calls = calls + excluded.calls, peak_per_minute = max(peak_per_minute, excluded.peak_per_minute)
            """;
        var tenant = command.Parameters.Add("$tenant", SqliteType.Text);
        var day = command.Parameters.Add("$day", SqliteType.Text);
        var calls = command.Parameters.Add("$calls", SqliteType.Integer);
        var peak = command.Parameters.Add("$peak", SqliteType.Integer);
        foreach (var count in counts)
        {
            peak.Value = count.PeakPerMinute;
            tenant.Value = count.TenantId;
            day.Value = count.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            calls.Value = count.Calls;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiCallDay>> GetApiCallsAsync(string tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
        await RunAsync(
            "SELECT day, calls, peak_per_minute FROM api_calls WHERE tenant_id = $tenant AND day BETWEEN $from AND $to ORDER BY day",
            p =>
            {
                p.AddWithValue("$tenant", tenantId);
                p.AddWithValue("$from", from.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                p.AddWithValue("$to", to.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            },
            (c, ct) => ReadAllAsync(c, r => new ApiCallDay(DateOnly.ParseExact(r.GetString(0), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), r.GetInt64(1), r.GetInt64(2)), ct),
            cancellationToken);

    public Task SetBillingAsync(Billing.BillingSettings settings, CancellationToken cancellationToken) => RunAsync(
        "INSERT OR REPLACE INTO billing_adapters (tenant_id, provider, mode, updated_at) VALUES ($tenant, $provider, $mode, $at)",
        p =>
        {
            p.AddWithValue("$tenant", settings.TenantId);
            p.AddWithValue("$provider", settings.Provider);
            p.AddWithValue("$mode", settings.Mode == Billing.BillingMode.Byok ? "byok" : "managed");
            p.AddWithValue("$at", settings.UpdatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<Billing.BillingSettings?> GetBillingAsync(string tenantId, CancellationToken cancellationToken) => (await RunAsync(
        "SELECT tenant_id, provider, mode, updated_at FROM billing_adapters WHERE tenant_id = $tenant",
        p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => ReadAllAsync(c, r => new Billing.BillingSettings(r.GetString(0), r.GetString(1),
            r.GetString(2) == "byok" ? Billing.BillingMode.Byok : Billing.BillingMode.Managed, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))), ct),
        cancellationToken)).FirstOrDefault();

    public async Task<bool> DeleteBillingAsync(string tenantId, CancellationToken cancellationToken) => await RunAsync(
        "DELETE FROM billing_adapters WHERE tenant_id = $tenant", p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) > 0;

    public async Task AddDeadLettersAsync(IReadOnlyCollection<Billing.DeadLetter> letters, CancellationToken cancellationToken)
    {
        foreach (var letter in letters)
        {
            await RunAsync(
                """
                INSERT INTO dead_letters (tenant_id, provider, event_id, kind, event, error, attempts, created_at)
                VALUES ($tenant, $provider, $event_id, $kind, $event, $error, $attempts, $at)
                ON CONFLICT (tenant_id, event_id, kind) DO UPDATE SET
                    provider = excluded.provider, error = excluded.error, attempts = excluded.attempts, created_at = excluded.created_at
                """,
                p =>
                {
                    p.AddWithValue("$tenant", letter.TenantId);
                    p.AddWithValue("$provider", letter.Provider);
                    p.AddWithValue("$event_id", letter.EventId);
                    p.AddWithValue("$kind", letter.Kind);
                    p.AddWithValue("$event", letter.Event);
                    p.AddWithValue("$error", letter.Error);
                    p.AddWithValue("$attempts", letter.Attempts);
                    p.AddWithValue("$at", letter.CreatedAt.ToUnixTimeMilliseconds());
                },
                (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);
        }
    }

    public async Task<IReadOnlyList<Billing.DeadLetter>> ListDeadLettersAsync(string tenantId, int limit, CancellationToken cancellationToken) => await RunAsync(
        "SELECT id, tenant_id, provider, event_id, kind, event, error, attempts, created_at FROM dead_letters WHERE tenant_id = $tenant ORDER BY id DESC LIMIT $limit",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$limit", limit);
        },
        (c, ct) => ReadAllAsync(c, r => new Billing.DeadLetter(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
            r.GetString(6), r.GetInt32(7), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8))), ct),
        cancellationToken);

    public async Task<long> CountDeadLettersAsync(CancellationToken cancellationToken) => (await RunAsync(
        "SELECT count(*) FROM dead_letters", _ => { }, (c, ct) => ReadAllAsync(c, r => r.GetInt64(0), ct), cancellationToken))[0];
}
