using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using DuckDB.NET.Data;

namespace PricingOptimizer.Lake;

/// <summary>
/// Per-experiment user summaries kept in the in-memory DuckDB database of a <see cref="LakeQueries"/>, so a readout
/// does not regroup every raw event. Lake files are immutable once in place (a replay rewrites a file with the same
/// events), so the summary folds in only the files it has not seen; a file that changed or vanished rebuilds it.
/// One row per user holds the least and greatest variant the user saw (equal for a single-variant user), the first
/// assign's time and price, and the revenue of the
/// user's converts at or after that time — recomputed for the users each new file touches (a late assign can move
/// the first assign earlier). A readout is then one scan of the users table.
/// <para>
/// With a <see cref="SummaryStore"/>, summaries are shared by every process over the lake: a process takes up the newest
/// persisted generation that still matches the lake (as views over its Parquet files, copied into memory only when a new
/// file must be folded), and persists what it built or folded (in the background; a fold at most once per
/// <see cref="PersistInterval"/>, the rest when the instance is disposed or <see cref="FlushAsync"/> is called).
/// </para>
/// </summary>
internal sealed class ExperimentSummaries(Func<DuckDBConnection> connect, int cupedLookbackDays, SummaryStore? store = null,
    Func<TimeProvider>? clock = null, Action<SummaryPersistStep>? afterPersistStep = null)
{
    /// <summary>A statement of <c>Sql/summaries.sql</c>, filled in.</summary>
    private static string Sql(string name, params (string, string)[] values) => SqlResources.Statement("summaries", name, values);

    private readonly ConcurrentDictionary<(string Tenant, string Experiment), Summary> summaries = new();

    /// <summary>Per tenant, its converts (any experiment), shared by the summaries of all its experiments.</summary>
    private readonly ConcurrentDictionary<string, TenantPrior> priors = new();
    private readonly SemaphoreSlim building = new(1, 1);
    private int nextId;
    private long rebuilds;
    private long foldedFiles;
    private long loads;
    private long persisted;
    private long persistFailures;

    /// <summary>How long a folded summary waits before it is persisted again (a rebuilt one is persisted at once).</summary>
    public static readonly TimeSpan PersistInterval = TimeSpan.FromMinutes(1);

    private TimeProvider Time => clock?.Invoke() ?? TimeProvider.System;

    /// <summary>How many times a summary was built from every file (the first readout of an experiment, or after a file was lost or rewritten).</summary>
    public long Rebuilds => Interlocked.Read(ref rebuilds);

    /// <summary>How many new files were folded into summaries.</summary>
    public long FoldedFiles => Interlocked.Read(ref foldedFiles);

    /// <summary>How many times a persisted generation was taken up instead of building a summary (or the prior) from the lake.</summary>
    public long Loads => Interlocked.Read(ref loads);

    /// <summary>How many generations this instance persisted.</summary>
    public long Persisted => Interlocked.Read(ref persisted);

    /// <summary>How many persists failed (the lake's folder not writable, a full disk): the summary stays in memory and tries again later.</summary>
    public long PersistFailures => Interlocked.Read(ref persistFailures);

    /// <summary>What a summary and the tenant prior share: the tables, the files folded, and the persisted generation.</summary>
    private abstract class Folded
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public Dictionary<string, (long Length, DateTime Written)> Files { get; set; } = [];
        public bool Built { get; set; }

        /// <summary>Where its generations are persisted (null: not persisted).</summary>
        public required string? Folder { get; init; }

        /// <summary>The persisted generation the tables are views over; null once they are tables of this process.</summary>
        public SummaryGeneration? View { get; set; }

        /// <summary>The generation this process took up or persisted last.</summary>
        public string? Generation { get; set; }

        /// <summary>Changed since it was last persisted.</summary>
        public bool Dirty { get; set; }

        public DateTimeOffset PersistedAt { get; set; }

        /// <summary>Its tables: the summary's name → the DuckDB table's name.</summary>
        public abstract IReadOnlyList<(string Name, string Table)> Tables { get; }
    }

    private sealed class Summary(int id) : Folded
    {
        public string Users { get; } = string.Create(CultureInfo.InvariantCulture, $"summary_{id}_users");
        public string Converts { get; } = string.Create(CultureInfo.InvariantCulture, $"summary_{id}_converts");

        public override IReadOnlyList<(string Name, string Table)> Tables => [("users", Users), ("converts", Converts)];

        /// <summary>The per-variant sufficient statistics of the users table as last read; null once a fold changes it.</summary>
        public (IReadOnlyList<VariantStats> Variants, long Multiple, DateTimeOffset? FirstAssignAt)? Stats { get; set; }

        /// <summary>The per-variant statistics under an attribution window, as last read.</summary>
        public Dictionary<Attribution, (IReadOnlyList<VariantStats> Variants, long Multiple)> WindowStats { get; } = [];

        /// <summary>The revenue moments as last read, by cap percentile (NaN: no cap) and window.</summary>
        public Dictionary<(double Cap, Attribution? Window), RevenueMoments> Moments { get; } = [];

        /// <summary>The per-variant buyer sums as last read, by cap percentile (NaN: no cap) and window.</summary>
        public Dictionary<(double Cap, Attribution? Window), IReadOnlyList<BuyerSums>> Buyers { get; } = [];

        /// <summary>Forgets every figure read from the users table (a fold or a rebuild changed it).</summary>
        public void Forget()
        {
            Stats = null;
            WindowStats.Clear();
            Moments.Clear();
            Buyers.Clear();
        }
    }

    /// <summary>
    /// Every convert of a tenant (any experiment), for its users' pre-period revenue (CUPED's covariate): one table per
    /// tenant, however many experiments it has, kept up to date with the files the way a summary is. It holds the files
    /// of the newest listing any reader brought (a reader with an older listing does not remove a file that still exists),
    /// so a summary may see converts a little newer than its own users; its next fold reconciles them.
    /// </summary>
    private sealed class TenantPrior(int id) : Folded
    {
        public string Table { get; } = string.Create(CultureInfo.InvariantCulture, $"tenant_{id}_prior");

        /// <summary>Counts the changes of the table, so a subset made before one is not used after it.</summary>
        public long Version { get; set; }

        private int nextSubset;

        public string NewSubsetName() => string.Create(CultureInfo.InvariantCulture, $"tenant_{id}_fold_{++nextSubset}");

        /// <summary>
        /// The converts of the users in a set of new files, by those files: every experiment folding the same new files
        /// recomputes its users' pre-period sums from this small table instead of scanning all the tenant's converts.
        /// </summary>
        public List<FoldSubset> Subsets { get; } = [];

        public override IReadOnlyList<(string Name, string Table)> Tables => [("prior", Table)];
    }

    /// <summary>A tenant's converts of the users of some new files (<see cref="TenantPrior.Subsets"/>), and how many folds use it now.</summary>
    private sealed class FoldSubset(string key, long version, string table)
    {
        public string Key { get; } = key;
        public long Version { get; } = version;
        public string Table { get; } = table;
        public int Users { get; set; }

        /// <summary>The experiments with any event in the files: a fold of any other one reads nothing of them but the tenant's converts.</summary>
        public HashSet<string> Experiments { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// Day by day (UTC dates), per variant, what the experiment's counted users added: new users (by first assign),
    /// new buyers (by their first convert at or after it), revenue, and the growth of the sum of squared per-user revenue
    /// (a user's k-th purchase adds cum² − (cum − r)²), so cumulative sums give each day's exact mean and variance.
    /// The summary must be current (<see cref="StatsAsync"/> first).
    /// </summary>
    public async Task<IReadOnlyList<(string VariantId, DateOnly Day, long Users, long Buyers, double Revenue, double Squares)>> DailyAsync(string tenantId,
        string experimentId, CancellationToken cancellationToken)
    {
        if (!summaries.TryGetValue((tenantId, experimentId), out var s))
        {
            return [];
        }

        await s.Gate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = connect();
            using var command = connection.CreateCommand();
            command.CommandText = Sql("days", ("users", s.Users), ("converts", s.Converts));
            var rows = new List<(string, DateOnly, long, long, double, double)>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetFieldValue<DateOnly>(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDouble(4),
                    reader.GetDouble(5)));
            }

            return rows;
        }
        finally
        {
            s.Gate.Release();
        }
    }

    /// <summary>When the experiment's first counted assign happened, as its summary last saw it (null before a summary or without assigns).</summary>
    public DateTimeOffset? FirstAssignAt(string tenantId, string experimentId) =>
        summaries.TryGetValue((tenantId, experimentId), out var summary) ? summary.Stats?.FirstAssignAt : null;

    private Summary SummaryOf(string tenantId, string experimentId) =>
        summaries.GetOrAdd((tenantId, experimentId), _ => new Summary(Interlocked.Increment(ref nextId))
        {
            Folder = store?.ExperimentFolder(tenantId, experimentId),
        });

    /// <summary>
    /// The experiment's per-variant statistics, and with <paramref name="moments"/> its revenue moments (capped at the
    /// <paramref name="capPercentile"/> quantile when given), from its summary brought up to date with <paramref name="files"/>.
    /// </summary>
    public async Task<(IReadOnlyList<VariantStats> Variants, long MultipleExposureUsers, RevenueMoments? Moments)> StatsAsync(string tenantId,
        string experimentId, IReadOnlyList<LakeFile> files, bool moments, double? capPercentile, CancellationToken cancellationToken,
        Attribution? attribution = null)
    {
        var summary = SummaryOf(tenantId, experimentId);
        await summary.Gate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = connect();
            var current = files.ToDictionary(f => f.Path, f => (f.Length, f.Written), StringComparer.Ordinal);
            await BringUpToDateAsync(connection, summary, tenantId, experimentId, current, cancellationToken);
            summary.Stats ??= Read(connection, summary, summary.Users);
            var (variants, multiple) = (summary.Stats.Value.Variants, summary.Stats.Value.Multiple);
            if (attribution is not null)
            {
                if (!summary.WindowStats.TryGetValue(attribution, out var windowed))
                {
                    var (read, readMultiple, _) = Read(connection, summary, Source(summary, attribution));
                    summary.WindowStats[attribution] = windowed = (read, readMultiple);
                }

                (variants, multiple) = windowed;
            }

            RevenueMoments? revenue = null;
            if (moments)
            {
                var key = (capPercentile ?? double.NaN, attribution);
                if (!summary.Moments.TryGetValue(key, out revenue))
                {
                    revenue = ReadMoments(connection, Source(summary, attribution), capPercentile);
                    summary.Moments[key] = revenue;
                }
            }

            return (variants, multiple, revenue);
        }
        finally
        {
            summary.Gate.Release();
        }
    }

    /// <summary>
    /// Brings the summary (its gate held) up to date with <paramref name="current"/>: takes up a newer persisted generation
    /// while it has no tables of its own, rebuilds it when a file it folded is lost or rewritten, else folds the new files.
    /// </summary>
    private async Task BringUpToDateAsync(DuckDBConnection connection, Summary summary, string tenantId, string experimentId,
        Dictionary<string, (long Length, DateTime Written)> current, CancellationToken cancellationToken)
    {
        if (summary.View is { } view && !File.Exists(view.TablePath("users")))
        {
            // Its generation was removed under it (superseded long ago by another process): start again from what is persisted.
            DropViews(connection, summary);
            summary.Built = false;
        }

        if (summary.View is not null || !summary.Built)
        {
            TryTakeUp(connection, summary, current, view: true);
        }

        var lineage = new CompactionLineage(current, summary.Files);
        var rewritten = summary.Files.Any(kv => current.TryGetValue(kv.Key, out var now) && now != kv.Value);
        // A file that vanished into a merged file (the compactor's journal says so) is still summarised: no rebuild.
        var lost = summary.Files.Keys.Any(path => !current.ContainsKey(path) && !lineage.Covered(path));
        if (!summary.Built || rewritten || lost)
        {
            var prior = await PriorAsync(connection, tenantId, current, cancellationToken);
            summary.Forget();
            summary.Built = false;
            DropViews(connection, summary);
            // One build at a time: each scans the whole lake and may use all of DuckDB's memory limit (folds and reads run side by side).
            await building.WaitAsync(cancellationToken);
            try
            {
                Rebuild(connection, summary, prior, experimentId, [.. current.Keys]);
            }
            finally
            {
                building.Release();
            }

            Interlocked.Increment(ref rebuilds);
            summary.Files = current;
            summary.Built = true;
            summary.Dirty = true;
            SchedulePersist(summary);
            return;
        }

        // A merged file whose every source the summary has folded adds nothing; anything else is folded (folding is idempotent).
        var added = current.Keys.Where(path => !summary.Files.ContainsKey(path) && !lineage.AlreadyFolded(path)).ToList();
        if (added.Count > 0)
        {
            await PriorAsync(connection, tenantId, current, cancellationToken);
            Materialize(connection, summary);
            var subset = await SubsetAsync(connection, tenantId, added, cancellationToken);
            try
            {
                var folding = FoldIn(connection, summary, subset.Table, experimentId, added, subset.Experiments.Contains(experimentId));
                if (folding == Folding.Users)
                {
                    summary.Forget();
                }
                else if (folding == Folding.PrePeriod)
                {
                    // Counts, revenue and buyers are unchanged; only CUPED's covariate moved.
                    summary.Moments.Clear();
                }

                if (folding != Folding.Nothing)
                {
                    Interlocked.Add(ref foldedFiles, added.Count);
                }
            }
            finally
            {
                await ReleaseSubsetAsync(tenantId, subset);
            }

            summary.Dirty = true;
        }

        if (!current.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(summary.Files.Keys))
        {
            // Merged files replace their sources: the same rows, but a persisted manifest should name what is there now.
            summary.Dirty |= summary.View is null;
        }

        summary.Files = current;
        if (summary.Dirty && Time.GetUtcNow() - summary.PersistedAt >= PersistInterval)
        {
            SchedulePersist(summary);
        }
    }

    /// <summary>
    /// Takes up the newest persisted generation of <paramref name="folded"/> that still matches <paramref name="current"/>
    /// (every file it folded is there unchanged or was merged into one that is), unless it is the one already taken up:
    /// as views over its Parquet files, or (<paramref name="view"/> false) copied into tables. False when there is none.
    /// </summary>
    private bool TryTakeUp(DuckDBConnection connection, Folded folded, Dictionary<string, (long Length, DateTime Written)> current, bool view)
    {
        if (store is null || folded.Folder is null || SummaryStore.NewestName(folded.Folder) is not { } newest
            || (folded.Built && newest == folded.Generation))
        {
            return false;
        }

        foreach (var generation in store.Generations(folded.Folder))
        {
            if (folded.Built && generation.Name == folded.Generation)
            {
                return false; // the newer ones no longer match the lake: keep what we have
            }

            if (generation.LookbackDays != cupedLookbackDays || !Matches(generation, current, absentMayExist: folded is TenantPrior))
            {
                continue;
            }

            try
            {
                DropTables(connection, folded);
                foreach (var (name, table) in folded.Tables)
                {
                    var path = generation.TablePath(name).Replace("'", "''", StringComparison.Ordinal);
                    Execute(connection, string.Create(CultureInfo.InvariantCulture,
                        $"CREATE OR REPLACE {(view ? "VIEW" : "TABLE")} {table} AS SELECT * FROM read_parquet('{path}', hive_partitioning = false)"));
                }
            }
            catch (DuckDBException)
            {
                // A table removed or unreadable: an older generation, or a rebuild.
                folded.View = view ? generation : null;
                DropTables(connection, folded);
                folded.Built = false;
                continue;
            }

            (folded as Summary)?.Forget();
            if (folded is Summary taking && generation.Figures is { } json && SummaryFigures.FromJson(json) is { } figures)
            {
                Restore(taking, figures);
            }

            if (folded is TenantPrior taken)
            {
                taken.Version++;
            }

            folded.View = view ? generation : null;
            folded.Files = generation.Files;
            folded.Built = true;
            folded.Generation = generation.Name;
            folded.Dirty = false;
            folded.PersistedAt = Time.GetUtcNow();
            Interlocked.Increment(ref loads);
            return true;
        }

        return false;
    }

    /// <summary>The figures read from the summary's tables since they last changed (its gate held): they describe exactly those tables.</summary>
    private static SummaryFigures FiguresOf(Summary s) => new(
        s.Stats is { } stats ? new SummaryFigures.StatsFigures(stats.Variants, stats.Multiple, stats.FirstAssignAt) : null,
        [.. s.Moments.Where(kv => kv.Key.Window is null).Select(kv => new SummaryFigures.MomentsFigures(Percentile(kv.Key.Cap), kv.Value))],
        [.. s.Buyers.Where(kv => kv.Key.Window is null).Select(kv => new SummaryFigures.BuyersFigures(Percentile(kv.Key.Cap), kv.Value))]);

    /// <summary>Starts a summary just taken up with the figures its generation carries.</summary>
    private static void Restore(Summary s, SummaryFigures figures)
    {
        if (figures.Stats is { } stats)
        {
            s.Stats = (stats.Variants, stats.Multiple, stats.FirstAssignAt);
        }

        foreach (var moments in figures.Moments)
        {
            s.Moments[(moments.CapPercentile ?? double.NaN, null)] = moments.Moments;
        }

        foreach (var buyers in figures.Buyers)
        {
            s.Buyers[(buyers.CapPercentile ?? double.NaN, null)] = buyers.Buyers;
        }
    }

    private static double? Percentile(double cap) => double.IsNaN(cap) ? null : cap;

    /// <summary>True when every file <paramref name="generation"/> folded is in <paramref name="current"/> unchanged, or merged into a file that is.</summary>
    private static bool Matches(SummaryGeneration generation, Dictionary<string, (long Length, DateTime Written)> current, bool absentMayExist)
    {
        var lineage = new CompactionLineage(current, generation.Files);
        return generation.Files.All(kv => current.TryGetValue(kv.Key, out var now)
            ? now == kv.Value
            : lineage.Covered(kv.Key) || (absentMayExist && File.Exists(kv.Key)));
    }

    /// <summary>Drops the views over a persisted generation, if the tables are views.</summary>
    private static void DropViews(DuckDBConnection connection, Folded folded)
    {
        if (folded.View is null)
        {
            return;
        }

        foreach (var (_, table) in folded.Tables)
        {
            Execute(connection, $"DROP VIEW IF EXISTS {table}");
        }

        folded.View = null;
    }

    /// <summary>Drops the tables or views, whichever they are, before a generation is taken up under their names.</summary>
    private static void DropTables(DuckDBConnection connection, Folded folded)
    {
        foreach (var (_, table) in folded.Tables)
        {
            Execute(connection, folded.View is null ? $"DROP TABLE IF EXISTS {table}" : $"DROP VIEW IF EXISTS {table}");
        }

        folded.View = null;
    }

    /// <summary>Copies a summary that is views over a persisted generation into tables of its own, so a fold can change them.</summary>
    private static void Materialize(DuckDBConnection connection, Folded folded)
    {
        if (folded.View is not { } generation)
        {
            return;
        }

        foreach (var (name, table) in folded.Tables)
        {
            var path = generation.TablePath(name).Replace("'", "''", StringComparison.Ordinal);
            Execute(connection, $"DROP VIEW IF EXISTS {table}");
            Execute(connection, $"CREATE TABLE {table} AS SELECT * FROM read_parquet('{path}', hive_partitioning = false)");
        }

        folded.View = null;
    }

    private readonly Lock persistLock = new();
    private Task persisting = Task.CompletedTask;

    /// <summary>Persists <paramref name="folded"/> after whatever persists are already queued, off the caller's path.</summary>
    private void SchedulePersist(Folded folded)
    {
        if (store is null || folded.Folder is null)
        {
            return;
        }

        lock (persistLock)
        {
            persisting = persisting.ContinueWith(_ => PersistAsync(folded), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
                .Unwrap();
        }
    }

    /// <summary>Persists every summary changed since it was last persisted and waits for all queued persists; throws what a persist threw.</summary>
    public Task FlushAsync()
    {
        foreach (var folded in summaries.Values.Cast<Folded>().Concat(priors.Values).Where(f => f.Dirty))
        {
            SchedulePersist(folded);
        }

        lock (persistLock)
        {
            return persisting;
        }
    }

    /// <summary>
    /// Writes the tables as a new generation: a transaction's snapshot taken under the gate (so the tables and the files
    /// they fold agree), the Parquet files written outside it (folds go on meanwhile), then the manifest published.
    /// </summary>
    private async Task PersistAsync(Folded folded)
    {
        SummaryGeneration generation;
        DuckDBConnection? connection = null;
        await folded.Gate.WaitAsync();
        try
        {
            if (!folded.Dirty || !folded.Built || folded.View is not null || store is null || folded.Folder is null)
            {
                return;
            }

            connection = connect();
            Execute(connection, "BEGIN TRANSACTION");
            foreach (var (_, table) in folded.Tables)
            {
                Execute(connection, $"SELECT count(*) FROM {table}");
            }

            generation = store.NewGeneration(folded.Folder, cupedLookbackDays, folded.Files) with
            {
                Figures = folded is Summary summary && FiguresOf(summary) is { IsEmpty: false } figures ? figures.ToJson() : null,
            };
            folded.Dirty = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DuckDBException)
        {
            connection?.Dispose();
            Interlocked.Increment(ref persistFailures);
            return;
        }
        finally
        {
            folded.Gate.Release();
        }

        await using (connection)
        {
            try
            {
                foreach (var (name, table) in folded.Tables)
                {
                    var path = generation.TablePath(name).Replace("'", "''", StringComparison.Ordinal);
                    Execute(connection, $"COPY {table} TO '{path}' (FORMAT parquet)");
                    afterPersistStep?.Invoke(SummaryPersistStep.TableWritten);
                }

                Execute(connection, "COMMIT");
                store.Publish(generation, afterPersistStep);
                folded.Generation = generation.Name;
                folded.PersistedAt = Time.GetUtcNow();
                Interlocked.Increment(ref persisted);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DuckDBException)
            {
                folded.Dirty = true;
                Interlocked.Increment(ref persistFailures);
            }
        }
    }

    /// <summary>
    /// The tenant's shared converts table, brought up to date with <paramref name="current"/>; returns its name. Built from
    /// the newest persisted generation that matches the lake when there is one, else from the lake.
    /// </summary>
    private async Task<string> PriorAsync(DuckDBConnection connection, string tenantId, Dictionary<string, (long Length, DateTime Written)> current,
        CancellationToken cancellationToken)
    {
        var prior = priors.GetOrAdd(tenantId, _ => new TenantPrior(Interlocked.Increment(ref nextId)) { Folder = store?.PriorFolder(tenantId) });
        await prior.Gate.WaitAsync(cancellationToken);
        try
        {
            if (!prior.Built)
            {
                TryTakeUp(connection, prior, current, view: false);
            }

            var lineage = new CompactionLineage(current, prior.Files);
            var rewritten = prior.Files.Any(kv => current.TryGetValue(kv.Key, out var now) && now != kv.Value);
            // Absent from this listing: gone for good only when the file is gone and no merged file holds its rows.
            var absent = prior.Files.Keys.Where(path => !current.ContainsKey(path)).ToList();
            var lost = absent.Any(path => !File.Exists(path) && !lineage.Covered(path));
            if (!prior.Built || rewritten || lost)
            {
                Execute(connection, Sql("prior_build", ("prior", prior.Table)), [.. current.Keys]);
                prior.Version++;
                prior.Files = new Dictionary<string, (long, DateTime)>(current);
                prior.Built = true;
                prior.Dirty = true;
                SchedulePersist(prior);
                return prior.Table;
            }

            var added = current.Keys.Where(path => !prior.Files.ContainsKey(path) && !lineage.AlreadyFolded(path)).ToList();
            if (added.Count > 0)
            {
                Execute(connection, Sql("prior_new"), added);
                if (Execute(connection, Sql("prior_add_new", ("prior", prior.Table))) > 0)
                {
                    prior.Version++;
                }

                prior.Dirty = true;
            }

            // Keep what an older listing did not show but still exists (or was merged into a file this listing shows).
            var files = new Dictionary<string, (long, DateTime)>(current);
            foreach (var path in absent.Where(path => File.Exists(path)))
            {
                files[path] = prior.Files[path];
            }

            prior.Files = files;
            if (prior.Dirty && Time.GetUtcNow() - prior.PersistedAt >= PersistInterval)
            {
                SchedulePersist(prior);
            }

            return prior.Table;
        }
        finally
        {
            prior.Gate.Release();
        }
    }

    /// <summary>
    /// The tenant's converts of the users in <paramref name="added"/> (made once for every experiment folding the same new
    /// files, while the tenant's table does not change); release it with <see cref="ReleaseSubsetAsync"/> after the fold.
    /// </summary>
    private async Task<FoldSubset> SubsetAsync(DuckDBConnection connection, string tenantId, IReadOnlyList<string> added, CancellationToken cancellationToken)
    {
        var prior = priors[tenantId];
        var key = string.Join('\n', added.Order(StringComparer.Ordinal));
        await prior.Gate.WaitAsync(cancellationToken);
        try
        {
            var subset = prior.Subsets.FirstOrDefault(x => x.Key == key && x.Version == prior.Version);
            if (subset is null)
            {
                subset = new FoldSubset(key, prior.Version, prior.NewSubsetName());
                Execute(connection, Sql("prior_fold_subset", ("subset", subset.Table), ("prior", prior.Table)), added);
                using (var experiments = connection.CreateCommand())
                {
                    experiments.CommandText = Sql("fold_experiments");
                    experiments.Parameters.Add(new DuckDBParameter("files", added.ToArray()));
                    using var reader = experiments.ExecuteReader();
                    while (reader.Read())
                    {
                        subset.Experiments.Add(reader.GetString(0));
                    }
                }

                prior.Subsets.Add(subset);
                // Keep a few; drop those no fold is using.
                foreach (var old in prior.Subsets.Where(x => x != subset && x.Users == 0).SkipLast(2).ToList())
                {
                    Execute(connection, $"DROP TABLE IF EXISTS {old.Table}; DROP TABLE IF EXISTS {old.Table}_new");
                    prior.Subsets.Remove(old);
                }
            }

            subset.Users++;
            return subset;
        }
        finally
        {
            prior.Gate.Release();
        }
    }

    private async Task ReleaseSubsetAsync(string tenantId, FoldSubset subset)
    {
        var prior = priors[tenantId];
        await prior.Gate.WaitAsync();
        subset.Users--;
        prior.Gate.Release();
    }

    /// <summary>Runs <paramref name="sql"/>; returns the rows it changed (for UPDATE and INSERT).</summary>
    private static int Execute(DuckDBConnection connection, string sql, IReadOnlyList<string>? files = null, string? experimentId = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (files is not null)
        {
            command.Parameters.Add(new DuckDBParameter("files", files.ToArray()));
        }

        if (experimentId is not null)
        {
            command.Parameters.Add(new DuckDBParameter("experiment", experimentId));
        }

        return command.ExecuteNonQuery();
    }

    /// <summary>
    /// Builds the summary from <paramref name="files"/>: the experiment's converts, its users' assigns, then in one pass the
    /// outcomes of the few users who bought or have pre-period revenue, joined onto every user once (no UPDATE of the big table).
    /// </summary>
    private void Rebuild(DuckDBConnection connection, Summary s, string prior, string experimentId, IReadOnlyList<string> files)
    {
        Execute(connection, Sql("rebuild_converts", ("converts", s.Converts)), files, experimentId);
        Execute(connection, Sql("rebuild_assigns"), files, experimentId);
        Execute(connection, Sql("rebuild_outcomes", ("converts", s.Converts), ("pre_units", PreUnits("rebuild_assigns", prior))));
        Execute(connection, Sql("rebuild_users", ("users", s.Users)));
        Execute(connection, Sql("rebuild_done"));
    }

    /// <summary>
    /// Per user of <paramref name="users"/> (with user_id and first_at), the revenue of the tenant's converts in
    /// <paramref name="prior"/> in the lookback window before the first assign, in ten-thousandths (amounts have four
    /// decimals, so a double times 10⁴ rounds to them exactly below 9 · 10¹¹): statistics contract v2, item 10.
    /// </summary>
    private string PreUnits(string users, string prior) =>
        Sql("pre_units", ("users", users), ("prior", prior), ("lookback_us", (cupedLookbackDays * 86_400_000_000L).ToString(CultureInfo.InvariantCulture)));

    /// <summary>Pre-period revenue again for the users <paramref name="touched"/> selects (their first assign moved, or new converts came).</summary>
    private int RecomputePrior(DuckDBConnection connection, Summary s, string prior, string touched)
    {
        Execute(connection, Sql("touched_prior", ("users", s.Users), ("touched", touched)));
        Execute(connection, Sql("recompute_prior", ("pre_units", PreUnits("touched_prior", prior))));
        return Execute(connection, Sql("change_pre_units", ("users", s.Users)));
    }

    /// <summary>What a fold changed in a summary's users table.</summary>
    private enum Folding
    {
        /// <summary>Nothing: the new files hold nothing of this experiment or of its users' pre-periods.</summary>
        Nothing,

        /// <summary>Only some users' pre-period revenue (new purchases of its users in other experiments).</summary>
        PrePeriod,

        /// <summary>Users, their variants, purchases or revenue.</summary>
        Users,
    }

    /// <summary>
    /// Folds the new files into the summary; <paramref name="prior"/> holds (at least) the tenant's converts of every user
    /// in <paramref name="added"/>, which are the only users a fold touches, and <c>{prior}_new</c> the converts in those files;
    /// <paramref name="ownEvents"/> false when the files hold no event of this experiment at all (they are then not read again).
    /// </summary>
    private Folding FoldIn(DuckDBConnection connection, Summary s, string prior, string experimentId, IReadOnlyList<string> added, bool ownEvents)
    {
        if (ownEvents)
        {
            Execute(connection, Sql("fold_converts"), added, experimentId);
            Execute(connection, Sql("fold_users"), added, experimentId);
            using var own = connection.CreateCommand();
            own.CommandText = Sql("fold_own");
            ownEvents = own.ExecuteScalar() is not false;
        }

        if (!ownEvents)
        {
            // No assign or convert of this experiment (another experiment's file): only its users' pre-period sums can
            // change, and when none does the summary's figures as last read stay valid.
            return RecomputePrior(connection, s, prior, Sql("fold_touched_prior_only", ("new_prior", prior + "_new"))) > 0
                ? Folding.PrePeriod
                : Folding.Nothing;
        }

        Execute(connection, Sql("fold_add_converts", ("converts", s.Converts)));
        Execute(connection, Sql("fold_merge_users", ("users", s.Users)));
        Execute(connection, Sql("fold_add_users", ("users", s.Users)));
        Recompute(connection, s, Sql("fold_touched"));
        RecomputePrior(connection, s, prior, Sql("fold_touched_prior", ("new_prior", prior + "_new")));
        return Folding.Users;
    }

    /// <summary>
    /// Revenue and conversion of the users <paramref name="touched"/> selects, from their converts at or after their first
    /// assign: rule (3) of the experiment_users macro (lake_events_macro.sql), applied to the stored users and converts.
    /// </summary>
    private static void Recompute(DuckDBConnection connection, Summary s, string touched)
    {
        Execute(connection, Sql("recompute", ("users", s.Users), ("converts", s.Converts), ("touched", touched)));
        Execute(connection, Sql("recompute_set", ("users", s.Users)));
    }

    /// <summary>
    /// Per variant, over the counted users, the exact sums (in ten-thousandths, as HUGEINT) of revenue Y — capped at the
    /// pooled <paramref name="capPercentile"/> quantile of positive revenues (linear interpolation, kept to four decimals
    /// like every amount), when given — and of pre-period revenue X (kept per user as <c>pre_units</c>; never capped),
    /// of their squares and product, and how many users have
    /// X &gt; 0 (statistics contract v2, items 8–10). Exact integer sums make the moments the same whatever order DuckDB
    /// adds in; means, variances and the covariance are computed from them in C#.
    /// </summary>
    private static RevenueMoments ReadMoments(DuckDBConnection connection, string users, double? capPercentile)
    {
        using var command = connection.CreateCommand();
        var cap = CapUnits(users, capPercentile);
        command.CommandText = Sql("moments", ("cap", cap), ("users", users));
        var variants = new List<VariantMoments>();
        double? capValue = null;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            BigInteger Sum(int i) => reader.IsDBNull(i) ? BigInteger.Zero : reader.GetFieldValue<BigInteger>(i);
            var n = reader.GetInt64(1);
            var (sy, syy, sx, sxx, sxy) = (Sum(2), Sum(3), Sum(4), Sum(5), Sum(6));
            // In ten-thousandths: means scale by 1e4, second moments by 1e8. n·Σab − Σa·Σb is exact, then divided once.
            double Co(BigInteger sa, BigInteger sb, BigInteger sab) => n < 2 ? 0 : (double)((n * sab) - (sa * sb)) / ((double)n * (n - 1)) / 1e8;
            variants.Add(new VariantMoments(reader.GetString(0), n, (double)sy / n / 1e4, Co(sy, sy, syy), (double)sx / n / 1e4, Co(sx, sx, sxx),
                Co(sx, sy, sxy), reader.GetInt64(7)));
            capValue = reader.IsDBNull(8) ? null : reader.GetInt64(8) / 1e4;
        }

        return new RevenueMoments(capValue, variants);
    }

    /// <summary>
    /// SQL for the revenue cap in ten-thousandths: the <paramref name="capPercentile"/> quantile (linear interpolation) of
    /// the counted users' positive revenues, pooled over variants (statistics contract v2, item 8); NULL without a cap.
    /// </summary>
    private static string CapUnits(string users, double? capPercentile) => capPercentile is { } q
        ? Sql("cap_units", ("quantile", q.ToString("R", CultureInfo.InvariantCulture)), ("users", users))
        : "CAST(NULL AS BIGINT)";

    /// <summary>
    /// The users table as a readout counts it: the summary's own, or under an attribution window a query of the same
    /// columns whose revenue, conversion and units come only from converts within the window of each user's first assign
    /// (and, mature only, just the users whose window closed by the experiment's last first assign or convert).
    /// </summary>
    private static string Source(Summary s, Attribution? window)
    {
        if (window is null)
        {
            return s.Users;
        }

        var days = window.Days.ToString(CultureInfo.InvariantCulture);
        var mature = window.MatureOnly ? Sql("window_mature", ("days", days), ("converts", s.Converts), ("users", s.Users)) : "";
        return Sql("window_users", ("users", s.Users), ("converts", s.Converts), ("days", days), ("mature", mature));
    }

    /// <summary>
    /// Per variant, the sums over its counted buyers of revenue (capped like the readout's when a cap is given), its
    /// square, units (a capped buyer's units shrink in proportion), their square and the product: what the
    /// revenue-per-buyer models of a recommendation fit. Cached per cap until a fold changes the users.
    /// </summary>
    public async Task<IReadOnlyList<BuyerSums>> BuyersAsync(string tenantId, string experimentId, IReadOnlyList<LakeFile> files, double? capPercentile,
        CancellationToken cancellationToken, Attribution? attribution = null)
    {
        await StatsAsync(tenantId, experimentId, files, false, null, cancellationToken);
        var summary = summaries[(tenantId, experimentId)];
        await summary.Gate.WaitAsync(cancellationToken);
        try
        {
            var key = (capPercentile ?? double.NaN, attribution);
            if (summary.Buyers.TryGetValue(key, out var cached))
            {
                return cached;
            }

            await using var connection = connect();
            using var command = connection.CreateCommand();
            var source = Source(summary, attribution);
            command.CommandText = Sql("buyers", ("cap", CapUnits(source, capPercentile)), ("source", source));
            var result = new List<BuyerSums>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    result.Add(new BuyerSums(reader.GetString(0), reader.GetDecimal(1), reader.GetInt64(2), reader.GetDouble(3), reader.GetDouble(4),
                        reader.GetDouble(5), reader.GetDouble(6), reader.GetDouble(7)));
                }
            }

            summary.Buyers[key] = result;
            return result;
        }
        finally
        {
            summary.Gate.Release();
        }
    }

    /// <summary>
    /// Per allocation period and variant, the counted users' figures (<see cref="PeriodStats"/>): a user belongs to
    /// period i when i of the <paramref name="boundaries"/> (ascending) are at or before their first assign. Revenue is
    /// capped like the readout's for <paramref name="capPercentile"/>.
    /// </summary>
    public async Task<IReadOnlyList<PeriodStats>> PeriodsAsync(string tenantId, string experimentId, IReadOnlyList<LakeFile> files,
        IReadOnlyList<DateTimeOffset> boundaries, double? capPercentile, CancellationToken cancellationToken, Attribution? attribution = null)
    {
        await StatsAsync(tenantId, experimentId, files, false, null, cancellationToken);
        var summary = summaries[(tenantId, experimentId)];
        await summary.Gate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = connect();
            using var command = connection.CreateCommand();
            var source = Source(summary, attribution);
            command.CommandText = Sql("periods", ("cap", CapUnits(source, capPercentile)), ("source", source), ("period", PeriodOf(boundaries)));
            var result = new List<PeriodStats>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add(new PeriodStats(reader.GetInt32(0), reader.GetString(1), reader.GetDecimal(2), reader.GetInt64(3), reader.GetInt64(4),
                    reader.IsDBNull(5) ? 0 : reader.GetDouble(5), reader.IsDBNull(6) ? 0 : reader.GetDouble(6)));
            }

            return result;
        }
        finally
        {
            summary.Gate.Release();
        }
    }

    /// <summary>SQL mapping <c>first_at</c> to its period: the number of boundaries at or before it (instants the engine formats, never input).</summary>
    private static string PeriodOf(IReadOnlyList<DateTimeOffset> boundaries)
    {
        if (boundaries.Count == 0)
        {
            return "CAST(0 AS INTEGER)";
        }

        var cases = boundaries.Select((b, i) => (At: b.UtcDateTime, Period: i + 1)).OrderByDescending(x => x.At)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"WHEN first_at >= TIMESTAMPTZ '{x.At:yyyy-MM-dd HH:mm:ss.ffffff}+00' THEN {x.Period} "));
        return $"CAST(CASE {string.Concat(cases)}ELSE 0 END AS INTEGER)";
    }

    private static (IReadOnlyList<VariantStats> Variants, long Multiple, DateTimeOffset? FirstAssignAt) Read(DuckDBConnection connection, Summary s,
        string users)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Sql("stats", ("users", users));
        var result = new List<VariantStats>();
        long multiple = 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            result.Add(new VariantStats(reader.GetString(0), reader.GetDecimal(1), reader.GetInt64(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? 0m : reader.GetDecimal(4), reader.IsDBNull(5) ? 0 : reader.GetDouble(5)));
            multiple = reader.GetInt64(6);
        }

        if (result.Count == 0)
        {
            using var count = connection.CreateCommand();
            count.CommandText = Sql("multiple_users", ("users", users));
            multiple = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        using var first = connection.CreateCommand();
        first.CommandText = Sql("first_assign", ("summary_users", s.Users));
        var at = first.ExecuteScalar();
        return (result, multiple, at is DateTime d ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)) : null);
    }
}
