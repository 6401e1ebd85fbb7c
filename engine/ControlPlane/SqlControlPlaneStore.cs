using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;

namespace PricingOptimizer.ControlPlane;

/// <summary>
/// The control plane's queries, written once for both stores (SQLite and PostgreSQL): the same tables and columns
/// (times as Unix milliseconds, days as yyyy-MM-dd text, enums by their wire names), the same SQL (<c>@name</c>
/// parameters and <c>ON CONFLICT</c> upserts, which both dialects read alike), mapped by Dapper. A store supplies its
/// connections, its migrations, and what it does after a change (PostgreSQL announces it to other processes).
/// </summary>
public abstract class SqlControlPlaneStore : IControlPlaneStore
{
    private const string TenantColumns = "tenant_id, name, plan, created_at";
    private const string KeyColumns = "prefix, tenant_id, created_at, revoked_at";
    private const string SealedColumns = "tenant_id, provider, key_version, nonce, ciphertext, tag, last4, updated_at";
    private const string ExperimentColumns =
        "tenant_id, experiment_id, name, currency, status, variants, created_at, updated_at, version, goal, unit_cost, allocation";
    private const string DeadLetterColumns = "id, tenant_id, provider, event_id, kind, event, error, attempts, created_at";

    static SqlControlPlaneStore() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    /// <summary>An open connection to the store.</summary>
    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Where this process hears of its own changes when the store cannot announce them to every process (SQLite).</summary>
    public ControlPlaneChanges? LocalChanges { get; set; }

    /// <summary>
    /// Called after a write other processes cache (<c>tenant {id}</c>, <c>experiment {tenant} {id}</c>), with the
    /// change committed. By default it tells this process (<see cref="LocalChanges"/>); other processes see it when
    /// their copies expire.
    /// </summary>
    protected virtual Task ChangedAsync(string payload, CancellationToken cancellationToken)
    {
        if (ControlPlaneChanges.Parse(payload) is { } change)
        {
            LocalChanges?.Publish(change);
        }

        return Task.CompletedTask;
    }

    public abstract Task<bool> IsReachableAsync(CancellationToken cancellationToken);

    /// <summary>
    /// "Is one of" a list parameter: <c>IN @list</c>, which Dapper expands into one parameter per item for SQLite;
    /// PostgreSQL takes the list as one array parameter instead.
    /// </summary>
    protected virtual string InList(string parameter) => "IN " + parameter;

    // Tenants and API keys.

    public Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken) => ExecuteAsync(
        $"INSERT INTO tenants ({TenantColumns}) VALUES (@TenantId, @Name, @Plan, @CreatedAt)",
        new { tenant.TenantId, tenant.Name, tenant.Plan, CreatedAt = Ms(tenant.CreatedAt) }, cancellationToken);

    public async Task<Tenant?> GetTenantAsync(string tenantId, CancellationToken cancellationToken) =>
        (await QueryAsync<TenantRow>($"SELECT {TenantColumns} FROM tenants WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken))
        .Select(r => r.ToTenant()).SingleOrDefault();

    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken) =>
        [.. (await QueryAsync<TenantRow>($"SELECT {TenantColumns} FROM tenants ORDER BY created_at, tenant_id", null,
            cancellationToken)).Select(r => r.ToTenant())];

    public async Task<bool> SetPlanAsync(string tenantId, string plan, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync("UPDATE tenants SET plan = @plan WHERE tenant_id = @tenantId", new { tenantId, plan }, cancellationToken) == 1;
        if (changed)
        {
            await ChangedAsync("tenant " + tenantId, cancellationToken);
        }

        return changed;
    }

    public Task AddApiKeyAsync(ApiKeyInfo key, byte[] hash, CancellationToken cancellationToken) => ExecuteAsync(
        "INSERT INTO api_keys (prefix, tenant_id, hash, created_at) VALUES (@Prefix, @TenantId, @hash, @CreatedAt)",
        new { key.Prefix, key.TenantId, hash, CreatedAt = Ms(key.CreatedAt) }, cancellationToken);

    public async Task<ApiKeyInfo?> FindApiKeyAsync(byte[] hash, CancellationToken cancellationToken) =>
        (await QueryAsync<KeyRow>($"SELECT {KeyColumns} FROM api_keys WHERE hash = @hash", new { hash },
            cancellationToken)).Select(r => r.ToKey()).SingleOrDefault();

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string tenantId, CancellationToken cancellationToken) =>
        [.. (await QueryAsync<KeyRow>($"SELECT {KeyColumns} FROM api_keys WHERE tenant_id = @tenantId ORDER BY created_at, prefix", new { tenantId },
            cancellationToken)).Select(r => r.ToKey())];

    public async Task<bool> RevokeApiKeyAsync(string tenantId, string prefix, DateTimeOffset at, CancellationToken cancellationToken) => await ExecuteAsync(
        "UPDATE api_keys SET revoked_at = @at WHERE tenant_id = @tenantId AND prefix = @prefix AND revoked_at IS NULL",
        new { tenantId, prefix, at = Ms(at) }, cancellationToken) == 1;

    // Sealed provider keys.

    public Task SaveProviderKeyAsync(SealedProviderKey key, CancellationToken cancellationToken) => ExecuteAsync(
        $"""
        INSERT INTO provider_keys ({SealedColumns}) VALUES (@TenantId, @Provider, @KeyVersion, @Nonce, @Ciphertext, @Tag, @Last4, @UpdatedAt)
        ON CONFLICT (tenant_id, provider) DO UPDATE SET key_version = excluded.key_version, nonce = excluded.nonce,
            ciphertext = excluded.ciphertext, tag = excluded.tag, last4 = excluded.last4, updated_at = excluded.updated_at
        """,
        new { key.TenantId, key.Provider, key.KeyVersion, key.Nonce, key.Ciphertext, key.Tag, key.Last4, UpdatedAt = Ms(key.UpdatedAt) }, cancellationToken);

    public async Task<SealedProviderKey?> GetProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) =>
        (await QueryAsync<SealedRow>($"SELECT {SealedColumns} FROM provider_keys WHERE tenant_id = @tenantId AND provider = @provider",
            new { tenantId, provider }, cancellationToken)).Select(r => r.ToKey()).SingleOrDefault();

    public async Task<IReadOnlyList<SealedProviderKey>> ListProviderKeysAsync(string? tenantId, CancellationToken cancellationToken) =>
        [.. (await (tenantId is null
            ? QueryAsync<SealedRow>($"SELECT {SealedColumns} FROM provider_keys ORDER BY tenant_id, provider", null, cancellationToken)
            : QueryAsync<SealedRow>($"SELECT {SealedColumns} FROM provider_keys WHERE tenant_id = @tenantId ORDER BY tenant_id, provider", new { tenantId },
                cancellationToken))).Select(r => r.ToKey())];

    public async Task<bool> DeleteProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => await ExecuteAsync(
        "DELETE FROM provider_keys WHERE tenant_id = @tenantId AND provider = @provider", new { tenantId, provider }, cancellationToken) == 1;

    // Experiments: conditional writes on their version.

    public async Task<bool> InsertExperimentAsync(Experiments.Experiment experiment, CancellationToken cancellationToken) => await ExecuteAsync(
        $"""
        INSERT INTO experiments ({ExperimentColumns})
        VALUES (@TenantId, @ExperimentId, @Name, @Currency, @Status, @Variants, @CreatedAt, @UpdatedAt, @Version, @Goal, @UnitCost, @Allocation)
        ON CONFLICT (tenant_id, experiment_id) DO NOTHING
        """,
        ExperimentRow.From(experiment), cancellationToken) == 1;

    public async Task<bool> UpdateExperimentAsync(Experiments.Experiment experiment, long expectedVersion, CancellationToken cancellationToken)
    {
        var row = ExperimentRow.From(experiment);
        var changed = await ExecuteAsync(
            """
            UPDATE experiments SET name = @Name, currency = @Currency, status = @Status, variants = @Variants, updated_at = @UpdatedAt, version = @Version,
                goal = @Goal, unit_cost = @UnitCost, allocation = @Allocation
            WHERE tenant_id = @TenantId AND experiment_id = @ExperimentId AND created_at = @CreatedAt AND version = @Expected
            """,
            new
            {
                row.TenantId, row.ExperimentId, row.Name, row.Currency, row.Status, row.Variants, row.CreatedAt, row.UpdatedAt, row.Version, row.Goal,
                row.UnitCost, row.Allocation, Expected = expectedVersion,
            }, cancellationToken) == 1;
        if (changed)
        {
            await ChangedAsync($"experiment {experiment.TenantId} {experiment.ExperimentId}", cancellationToken);
        }

        return changed;
    }

    public async Task<Experiments.Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
        (await QueryAsync<ExperimentRow>($"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = @tenantId AND experiment_id = @experimentId",
            new { tenantId, experimentId }, cancellationToken)).Select(r => r.ToExperiment()).SingleOrDefault();

    public async Task<IReadOnlyList<Experiments.Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken) =>
        [.. (await QueryAsync<ExperimentRow>($"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = @tenantId ORDER BY created_at, experiment_id",
            new { tenantId }, cancellationToken)).Select(r => r.ToExperiment())];

    public async Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion, CancellationToken cancellationToken)
    {
        var deleted = await ExecuteAsync(
            "DELETE FROM experiments WHERE tenant_id = @tenantId AND experiment_id = @experimentId AND version = @expectedVersion",
            new { tenantId, experimentId, expectedVersion }, cancellationToken) == 1;
        if (deleted)
        {
            await ChangedAsync($"experiment {tenantId} {experimentId}", cancellationToken);
        }

        return deleted;
    }

    // Adaptive allocation: weight versions (insert-only, so two updaters cannot both write one version) and first assignments.

    public async Task<bool> AddWeightVersionAsync(Experiments.WeightVersion version, CancellationToken cancellationToken)
    {
        var added = await ExecuteAsync(
            """
            INSERT INTO weight_versions (tenant_id, experiment_id, version, starts_at, weights, reasons)
            VALUES (@TenantId, @ExperimentId, @Version, @StartsAt, @Weights, @Reasons)
            ON CONFLICT (tenant_id, experiment_id, version) DO NOTHING
            """,
            new
            {
                version.TenantId, version.ExperimentId, version.Version, StartsAt = Ms(version.StartsAt),
                Weights = JsonSerializer.Serialize(version.Weights, Json.Wire.Options), Reasons = JsonSerializer.Serialize(version.Reasons, Json.Wire.Options),
            }, cancellationToken) == 1;
        if (added)
        {
            await ChangedAsync($"experiment {version.TenantId} {version.ExperimentId}", cancellationToken);
        }

        return added;
    }

    public async Task<IReadOnlyList<Experiments.WeightVersion>> ListWeightVersionsAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
        [.. (await QueryAsync<WeightVersionRow>(
            """
            SELECT tenant_id, experiment_id, version, starts_at, weights, reasons FROM weight_versions
            WHERE tenant_id = @tenantId AND experiment_id = @experimentId ORDER BY version
            """, new { tenantId, experimentId }, cancellationToken)).Select(r => r.ToVersion())];

    public async Task<IReadOnlyList<Experiments.FirstAssignment?>> FirstAssignmentsAsync(IReadOnlyList<FirstAssignmentRequest> requests, bool recordNew,
        CancellationToken cancellationToken)
    {
        var found = new Experiments.FirstAssignment?[requests.Count];
        if (requests.Count == 0)
        {
            return found;
        }

        await using var connection = await OpenAsync(cancellationToken);

        // Recorded users are only read (no write lock, no commit), one query per experiment in the batch.
        await ReadAsync(null);
        var missing = Enumerable.Range(0, requests.Count).Where(i => found[i] is null).ToList();
        if (recordNew && missing.Count > 0)
        {
            // The new ones in one transaction: a conflict (another process, or the same user twice) keeps the first.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO first_assignments (tenant_id, experiment_id, user_id, variant_id, version, assigned_at)
                VALUES (@TenantId, @ExperimentId, @UserId, @VariantId, @Version, @At)
                ON CONFLICT (tenant_id, experiment_id, user_id) DO NOTHING
                """, missing.Select(i => requests[i]).Select(r => new { r.TenantId, r.ExperimentId, r.UserId, r.IfNew.VariantId, r.IfNew.Version,
                    At = Ms(r.IfNew.At) }), transaction, cancellationToken: cancellationToken));
            await ReadAsync(transaction);
            await transaction.CommitAsync(cancellationToken);
        }

        return found;

        async Task ReadAsync(DbTransaction? transaction)
        {
            foreach (var group in Enumerable.Range(0, requests.Count).Where(i => found[i] is null)
                .GroupBy(i => (requests[i].TenantId, requests[i].ExperimentId)))
            {
                var rows = (await connection.QueryAsync<FirstAssignmentRow>(new CommandDefinition(
                        "SELECT user_id, variant_id, version, assigned_at FROM first_assignments " +
                        $"WHERE tenant_id = @TenantId AND experiment_id = @ExperimentId AND user_id {InList("@Users")}",
                        new { group.Key.TenantId, group.Key.ExperimentId, Users = group.Select(i => requests[i].UserId).Distinct().ToArray() }, transaction,
                        cancellationToken: cancellationToken)))
                    .ToDictionary(r => r.UserId, r => new Experiments.FirstAssignment(r.VariantId, checked((int)r.Version), Time(r.AssignedAt)),
                        StringComparer.Ordinal);
                foreach (var i in group)
                {
                    found[i] = rows.GetValueOrDefault(requests[i].UserId);
                }
            }
        }
    }

    // Usage: additive per-day counters, so several processes can flush.

    public async Task AddApiCallsAsync(IReadOnlyCollection<ApiCallCount> counts, CancellationToken cancellationToken)
    {
        if (counts.Count == 0)
        {
            return;
        }

        // One row per (tenant, day), in one transaction.
        var rows = counts.GroupBy(c => (c.TenantId, c.Day))
            .Select(g => new { g.Key.TenantId, Day = Day(g.Key.Day), Calls = g.Sum(c => c.Calls), Peak = g.Max(c => c.PeakPerMinute) })
            .ToList();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO api_calls (tenant_id, day, calls, peak_per_minute) VALUES (@TenantId, @Day, @Calls, @Peak)
            ON CONFLICT (tenant_id, day) DO UPDATE SET calls = api_calls.calls + excluded.calls,
                peak_per_minute = CASE WHEN excluded.peak_per_minute > api_calls.peak_per_minute THEN excluded.peak_per_minute ELSE api_calls.peak_per_minute END
            """, rows, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiCallDay>> GetApiCallsAsync(string tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
        [.. (await QueryAsync<ApiCallRow>("SELECT day, calls, peak_per_minute FROM api_calls WHERE tenant_id = @tenantId AND day BETWEEN @from AND " +
            "@to ORDER BY day",
            new { tenantId, from = Day(from), to = Day(to) }, cancellationToken))
            .Select(r => new ApiCallDay(DateOnly.ParseExact(r.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture), r.Calls, r.PeakPerMinute))];

    // Billing: the adapter per tenant, and dead letters.

    public Task SetBillingAsync(Billing.BillingSettings settings, CancellationToken cancellationToken) => ExecuteAsync(
        """
        INSERT INTO billing_adapters (tenant_id, provider, mode, updated_at) VALUES (@TenantId, @Provider, @Mode, @UpdatedAt)
        ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider, mode = excluded.mode, updated_at = excluded.updated_at
        """,
        new { settings.TenantId, Provider = Json.Wire.Name(settings.Provider), Mode = Json.Wire.Name(settings.Mode), UpdatedAt = Ms(settings.UpdatedAt) },
        cancellationToken);

    public async Task<Billing.BillingSettings?> GetBillingAsync(string tenantId, CancellationToken cancellationToken) =>
        (await QueryAsync<BillingRow>("SELECT tenant_id, provider, mode, updated_at FROM billing_adapters WHERE tenant_id = @tenantId", new { tenantId },
            cancellationToken)).Select(r => r.ToSettings()).FirstOrDefault();

    public async Task<bool> DeleteBillingAsync(string tenantId, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM billing_adapters WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken) > 0;

    public async Task AddDeadLettersAsync(IReadOnlyCollection<Billing.DeadLetter> letters, CancellationToken cancellationToken)
    {
        if (letters.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO dead_letters (tenant_id, provider, event_id, kind, event, error, attempts, created_at)
            VALUES (@TenantId, @Provider, @EventId, @Kind, @Event, @Error, @Attempts, @CreatedAt)
            ON CONFLICT (tenant_id, event_id, kind) DO UPDATE SET
                provider = excluded.provider, error = excluded.error, attempts = excluded.attempts, created_at = excluded.created_at
            """,
            letters.Select(l => new { l.TenantId, l.Provider, l.EventId, l.Kind, l.Event, l.Error, l.Attempts, CreatedAt = Ms(l.CreatedAt) }).ToList(),
            transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Billing.DeadLetter>> ListDeadLettersAsync(string tenantId, int limit, CancellationToken cancellationToken) =>
        [.. (await QueryAsync<DeadLetterRow>($"SELECT {DeadLetterColumns} FROM dead_letters WHERE tenant_id = @tenantId ORDER BY id DESC LIMIT @limit",
            new { tenantId, limit }, cancellationToken)).Select(r => r.ToLetter())];

    public async Task<long> CountDeadLettersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM dead_letters", cancellationToken: cancellationToken));
    }

    protected static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private async Task<int> ExecuteAsync(string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }

    private async Task<List<T>> QueryAsync<T>(string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))];
    }

    // Rows as the tables hold them; Dapper fills them by column name (tenant_id → TenantId).

    private sealed class TenantRow
    {
        public string TenantId { get; init; } = "";
        public string Name { get; init; } = "";
        public string Plan { get; init; } = "";
        public long CreatedAt { get; init; }

        public Tenant ToTenant() => new(TenantId, Name, Plan, Time(CreatedAt));
    }

    private sealed class KeyRow
    {
        public string Prefix { get; init; } = "";
        public string TenantId { get; init; } = "";
        public long CreatedAt { get; init; }
        public long? RevokedAt { get; init; }

        public ApiKeyInfo ToKey() => new(Prefix, TenantId, Time(CreatedAt), RevokedAt is { } at ? Time(at) : null);
    }

    private sealed class SealedRow
    {
        public string TenantId { get; init; } = "";
        public string Provider { get; init; } = "";
        public long KeyVersion { get; init; }
        public byte[] Nonce { get; init; } = [];
        public byte[] Ciphertext { get; init; } = [];
        public byte[] Tag { get; init; } = [];
        public string Last4 { get; init; } = "";
        public long UpdatedAt { get; init; }

        public SealedProviderKey ToKey() => new(TenantId, Provider, checked((int)KeyVersion), Nonce, Ciphertext, Tag, Last4, Time(UpdatedAt));
    }

    private sealed class ExperimentRow
    {
        public string TenantId { get; init; } = "";
        public string ExperimentId { get; init; } = "";
        public string Name { get; init; } = "";
        public string Currency { get; init; } = "";
        public string Status { get; init; } = "";
        public string Variants { get; init; } = "";
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }
        public long Version { get; init; }
        public string Goal { get; init; } = "";
        public string? UnitCost { get; init; }
        public string? Allocation { get; init; }

        public static ExperimentRow From(Experiments.Experiment e) => new()
        {
            TenantId = e.TenantId, ExperimentId = e.ExperimentId, Name = e.Name, Currency = e.Currency, Status = ExperimentColumnsText.Status(e.Status),
            Variants = ExperimentColumnsText.Variants(e.Variants), CreatedAt = Ms(e.CreatedAt), UpdatedAt = Ms(e.UpdatedAt), Version = e.Version,
            Goal = Json.Wire.Name(e.Goal), UnitCost = e.UnitCost is { } cost ? ExperimentColumnsText.Money(cost) : null,
            Allocation = ExperimentColumnsText.Allocation(e.Allocation),
        };

        public Experiments.Experiment ToExperiment()
        {
            var goal = ExperimentColumnsText.Goal(Goal);
            var unitCost = UnitCost is null ? (decimal?)null : ExperimentColumnsText.Money(UnitCost);
            return new(TenantId, ExperimentId, Name, Currency, ExperimentColumnsText.Status(Status), ExperimentColumnsText.Variants(Variants), Time(CreatedAt),
                Time(UpdatedAt))
            {
                Version = Version, Goal = goal, UnitCost = unitCost, Allocation = ExperimentColumnsText.Allocation(Allocation, goal, unitCost),
            };
        }
    }

    private sealed class WeightVersionRow
    {
        public string TenantId { get; init; } = "";
        public string ExperimentId { get; init; } = "";
        public long Version { get; init; }
        public long StartsAt { get; init; }
        public string Weights { get; init; } = "{}";
        public string Reasons { get; init; } = "[]";

        public Experiments.WeightVersion ToVersion() => new(TenantId, ExperimentId, checked((int)Version), Time(StartsAt),
            JsonSerializer.Deserialize<Dictionary<string, double>>(Weights, Json.Wire.Options) ?? [],
            JsonSerializer.Deserialize<List<string>>(Reasons, Json.Wire.Options) ?? []);
    }

    private sealed class FirstAssignmentRow
    {
        public string UserId { get; init; } = "";
        public string VariantId { get; init; } = "";
        public long Version { get; init; }
        public long AssignedAt { get; init; }
    }

    private sealed class ApiCallRow
    {
        public string Day { get; init; } = "";
        public long Calls { get; init; }
        public long PeakPerMinute { get; init; }
    }

    private sealed class BillingRow
    {
        public string TenantId { get; init; } = "";
        public string Provider { get; init; } = "";
        public string Mode { get; init; } = "";
        public long UpdatedAt { get; init; }

        public Billing.BillingSettings ToSettings() => new(TenantId, BillingColumnsText.Provider(Provider), BillingColumnsText.Mode(Mode), Time(UpdatedAt));
    }

    private sealed class DeadLetterRow
    {
        public long Id { get; init; }
        public string TenantId { get; init; } = "";
        public string Provider { get; init; } = "";
        public string EventId { get; init; } = "";
        public string Kind { get; init; } = "";
        public string Event { get; init; } = "";
        public string Error { get; init; } = "";
        public long Attempts { get; init; }
        public long CreatedAt { get; init; }

        public Billing.DeadLetter ToLetter() => new(Id, TenantId, Provider, EventId, Kind, Event, Error, checked((int)Attempts), Time(CreatedAt));
    }
}
