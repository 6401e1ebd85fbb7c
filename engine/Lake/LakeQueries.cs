using System.Data.Common;
using DuckDB.NET.Data;
using PricingOptimizer.Events;

namespace PricingOptimizer.Lake;

/// <summary>
/// DuckDB over the Parquet lake. One in-memory DuckDB database per instance, so file metadata stays cached
/// between queries; each query runs on its own connection to it, so an instance may be shared across threads.
/// </summary>
public sealed class LakeQueries : IDisposable
{
    private readonly DuckDBConnection database;

    public LakeQueries(LakeLayout layout)
    {
        Layout = layout;
        database = new DuckDBConnection("Data Source=:memory:");
        database.Open();
    }

    public LakeLayout Layout { get; }

    private DuckDBConnection Connect()
    {
        var connection = database.Duplicate();
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get("lake_events_macro");
        command.ExecuteNonQuery();
        return connection;
    }

    private string TenantGlob(string tenantId) =>
        Path.Combine(Layout.EventsRoot, "tenant_id=" + tenantId, "**", "*.parquet");

    private bool TenantHasEvents(string tenantId)
    {
        LakeLayout.EnsureTenantId(tenantId);
        var folder = Path.Combine(Layout.EventsRoot, "tenant_id=" + tenantId);
        return Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories).Any();
    }

    /// <summary>Per tenant: events (each event_id once), assigns, converts, experiments and the date range.</summary>
    public async Task<IReadOnlyList<TenantEventCounts>> CountByTenantAsync(CancellationToken cancellationToken)
    {
        if (!Layout.HasEvents())
        {
            return [];
        }

        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get("events_by_tenant");
        command.Parameters.Add(new DuckDBParameter("files", Layout.EventsGlob));
        var result = new List<TenantEventCounts>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new TenantEventCounts(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                reader.GetInt64(4), reader.GetFieldValue<DateOnly>(5), reader.GetFieldValue<DateOnly>(6)));
        }

        return result;
    }

    /// <summary>Every event of a tenant (optionally one experiment), each event_id once, in time order.</summary>
    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string tenantId, string? experimentId, CancellationToken cancellationToken)
    {
        if (!TenantHasEvents(tenantId))
        {
            return [];
        }

        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get("tenant_events");
        command.Parameters.Add(new DuckDBParameter("files", TenantGlob(tenantId)));
        command.Parameters.Add(new DuckDBParameter("experiment", (object?)experimentId ?? DBNull.Value));
        var result = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(ReadStoredEvent(reader));
        }

        return result;
    }

    /// <summary>A tenant's events per day (each event_id once) from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    public async Task<IReadOnlyList<(DateOnly Day, long Events)>> EventsByDayAsync(string tenantId, DateOnly from, DateOnly to,
        CancellationToken cancellationToken)
    {
        if (!TenantHasEvents(tenantId))
        {
            return [];
        }

        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get("tenant_events_by_day");
        command.Parameters.Add(new DuckDBParameter("files", TenantGlob(tenantId)));
        command.Parameters.Add(new DuckDBParameter("from", from));
        command.Parameters.Add(new DuckDBParameter("to", to));
        var result = new List<(DateOnly, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add((reader.GetFieldValue<DateOnly>(0), reader.GetInt64(1)));
        }

        return result;
    }

    /// <summary>Per-variant sufficient statistics of one experiment, and how many users were exposed to more than one variant.</summary>
    public async Task<(IReadOnlyList<Statistics.VariantStats> Variants, long MultipleExposureUsers)> ExperimentStatsAsync(string tenantId,
        string experimentId, CancellationToken cancellationToken)
    {
        if (!TenantHasEvents(tenantId))
        {
            return ([], 0);
        }

        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get("experiment_stats");
        command.Parameters.Add(new DuckDBParameter("files", TenantGlob(tenantId)));
        command.Parameters.Add(new DuckDBParameter("experiment", experimentId));
        var result = new List<Statistics.VariantStats>();
        long multiple = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new Statistics.VariantStats(reader.GetString(0), reader.GetDecimal(1), reader.GetInt64(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? 0m : reader.GetDecimal(4), reader.IsDBNull(5) ? 0 : reader.GetDouble(5)));
            multiple = reader.GetInt64(6);
        }

        return (result, multiple);
    }

    private static StoredEvent ReadStoredEvent(DbDataReader reader)
    {
        EventTypeNames.TryParse(reader.GetString(3), out var type);
        var properties = reader.IsDBNull(11) ? null : ReadMap(reader.GetValue(11));
        var e = new PricingEvent(reader.GetString(2), type, reader.GetString(4), reader.GetString(5), reader.GetString(6),
            reader.GetDecimal(7), reader.IsDBNull(8) ? null : reader.GetDecimal(8), reader.GetString(9),
            AsUtc(reader.GetDateTime(10)), properties);
        return new StoredEvent(reader.GetString(0), reader.GetFieldValue<DateOnly>(1), e, AsUtc(reader.GetDateTime(12)));
    }

    private static Dictionary<string, string>? ReadMap(object value) => value switch
    {
        IDictionary<string, string> typed => new Dictionary<string, string>(typed, StringComparer.Ordinal),
        System.Collections.IDictionary untyped => untyped.Keys.Cast<object>()
            .ToDictionary(k => k.ToString()!, k => untyped[k]?.ToString() ?? "", StringComparer.Ordinal),
        _ => throw new InvalidDataException($"properties came back from DuckDB as {value.GetType()}, not a map"),
    };

    /// <summary>DuckDB hands TIMESTAMPTZ back as a UTC DateTime of kind Unspecified.</summary>
    private static DateTimeOffset AsUtc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    /// <summary>Log positions that occur more than once (in one file or across files): empty in a healthy lake.</summary>
    public async Task<IReadOnlyList<DuplicatePosition>> FindDuplicatePositionsAsync(CancellationToken cancellationToken)
    {
        if (!Layout.HasEvents())
        {
            return [];
        }

        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get("file_positions");
        command.Parameters.Add(new DuckDBParameter("files", Layout.EventsGlob));
        var result = new List<DuplicatePosition>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new DuplicatePosition(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        return result;
    }

    public void Dispose() => database.Dispose();
}
