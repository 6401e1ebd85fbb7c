using System.Data.Common;
using System.Globalization;
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

    /// <summary>
    /// DuckDB's memory for this instance, in MB (its buffer pool: scans, joins, aggregates and the user summaries);
    /// beyond it DuckDB spills to disk. 256 MB keeps a 10 M-event recommendation within
    /// half a gigabyte of resident memory (README, <c>po bench recommend</c>).
    /// </summary>
    public const int DefaultMemoryLimitMb = 256;

    /// <summary>The statistics contract's default CUPED lookback (<c>Statistics:CupedLookbackDays</c>).</summary>
    public const int DefaultCupedLookbackDays = 30;

    /// <param name="layout">The lake.</param>
    /// <param name="memoryLimitMb">DuckDB's memory limit in MB; see <see cref="DefaultMemoryLimitMb"/>.</param>
    /// <param name="spillRoot">
    /// Where DuckDB spills beyond the limit; defaults to <c>po-duckdb</c> in the system's temp directory. Each instance
    /// spills into a folder of its own there (<c>{process id}-{random}</c>, removed on dispose), so processes sharing a
    /// data directory never share spill files; folders of processes that are no longer running are removed on start.
    /// </param>
    /// <param name="cupedLookbackDays">How far before a user's first assign their pre-period revenue is summed (CUPED's covariate).</param>
    /// <param name="shareSummaries">
    /// Persist experiment summaries under <c>{lake}/_summaries/</c> and take up those other processes persisted (README "Shared
    /// summaries"); false keeps them in this process only. A lake whose folder cannot be written shares nothing, silently.
    /// </param>
    public LakeQueries(LakeLayout layout, int memoryLimitMb = DefaultMemoryLimitMb, string? spillRoot = null, int cupedLookbackDays = DefaultCupedLookbackDays,
        bool shareSummaries = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cupedLookbackDays, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryLimitMb, 16);
        Layout = layout;
        spillRoot ??= Path.Combine(Path.GetTempPath(), "po-duckdb");
        RemoveDeadSpillFolders(spillRoot);
        spillDirectory = Path.Combine(spillRoot, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid():N}"));
        database = new DuckDBConnection("Data Source=:memory:");
        database.Open();
        Limit(database, memoryLimitMb, spillDirectory);

        summaries = new ExperimentSummaries(Connect, cupedLookbackDays, shareSummaries ? new SummaryStore(layout, new TimeFromInstance(this)) : null,
            () => Time, step => AfterSummaryPersistStep?.Invoke(step));
    }

    private readonly string spillDirectory;

    /// <summary>DuckDB's memory limit for <paramref name="connection"/>'s database, and where it spills beyond it.</summary>
    internal static void Limit(DuckDBConnection connection, int memoryLimitMb, string spillDirectory)
    {
        // DuckDB makes the spill folder when it first spills, but not the folders above it.
        Directory.CreateDirectory(Path.GetDirectoryName(spillDirectory)!);
        using var settings = connection.CreateCommand();
        var spill = spillDirectory.Replace("'", "''", StringComparison.Ordinal);
        settings.CommandText = string.Create(CultureInfo.InvariantCulture, $"SET memory_limit = '{memoryLimitMb}MB'; SET temp_directory = '{spill}'");
        settings.ExecuteNonQuery();
    }

    /// <summary>Spill folders left by processes that ended without disposing (a crash, a kill).</summary>
    private static void RemoveDeadSpillFolders(string spillRoot)
    {
        if (!Directory.Exists(spillRoot))
        {
            return;
        }

        foreach (var folder in Directory.EnumerateDirectories(spillRoot))
        {
            var name = Path.GetFileName(folder);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || IsRunning(pid))
            {
                continue;
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process is removing it too, or it is not ours to remove: leave it.
            }
        }
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private readonly ExperimentSummaries summaries;

    public LakeLayout Layout { get; }

    /// <summary>The instance's <see cref="Time"/>, read when asked (it is set after construction).</summary>
    private sealed class TimeFromInstance(LakeQueries queries) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => queries.Time.GetUtcNow();
    }

    private DuckDBConnection Connect()
    {
        var connection = database.Duplicate();
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get("lake_events_macro");
        command.ExecuteNonQuery();
        return connection;
    }

    private string TenantFolder(string tenantId)
    {
        LakeLayout.EnsureTenantId(tenantId);
        return Path.Combine(Layout.EventsRoot, "tenant_id=" + tenantId);
    }

    /// <summary>Runs the embedded query <paramref name="sqlName"/> over the files of one tenant (null: every tenant) and maps each row.</summary>
    private Task<List<T>> QueryAsync<T>(string? tenantId, string sqlName, IEnumerable<(string Name, object? Value)> parameters, Func<DbDataReader, T> map,
        CancellationToken cancellationToken) =>
        OverFilesAsync(tenantId, files => RunAsync(sqlName, [("files", files.Select(f => f.Path).ToArray()), .. parameters], map, cancellationToken), [],
            cancellationToken);

    private async Task<List<T>> RunAsync<T>(string sqlName, IEnumerable<(string Name, object? Value)> parameters, Func<DbDataReader, T> map,
        CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = SqlResources.Get(sqlName);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(name, value ?? DBNull.Value));
        }

        var result = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(map(reader));
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="read"/> over the files of one tenant (null: every tenant), listed under a <see cref="ReadLease"/>
    /// so that no compaction removes a listed file meanwhile (<paramref name="none"/> when there are none). A file that
    /// vanished all the same (removed by hand) lists again; a file that cannot be read is quarantined and the read runs
    /// again without it.
    /// </summary>
    private async Task<T> OverFilesAsync<T>(string? tenantId, Func<IReadOnlyList<LakeFile>, Task<T>> read, T none, CancellationToken cancellationToken)
    {
        var folder = tenantId is null ? Layout.EventsRoot : TenantFolder(tenantId);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var lease = TryLease();
            var files = LakeReaders.List(folder);
            if (files.Count == 0)
            {
                return none;
            }

            try
            {
                return await read(files);
            }
            catch (Exception e) when (attempt < ReadAttempts && e is DuckDBException or IOException && !cancellationToken.IsCancellationRequested)
            {
                if (files.Any(f => !File.Exists(f.Path)))
                {
                    continue;
                }

                var moved = LakeQuarantine.SetAsideUnreadable(Layout, files.Select(f => f.Path), e, Time.GetUtcNow());
                if (moved.Count == 0)
                {
                    throw;
                }

                foreach (var file in moved)
                {
                    Quarantined?.Invoke(file);
                }
            }
        }
    }

    /// <summary>A lease on the lake, or none when the lake's folder cannot be written (a read-only copy, which no compactor changes).</summary>
    private ReadLease? TryLease()
    {
        try
        {
            return ReadLease.Take(Layout);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return null;
        }
    }

    /// <summary>The clock that stamps quarantined files.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Told of each file a read found unreadable and moved to quarantine (the host logs it).</summary>
    public Action<QuarantinedFile>? Quarantined { get; init; }

    /// <summary>The files of a tenant (null: every tenant) that were set aside as unreadable; their events are not counted.</summary>
    public IReadOnlyList<QuarantinedFile> QuarantinedFiles(string? tenantId = null) => LakeQuarantine.List(Layout, tenantId);

    /// <summary>How many times a read runs when a listed file vanished or could not be read (each time on a fresh listing).</summary>
    private const int ReadAttempts = 6;

    /// <summary>Per tenant: events (each event_id once), assigns, converts, experiments and the date range.</summary>
    public async Task<IReadOnlyList<TenantEventCounts>> CountByTenantAsync(CancellationToken cancellationToken) =>
        await QueryAsync(null, "events_by_tenant", [],
                r => new TenantEventCounts(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4),
                    r.GetFieldValue<DateOnly>(5), r.GetFieldValue<DateOnly>(6)),
                cancellationToken);

    /// <summary>Every event of a tenant (optionally one experiment), each event_id once, in time order.</summary>
    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string tenantId, string? experimentId, CancellationToken cancellationToken) =>
        await QueryAsync(tenantId, "tenant_events", [("experiment", experimentId)], ReadStoredEvent, cancellationToken);

    /// <summary>A tenant's events per day (each event_id once) from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    public async Task<IReadOnlyList<(DateOnly Day, long Events)>> EventsByDayAsync(string tenantId, DateOnly from, DateOnly to,
        CancellationToken cancellationToken) =>
        await QueryAsync(tenantId, "tenant_events_by_day", [("from", from), ("to", to)],
                r => (r.GetFieldValue<DateOnly>(0), r.GetInt64(1)), cancellationToken);

    /// <summary>A tenant's experiments with events from <paramref name="from"/> to <paramref name="to"/> (each event_id once).</summary>
    public async Task<IReadOnlyList<(string ExperimentId, long Events, long Assigns, long Converts)>> ExperimentsAsync(string tenantId, DateOnly from,
        DateOnly to,
        CancellationToken cancellationToken) =>
        await QueryAsync(tenantId, "tenant_experiments", [("from", from), ("to", to)],
                r => (r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), cancellationToken);

    /// <summary>Per-variant sufficient statistics of one experiment, and how many users were exposed to more than one variant.</summary>
    public Task<(IReadOnlyList<VariantStats> Variants, long MultipleExposureUsers)> ExperimentStatsAsync(string tenantId,
        string experimentId, CancellationToken cancellationToken) => ExperimentStatsAsync(tenantId, experimentId, null, cancellationToken);

    /// <summary>The same under an attribution window (null: every convert at or after the first assign counts).</summary>
    public async Task<(IReadOnlyList<VariantStats> Variants, long MultipleExposureUsers)> ExperimentStatsAsync(string tenantId,
        string experimentId, Attribution? attribution, CancellationToken cancellationToken)
    {
        var (variants, multiple, _) = await ExperimentSummaryAsync(tenantId, experimentId, false, null, cancellationToken, attribution);
        return (variants, multiple);
    }

    /// <summary>
    /// The per-variant statistics and the revenue moments of statistics contract v2 (revenue capped at the
    /// <paramref name="capPercentile"/> quantile when given; pre-period revenue for CUPED), from the warm summary.
    /// </summary>
    public Task<(IReadOnlyList<VariantStats> Variants, long MultipleExposureUsers, RevenueMoments? Moments)> ExperimentReadoutStatsAsync(
        string tenantId, string experimentId, double? capPercentile, CancellationToken cancellationToken, Attribution? attribution = null) =>
        ExperimentSummaryAsync(tenantId, experimentId, true, capPercentile, cancellationToken, attribution);

    /// <summary>
    /// Per variant, the sums over its counted buyers of what they paid (capped at the readout's revenue cap for
    /// <paramref name="capPercentile"/>) and of their units, from the warm summary: what a recommendation's
    /// revenue-per-buyer models fit.
    /// </summary>
    public async Task<IReadOnlyList<BuyerSums>> ExperimentBuyersAsync(string tenantId, string experimentId, double? capPercentile,
        CancellationToken cancellationToken, Attribution? attribution = null)
    {
        return await OverFilesAsync<IReadOnlyList<BuyerSums>>(tenantId,
            files => summaries.BuyersAsync(tenantId, experimentId, files, capPercentile, cancellationToken, attribution), [], cancellationToken);
    }

    /// <summary>Per allocation period (split at <paramref name="boundaries"/>, by first assign) and variant: users, buyers, revenue and its squares.</summary>
    public async Task<IReadOnlyList<PeriodStats>> ExperimentPeriodsAsync(string tenantId, string experimentId, IReadOnlyList<DateTimeOffset> boundaries,
        double? capPercentile, CancellationToken cancellationToken, Attribution? attribution = null) =>
        await OverFilesAsync<IReadOnlyList<PeriodStats>>(tenantId,
            files => summaries.PeriodsAsync(tenantId, experimentId, files, boundaries, capPercentile, cancellationToken, attribution), [], cancellationToken);

    /// <summary>Per variant and UTC day: new counted users, new buyers, revenue and the growth of the sum of squared per-user revenue.</summary>
    public async Task<IReadOnlyList<(string VariantId, DateOnly Day, long Users, long Buyers, double Revenue, double Squares)>> ExperimentDailyAsync(
        string tenantId, string experimentId, CancellationToken cancellationToken)
    {
        await ExperimentSummaryAsync(tenantId, experimentId, false, null, cancellationToken);
        return await summaries.DailyAsync(tenantId, experimentId, cancellationToken);
    }

    /// <summary>When the experiment's first assign happened (the start of its data), from its summary brought up to date.</summary>
    public async Task<DateTimeOffset?> ExperimentStartAsync(string tenantId, string experimentId, CancellationToken cancellationToken)
    {
        await ExperimentSummaryAsync(tenantId, experimentId, false, null, cancellationToken);
        return summaries.FirstAssignAt(tenantId, experimentId);
    }

    private async Task<(IReadOnlyList<VariantStats> Variants, long MultipleExposureUsers, RevenueMoments? Moments)> ExperimentSummaryAsync(
        string tenantId, string experimentId, bool moments, double? capPercentile, CancellationToken cancellationToken, Attribution? attribution = null)
    {
        return await OverFilesAsync(tenantId,
            files => summaries.StatsAsync(tenantId, experimentId, files, moments, capPercentile, cancellationToken, attribution),
            ((IReadOnlyList<VariantStats>)[], 0L, moments ? new RevenueMoments(null, []) : null), cancellationToken);
    }

    /// <summary>Summaries built from every file (an experiment's first readout, or after a file was lost or rewritten).</summary>
    public long SummaryRebuilds => summaries.Rebuilds;

    /// <summary>New files folded into summaries.</summary>
    public long SummaryFoldedFiles => summaries.FoldedFiles;

    /// <summary>Persisted summaries (or tenant priors) taken up instead of being built from the lake.</summary>
    public long SummaryLoads => summaries.Loads;

    /// <summary>Summary generations this instance persisted under <c>{lake}/_summaries/</c>.</summary>
    public long SummariesPersisted => summaries.Persisted;

    /// <summary>Persists that failed (a read-only lake folder, a full disk); the summaries stay in memory.</summary>
    public long SummaryPersistFailures => summaries.PersistFailures;

    /// <summary>Called after each step of persisting a summary; an exception it throws stops the persist there, as a crash would (tests use it so).</summary>
    public Action<SummaryPersistStep>? AfterSummaryPersistStep { get; init; }

    /// <summary>Persists every summary changed since it was last persisted and waits until all persists are done.</summary>
    public Task FlushSummariesAsync() => summaries.FlushAsync();

    /// <summary>
    /// The same statistics straight from the raw events (no summary): the reference the summaries are tested against,
    /// and the bare SQL the readout benchmark compares with.
    /// </summary>
    public async Task<(IReadOnlyList<VariantStats> Variants, long MultipleExposureUsers)> RawExperimentStatsAsync(string tenantId,
        string experimentId, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(tenantId, "experiment_stats", [("experiment", experimentId)],
            r => (Stats: new VariantStats(r.GetString(0), r.GetDecimal(1), r.GetInt64(2), r.GetInt64(3),
                r.IsDBNull(4) ? 0m : r.GetDecimal(4), r.IsDBNull(5) ? 0 : r.GetDouble(5)), Multiple: r.GetInt64(6)),
            cancellationToken);
        return (rows.Select(r => r.Stats).ToList(), rows.Count == 0 ? 0 : rows[0].Multiple);
    }

    /// <summary>The experiment's counted users, one row each, as the demand model sees them (statistics contract counting rules).</summary>
    public async Task<IReadOnlyList<DemandObservation>> DemandRowsAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
        await QueryAsync(tenantId, "demand_rows", [("experiment", experimentId)],
                r => new DemandObservation(r.GetString(0), r.GetString(1), r.GetDecimal(2) / 1.0000000000000000000000000000m, AsUtc(r.GetDateTime(3)),
                    r.IsDBNull(4) ? null : ReadMap(r.GetValue(4)), r.GetBoolean(5), r.GetString(6)),
                cancellationToken);

    /// <summary>The currency of an experiment's events (null when it has none); remembered, since it never changes.</summary>
    public async Task<string?> ExperimentCurrencyAsync(string tenantId, string experimentId, CancellationToken cancellationToken)
    {
        if (currencies.TryGetValue((tenantId, experimentId), out var known))
        {
            return known;
        }

        var found = (await QueryAsync(tenantId, "experiment_currency", [("experiment", experimentId)], r => r.GetString(0),
            cancellationToken)).FirstOrDefault();
        if (found is not null)
        {
            currencies[(tenantId, experimentId)] = found;
        }

        return found;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), string> currencies = new();

    /// <summary>Log positions that occur more than once (in one file or across files): empty in a healthy lake.</summary>
    public async Task<IReadOnlyList<DuplicatePosition>> FindDuplicatePositionsAsync(CancellationToken cancellationToken) =>
        await QueryAsync(null, "file_positions", [],
                r => new DuplicatePosition(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)), cancellationToken);

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

    public void Dispose()
    {
        try
        {
            // What this process folded since it last persisted, so the next process does not fold it again.
            summaries.FlushAsync().Wait();
        }
        catch (AggregateException)
        {
            // A persist that failed leaves the last generation in place: the next reader folds what is missing.
        }

        database.Dispose();
        try
        {
            if (Directory.Exists(spillDirectory))
            {
                Directory.Delete(spillDirectory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A spill file still held open: the next instance's start removes the folder once this process has ended.
        }
    }
}
