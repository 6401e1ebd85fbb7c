using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using PricingOptimizer.Billing;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.ControlPlane.Postgres;

/// <summary>
/// The control plane in PostgreSQL (Npgsql), for many API processes on many machines: migrated at start; writes to
/// experiments and plans announce themselves on <see cref="ChangesChannel"/> (LISTEN/NOTIFY) so every process drops
/// its cached copy at once.
/// </summary>
public sealed class PostgresControlPlaneStore : IControlPlaneStore, IAsyncDisposable, IDisposable
{
    /// <summary>The NOTIFY channel: payloads <c>experiment {tenant} {experiment}</c> and <c>tenant {tenant}</c>.</summary>
    public const string ChangesChannel = "po_control_plane";

    private readonly NpgsqlDataSource source;

    /// <exception cref="InvalidOperationException">The server cannot be reached or migrated (the message says which).</exception>
    public PostgresControlPlaneStore(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionStrings.ToNpgsql(connectionString));
        source = NpgsqlDataSource.Create(builder);
        try
        {
            PostgresMigrations.ApplyAsync(source, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            source.Dispose();
            throw new InvalidOperationException(
                $"the PostgreSQL control plane at {builder.Host}:{builder.Port}/{builder.Database} cannot be used: {e.Message}", e);
        }
    }

    public static int SchemaVersion => PostgresMigrations.Latest;

    /// <summary>The pool, for the change listener and the rate-limit windows sharing this server.</summary>
    public NpgsqlDataSource DataSource => source;

    public void Dispose() => source.Dispose();

    public ValueTask DisposeAsync() => source.DisposeAsync();

    private async Task<int> ExecuteAsync(string sql, Action<NpgsqlParameterCollection> bind, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(sql);
        bind(command.Parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(sql);
        bind(command.Parameters);
        var result = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(map(reader));
        }

        return result;
    }

    private Task NotifyAsync(string payload, CancellationToken cancellationToken) =>
        ExecuteAsync("SELECT pg_notify(@channel, @payload)", p =>
        {
            p.AddWithValue("channel", ChangesChannel);
            p.AddWithValue("payload", payload);
        }, cancellationToken);

    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private static DateTimeOffset Time(NpgsqlDataReader r, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(ordinal));

    private static Tenant ReadTenant(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), Time(r, 3));

    private static ApiKeyInfo ReadKey(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), Time(r, 2), r.IsDBNull(3) ? null : Time(r, 3));

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("SELECT 1");
        return await command.ExecuteScalarAsync(cancellationToken) is 1;
    }

    public Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken) => ExecuteAsync(
        "INSERT INTO tenants (tenant_id, name, plan, created_at) VALUES (@id, @name, @plan, @at)",
        p =>
        {
            p.AddWithValue("id", tenant.TenantId);
            p.AddWithValue("name", tenant.Name);
            p.AddWithValue("plan", tenant.Plan);
            p.AddWithValue("at", Ms(tenant.CreatedAt));
        }, cancellationToken);

    public async Task<Tenant?> GetTenantAsync(string tenantId, CancellationToken cancellationToken) => (await QueryAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants WHERE tenant_id = @id", p => p.AddWithValue("id", tenantId), ReadTenant,
        cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken) => await QueryAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants ORDER BY created_at, tenant_id", _ => { }, ReadTenant, cancellationToken);

    public async Task<bool> SetPlanAsync(string tenantId, string plan, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync("UPDATE tenants SET plan = @plan WHERE tenant_id = @id", p =>
        {
            p.AddWithValue("id", tenantId);
            p.AddWithValue("plan", plan);
        }, cancellationToken) == 1;
        if (changed)
        {
            await NotifyAsync("tenant " + tenantId, cancellationToken);
        }

        return changed;
    }

    public Task AddApiKeyAsync(ApiKeyInfo key, byte[] hash, CancellationToken cancellationToken) => ExecuteAsync(
        "INSERT INTO api_keys (prefix, tenant_id, hash, created_at) VALUES (@prefix, @tenant, @hash, @at)",
        p =>
        {
            p.AddWithValue("prefix", key.Prefix);
            p.AddWithValue("tenant", key.TenantId);
            p.AddWithValue("hash", hash);
            p.AddWithValue("at", Ms(key.CreatedAt));
        }, cancellationToken);

    public async Task<ApiKeyInfo?> FindApiKeyAsync(byte[] hash, CancellationToken cancellationToken) => (await QueryAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE hash = @hash", p => p.AddWithValue("hash", hash), ReadKey,
        cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string tenantId, CancellationToken cancellationToken) => await QueryAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE tenant_id = @tenant ORDER BY created_at, prefix",
        p => p.AddWithValue("tenant", tenantId), ReadKey, cancellationToken);

    public async Task<bool> RevokeApiKeyAsync(string tenantId, string prefix, DateTimeOffset at, CancellationToken cancellationToken) => await ExecuteAsync(
        "UPDATE api_keys SET revoked_at = @at WHERE tenant_id = @tenant AND prefix = @prefix AND revoked_at IS NULL",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("prefix", prefix);
            p.AddWithValue("at", Ms(at));
        }, cancellationToken) == 1;

    private const string SealedColumns = "tenant_id, provider, key_version, nonce, ciphertext, tag, last4, updated_at";

    private static SealedProviderKey ReadSealed(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt32(2),
        (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), r.GetString(6), Time(r, 7));

    public Task SaveProviderKeyAsync(SealedProviderKey key, CancellationToken cancellationToken) => ExecuteAsync(
        $"""
        INSERT INTO provider_keys ({SealedColumns}) VALUES (@tenant, @provider, @version, @nonce, @ciphertext, @tag, @last4, @at)
        ON CONFLICT (tenant_id, provider) DO UPDATE SET key_version = excluded.key_version, nonce = excluded.nonce,
            ciphertext = excluded.ciphertext, tag = excluded.tag, last4 = excluded.last4, updated_at = excluded.updated_at
        """,
        p =>
        {
            p.AddWithValue("tenant", key.TenantId);
            p.AddWithValue("provider", key.Provider);
            p.AddWithValue("version", key.KeyVersion);
            p.AddWithValue("nonce", key.Nonce);
            p.AddWithValue("ciphertext", key.Ciphertext);
            p.AddWithValue("tag", key.Tag);
            p.AddWithValue("last4", key.Last4);
            p.AddWithValue("at", Ms(key.UpdatedAt));
        }, cancellationToken);

    public async Task<SealedProviderKey?> GetProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => (await QueryAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE tenant_id = @tenant AND provider = @provider",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("provider", provider);
        }, ReadSealed, cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<SealedProviderKey>> ListProviderKeysAsync(string? tenantId, CancellationToken cancellationToken) => await QueryAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE @tenant::text IS NULL OR tenant_id = @tenant ORDER BY tenant_id, provider",
        p => p.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = (object?)tenantId ?? DBNull.Value }), ReadSealed, cancellationToken);

    public async Task<bool> DeleteProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => await ExecuteAsync(
        "DELETE FROM provider_keys WHERE tenant_id = @tenant AND provider = @provider",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("provider", provider);
        }, cancellationToken) == 1;

    private const string ExperimentColumns = "tenant_id, experiment_id, name, currency, status, variants, created_at, updated_at, version";

    private static Experiment ReadExperiment(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
        ExperimentColumnsText.Status(r.GetString(4)), ExperimentColumnsText.Variants(r.GetString(5)), Time(r, 6), Time(r, 7))
    {
        Version = r.GetInt64(8),
    };

    private static void BindExperiment(NpgsqlParameterCollection p, Experiment e)
    {
        p.AddWithValue("tenant", e.TenantId);
        p.AddWithValue("id", e.ExperimentId);
        p.AddWithValue("name", e.Name);
        p.AddWithValue("currency", e.Currency);
        p.AddWithValue("status", ExperimentColumnsText.Status(e.Status));
        p.AddWithValue("variants", ExperimentColumnsText.Variants(e.Variants));
        p.AddWithValue("created", Ms(e.CreatedAt));
        p.AddWithValue("updated", Ms(e.UpdatedAt));
        p.AddWithValue("version", e.Version);
    }

    public async Task<bool> InsertExperimentAsync(Experiment experiment, CancellationToken cancellationToken) => await ExecuteAsync(
        $"""
        INSERT INTO experiments ({ExperimentColumns}) VALUES (@tenant, @id, @name, @currency, @status, @variants, @created, @updated, @version)
        ON CONFLICT (tenant_id, experiment_id) DO NOTHING
        """,
        p => BindExperiment(p, experiment), cancellationToken) == 1;

    public async Task<bool> UpdateExperimentAsync(Experiment experiment, long expectedVersion, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync(
            """
            UPDATE experiments SET name = @name, currency = @currency, status = @status, variants = @variants, updated_at = @updated, version = @version
            WHERE tenant_id = @tenant AND experiment_id = @id AND created_at = @created AND version = @expected
            """,
            p =>
            {
                BindExperiment(p, experiment);
                p.AddWithValue("expected", expectedVersion);
            }, cancellationToken) == 1;
        if (changed)
        {
            await NotifyAsync($"experiment {experiment.TenantId} {experiment.ExperimentId}", cancellationToken);
        }

        return changed;
    }

    public async Task<Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken) => (await QueryAsync(
        $"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = @tenant AND experiment_id = @id",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("id", experimentId);
        }, ReadExperiment, cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken) => await QueryAsync(
        $"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = @tenant ORDER BY created_at, experiment_id",
        p => p.AddWithValue("tenant", tenantId), ReadExperiment, cancellationToken);

    public async Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion, CancellationToken cancellationToken)
    {
        var deleted = await ExecuteAsync("DELETE FROM experiments WHERE tenant_id = @tenant AND experiment_id = @id AND version = @expected", p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("id", experimentId);
            p.AddWithValue("expected", expectedVersion);
        }, cancellationToken) == 1;
        if (deleted)
        {
            await NotifyAsync($"experiment {tenantId} {experimentId}", cancellationToken);
        }

        return deleted;
    }

    public async Task AddApiCallsAsync(IReadOnlyCollection<ApiCallCount> counts, CancellationToken cancellationToken)
    {
        if (counts.Count == 0)
        {
            return;
        }

        await using var command = source.CreateCommand("""
            INSERT INTO api_calls (tenant_id, day, calls, peak_per_minute)
            SELECT * FROM unnest(@tenants, @days, @calls, @peaks)
            ON CONFLICT (tenant_id, day) DO UPDATE SET
                calls = api_calls.calls + excluded.calls, peak_per_minute = greatest(api_calls.peak_per_minute, excluded.peak_per_minute)
            """);
        // One row per (tenant, day) in a statement: ON CONFLICT cannot touch a row twice.
        var merged = counts.GroupBy(c => (c.TenantId, c.Day)).Select(g => (g.Key.TenantId, g.Key.Day, Calls: g.Sum(c => c.Calls), Peak: g.Max(c => c.PeakPerMinute))).ToList();
        command.Parameters.AddWithValue("tenants", merged.Select(c => c.TenantId).ToArray());
        command.Parameters.AddWithValue("days", merged.Select(c => c.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToArray());
        command.Parameters.AddWithValue("calls", merged.Select(c => c.Calls).ToArray());
        command.Parameters.AddWithValue("peaks", merged.Select(c => c.Peak).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiCallDay>> GetApiCallsAsync(string tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken) => await QueryAsync(
        "SELECT day, calls, peak_per_minute FROM api_calls WHERE tenant_id = @tenant AND day BETWEEN @from AND @to ORDER BY day",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("from", from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            p.AddWithValue("to", to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        },
        r => new ApiCallDay(DateOnly.ParseExact(r.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture), r.GetInt64(1), r.GetInt64(2)), cancellationToken);

    public Task SetBillingAsync(BillingSettings settings, CancellationToken cancellationToken) => ExecuteAsync(
        """
        INSERT INTO billing_adapters (tenant_id, provider, mode, updated_at) VALUES (@tenant, @provider, @mode, @at)
        ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider, mode = excluded.mode, updated_at = excluded.updated_at
        """,
        p =>
        {
            p.AddWithValue("tenant", settings.TenantId);
            p.AddWithValue("provider", settings.Provider);
            p.AddWithValue("mode", settings.Mode == BillingMode.Byok ? "byok" : "managed");
            p.AddWithValue("at", Ms(settings.UpdatedAt));
        }, cancellationToken);

    public async Task<BillingSettings?> GetBillingAsync(string tenantId, CancellationToken cancellationToken) => (await QueryAsync(
        "SELECT tenant_id, provider, mode, updated_at FROM billing_adapters WHERE tenant_id = @tenant", p => p.AddWithValue("tenant", tenantId),
        r => new BillingSettings(r.GetString(0), r.GetString(1), r.GetString(2) == "byok" ? BillingMode.Byok : BillingMode.Managed, Time(r, 3)),
        cancellationToken)).FirstOrDefault();

    public async Task<bool> DeleteBillingAsync(string tenantId, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM billing_adapters WHERE tenant_id = @tenant", p => p.AddWithValue("tenant", tenantId), cancellationToken) > 0;

    public async Task AddDeadLettersAsync(IReadOnlyCollection<DeadLetter> letters, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var letter in letters)
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO dead_letters (tenant_id, provider, event_id, kind, event, error, attempts, created_at)
                VALUES (@tenant, @provider, @event_id, @kind, @event, @error, @attempts, @at)
                ON CONFLICT (tenant_id, event_id, kind) DO UPDATE SET
                    provider = excluded.provider, error = excluded.error, attempts = excluded.attempts, created_at = excluded.created_at
                """, connection, transaction);
            command.Parameters.AddWithValue("tenant", letter.TenantId);
            command.Parameters.AddWithValue("provider", letter.Provider);
            command.Parameters.AddWithValue("event_id", letter.EventId);
            command.Parameters.AddWithValue("kind", letter.Kind);
            command.Parameters.AddWithValue("event", letter.Event);
            command.Parameters.AddWithValue("error", letter.Error);
            command.Parameters.AddWithValue("attempts", letter.Attempts);
            command.Parameters.AddWithValue("at", Ms(letter.CreatedAt));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string tenantId, int limit, CancellationToken cancellationToken) => await QueryAsync(
        "SELECT id, tenant_id, provider, event_id, kind, event, error, attempts, created_at FROM dead_letters WHERE tenant_id = @tenant ORDER BY id DESC LIMIT @limit",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("limit", limit);
        },
        r => new DeadLetter(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetInt32(7),
            Time(r, 8)), cancellationToken);

    public async Task<long> CountDeadLettersAsync(CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT count(*) FROM dead_letters", _ => { }, r => r.GetInt64(0), cancellationToken))[0];
}
