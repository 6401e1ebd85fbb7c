using System.Collections.Concurrent;
using System.Globalization;
using DuckDB.NET.Data;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Lake;

/// <summary>
/// Per-experiment user summaries kept in the in-memory DuckDB database of a <see cref="LakeQueries"/>, so a readout
/// does not regroup every raw event. Lake files are immutable once in place (a replay rewrites a file with the same
/// events), so the summary folds in only the files it has not seen; a file that changed or vanished rebuilds it.
/// One row per user holds the least and greatest variant the user saw (equal for a single-variant user), the first assign's time and price, and the revenue of the
/// user's converts at or after that time — recomputed for the users each new file touches (a late assign can move
/// the first assign earlier). A readout is then one scan of the users table.
/// </summary>
internal sealed class ExperimentSummaries(Func<DuckDBConnection> connect)
{
    /// <summary>The counting rules' assigns per user and converts per event_id in the given files (macros of lake_events_macro.sql).</summary>
    private const string AssignsOf = "SELECT * FROM experiment_assigns($files, $experiment)";

    private const string ConvertsOf = "SELECT * FROM experiment_converts($files, $experiment)";

    private readonly ConcurrentDictionary<(string Tenant, string Experiment), Summary> summaries = new();
    private int nextId;
    private long rebuilds;
    private long foldedFiles;

    /// <summary>How many times a summary was built from every file (the first readout of an experiment, or after a file was lost or rewritten).</summary>
    public long Rebuilds => Interlocked.Read(ref rebuilds);

    /// <summary>How many new files were folded into summaries.</summary>
    public long FoldedFiles => Interlocked.Read(ref foldedFiles);

    private sealed class Summary(int id)
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public string Users { get; } = string.Create(CultureInfo.InvariantCulture, $"summary_{id}_users");
        public string Converts { get; } = string.Create(CultureInfo.InvariantCulture, $"summary_{id}_converts");
        public Dictionary<string, (long Length, DateTime Written)> Files { get; set; } = [];
        public bool Built { get; set; }

        /// <summary>The per-variant sufficient statistics of the users table as last read; null once a fold changes it.</summary>
        public (IReadOnlyList<VariantStats> Variants, long Multiple)? Stats { get; set; }
    }

    public async Task<(IReadOnlyList<VariantStats> Variants, long MultipleExposureUsers)> StatsAsync(string tenantId, string experimentId,
        IReadOnlyList<FileInfo> files, CancellationToken cancellationToken)
    {
        var summary = summaries.GetOrAdd((tenantId, experimentId), _ => new Summary(Interlocked.Increment(ref nextId)));
        await summary.Gate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = connect();
            var current = files.ToDictionary(f => f.FullName, f => (f.Length, f.LastWriteTimeUtc));
            var lineage = new CompactionLineage(current, summary.Files);
            var rewritten = summary.Files.Any(kv => current.TryGetValue(kv.Key, out var now) && now != kv.Value);
            // A file that vanished into a merged file (the compactor's journal says so) is still summarised: no rebuild.
            var lost = summary.Files.Keys.Any(path => !current.ContainsKey(path) && !lineage.Covered(path));
            if (!summary.Built || rewritten || lost)
            {
                summary.Stats = null;
                summary.Built = false;
                Rebuild(connection, summary, experimentId, [.. current.Keys]);
                Interlocked.Increment(ref rebuilds);
            }
            else
            {
                // A merged file whose every source the summary has folded adds nothing; anything else is folded (folding is idempotent).
                var added = current.Keys.Where(path => !summary.Files.ContainsKey(path) && !lineage.AlreadyFolded(path)).ToList();
                if (added.Count > 0)
                {
                    summary.Stats = null;
                    FoldIn(connection, summary, experimentId, added);
                    Interlocked.Add(ref foldedFiles, added.Count);
                }
            }

            summary.Files = current;
            summary.Built = true;
            summary.Stats ??= Read(connection, summary);
            return summary.Stats.Value;
        }
        finally
        {
            summary.Gate.Release();
        }
    }

    private static void Execute(DuckDBConnection connection, string sql, IReadOnlyList<string>? files = null, string? experimentId = null)
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

        command.ExecuteNonQuery();
    }

    private static void Rebuild(DuckDBConnection connection, Summary s, string experimentId, IReadOnlyList<string> files)
    {
        Execute(connection, $"CREATE OR REPLACE TABLE {s.Converts} AS {ConvertsOf}", files, experimentId);
        Execute(connection, $"""
            CREATE OR REPLACE TABLE {s.Users} AS
            SELECT user_id, variant_lo, variant_hi, variant_lo <> variant_hi AS multiple, price, first_at,
                   CAST(0 AS DECIMAL(38, 4)) AS revenue, false AS converted
            FROM ({AssignsOf})
            """, files, experimentId);
        Recompute(connection, s, $"SELECT DISTINCT user_id FROM {s.Converts}");
    }

    private static void FoldIn(DuckDBConnection connection, Summary s, string experimentId, IReadOnlyList<string> added)
    {
        Execute(connection, $"CREATE OR REPLACE TEMP TABLE new_converts AS {ConvertsOf}", added, experimentId);
        Execute(connection, $"INSERT INTO {s.Converts} SELECT * FROM new_converts n WHERE NOT EXISTS (SELECT 1 FROM {s.Converts} c WHERE c.event_id = n.event_id)");
        Execute(connection, $"CREATE OR REPLACE TEMP TABLE new_users AS {AssignsOf}", added, experimentId);
        Execute(connection, $"""
            UPDATE {s.Users} SET
                variant_lo = least({s.Users}.variant_lo, n.variant_lo),
                variant_hi = greatest({s.Users}.variant_hi, n.variant_hi),
                multiple = least({s.Users}.variant_lo, n.variant_lo) <> greatest({s.Users}.variant_hi, n.variant_hi),
                price = CASE WHEN n.first_at < {s.Users}.first_at THEN n.price ELSE {s.Users}.price END,
                first_at = least({s.Users}.first_at, n.first_at)
            FROM new_users n WHERE {s.Users}.user_id = n.user_id
            """);
        Execute(connection, $"""
            INSERT INTO {s.Users}
            SELECT user_id, variant_lo, variant_hi, variant_lo <> variant_hi, price, first_at, CAST(0 AS DECIMAL(38, 4)), false
            FROM new_users n WHERE NOT EXISTS (SELECT 1 FROM {s.Users} u WHERE u.user_id = n.user_id)
            """);
        Recompute(connection, s, "SELECT user_id FROM new_users UNION SELECT user_id FROM new_converts");
    }

    /// <summary>
    /// Revenue and conversion of the users <paramref name="touched"/> selects, from their converts at or after their first
    /// assign: rule (3) of the experiment_users macro (lake_events_macro.sql), applied to the stored users and converts.
    /// </summary>
    private static void Recompute(DuckDBConnection connection, Summary s, string touched)
    {
        Execute(connection, $"""
            CREATE OR REPLACE TEMP TABLE recomputed AS
            SELECT u.user_id, sum(c.revenue) AS revenue, count(c.event_id) AS buys
            FROM {s.Users} u JOIN ({touched}) t USING (user_id)
            LEFT JOIN {s.Converts} c ON c.user_id = u.user_id AND c.occurred_at >= u.first_at
            GROUP BY u.user_id
            """);
        Execute(connection, $"""
            UPDATE {s.Users} SET revenue = coalesce(r.revenue, 0), converted = r.buys > 0
            FROM recomputed r WHERE {s.Users}.user_id = r.user_id
            """);
    }

    private static (IReadOnlyList<VariantStats>, long) Read(DuckDBConnection connection, Summary s)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT variant_lo, min(price), count(*), count(*) FILTER (WHERE converted),
                   CAST(sum(revenue) AS DECIMAL(38, 4)), sum(CAST(revenue AS DOUBLE) * CAST(revenue AS DOUBLE)),
                   (SELECT count(*) FROM {s.Users} WHERE multiple)
            FROM {s.Users} WHERE NOT multiple
            GROUP BY variant_lo ORDER BY variant_lo
            """;
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
            count.CommandText = $"SELECT count(*) FROM {s.Users} WHERE multiple";
            multiple = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        return (result, multiple);
    }
}
