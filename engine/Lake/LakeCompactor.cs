using System.Globalization;
using System.IO.Hashing;
using System.Text;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;

namespace PricingOptimizer.Lake;

/// <summary>The points between the steps of one merge, where a crash may stop the compactor.</summary>
public enum CompactionStep
{
    /// <summary>The merged rows are written to a hidden temporary file and flushed to disk.</summary>
    Written,

    /// <summary>The merge is in the partition's journal; the merged file is not yet in place.</summary>
    Journaled,

    /// <summary>The merged file is renamed into place; every source file is still there too.</summary>
    Renamed,

    /// <summary>One more source file is removed (reported after each).</summary>
    SourceRemoved,
}

/// <summary>What one partition's pass did.</summary>
public sealed record PartitionCompaction(string Folder, int FilesBefore, int FilesAfter, int Merges, long Rows, long BytesBefore, long BytesAfter);

/// <summary>
/// Merges a partition's small files into few large ones (DESIGN.md "Lake layout", Compaction). Each merge: the rows of
/// the chosen files are written by DuckDB to a hidden temporary file; the merge is appended to the partition's
/// <see cref="CompactionJournal"/>; the merged file is renamed into place; then each source file is removed, unless it
/// changed since it was read (a lander's replay rewrote it), in which case it stays. A crash at any point leaves every
/// event readable at least once; readers count each event_id once, so a file and its merged copy side by side count
/// once. The next pass finishes what a crash interrupted (removes sources whose merged file is in place) and removes
/// temporary files crashed merges left. One compactor at a time works on a partition (a lock file beside the data).
/// </summary>
public sealed class LakeCompactor(LakeLayout lake, CompactionOptions options, TimeProvider time, ILogger<LakeCompactor> logger,
    int memoryLimitMb = LakeQueries.DefaultMemoryLimitMb, string? spillRoot = null)
{
    private const string MergedPrefix = "compact-";
    private const string LockName = ".compact.lock";

    /// <summary>True for the name of a file a merge wrote (only those have an entry in a journal).</summary>
    public static bool IsMergedFile(string name) => name.StartsWith(MergedPrefix, StringComparison.Ordinal);

    /// <summary>Called after each step of each merge; an exception it throws stops the pass there, as a crash would (tests use it so).</summary>
    public Action<CompactionStep>? AfterStep { get; init; }

    /// <summary>Where merges and the files they removed are counted, when set.</summary>
    public Telemetry.PoMetrics? Metrics { get; init; }

    /// <summary>Every partition of the lake, or of one tenant; partitions another compactor holds are skipped.</summary>
    public async Task<IReadOnlyList<PartitionCompaction>> CompactAsync(string? tenantId = null, CancellationToken cancellationToken = default)
    {
        if (tenantId is not null)
        {
            LakeLayout.EnsureTenantId(tenantId);
        }

        var root = tenantId is null ? lake.EventsRoot : Path.Combine(lake.EventsRoot, "tenant_id=" + tenantId);
        if (!Directory.Exists(root))
        {
            return [];
        }

        var partitions = Directory.EnumerateDirectories(root, "event_date=*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var results = new List<PartitionCompaction>();
        foreach (var folder in partitions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await CompactPartitionAsync(folder, cancellationToken) is { } result)
            {
                results.Add(result);
            }
        }

        return results;
    }

    /// <summary>One partition folder; null when another compactor holds it.</summary>
    public async Task<PartitionCompaction?> CompactPartitionAsync(string folder, CancellationToken cancellationToken = default)
    {
        using var held = TryLock(folder);
        if (held is null)
        {
            CompactorLog.PartitionBusy(logger, folder);
            return null;
        }

        RemoveLeftovers(folder);
        FinishInterrupted(folder);

        var files = DataFiles(folder);
        var before = (Count: files.Count, Bytes: files.Sum(f => f.Length));
        var target = options.TargetFileMb * 1024L * 1024L;
        var now = time.GetUtcNow();
        var small = files
            .Where(f => f.Length < target && now - new DateTimeOffset(f.LastWriteTimeUtc) >= TimeSpan.FromSeconds(options.MinFileAgeSeconds))
            .ToList();
        var merges = 0;
        long rows = 0;
        if (small.Count >= options.MinFiles)
        {
            foreach (var group in Groups(small, target))
            {
                cancellationToken.ThrowIfCancellationRequested();
                rows += await MergeAsync(folder, group, cancellationToken);
                merges++;
            }
        }

        var after = DataFiles(folder);
        var result = new PartitionCompaction(folder, before.Count, after.Count, merges, rows, before.Bytes, after.Sum(f => f.Length));
        if (merges > 0)
        {
            CompactorLog.Compacted(logger, folder, result.FilesBefore, result.FilesAfter, rows);
        }

        return result;
    }

    /// <summary>The partition's data files (hidden temporary files and the journal excluded), by name.</summary>
    private static List<FileInfo> DataFiles(string folder) =>
        [.. new DirectoryInfo(folder).EnumerateFiles("*.parquet").Where(f => !f.Name.StartsWith('.')).OrderBy(f => f.Name, StringComparer.Ordinal)];

    /// <summary>Consecutive runs of files of at most <paramref name="target"/> bytes together; a run of one file is no merge.</summary>
    private static IEnumerable<List<FileInfo>> Groups(List<FileInfo> files, long target)
    {
        var group = new List<FileInfo>();
        long size = 0;
        foreach (var file in files)
        {
            if (group.Count > 0 && size + file.Length > target)
            {
                if (group.Count > 1)
                {
                    yield return group;
                }

                group = [];
                size = 0;
            }

            group.Add(file);
            size += file.Length;
        }

        if (group.Count > 1)
        {
            yield return group;
        }
    }

    private async Task<long> MergeAsync(string folder, List<FileInfo> sources, CancellationToken cancellationToken)
    {
        var identities = sources.Select(LakeFileIdentity.Of).ToList();
        var merged = MergedName(identities);
        var temporary = Path.Combine(folder, "." + merged + "." + Guid.NewGuid().ToString("N") + ".tmp");
        long rows;
        try
        {
            rows = await Task.Run(() => Copy(sources.Select(f => f.FullName).ToArray(), temporary), cancellationToken);
            using (var written = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
            {
                written.Flush(flushToDisk: true);
            }
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        AfterStep?.Invoke(CompactionStep.Written);
        CompactionJournal.Append(folder, new CompactionEntry(merged, identities));
        AfterStep?.Invoke(CompactionStep.Journaled);
        File.Move(temporary, Path.Combine(folder, merged), overwrite: true);
        AfterStep?.Invoke(CompactionStep.Renamed);
        var removed = RemoveSources(folder, identities);
        Metrics?.Compactions.Add(1);
        Metrics?.CompactedFiles.Add(removed);
        return rows;
    }

    /// <summary>Removes each source still as it was merged; a source rewritten since (a replay) stays: its events are counted once either way.</summary>
    private int RemoveSources(string folder, IReadOnlyList<LakeFileIdentity> sources)
    {
        var removed = 0;
        foreach (var source in sources)
        {
            var file = new FileInfo(Path.Combine(folder, source.Name));
            if (!source.Matches(file))
            {
                if (file.Exists)
                {
                    CompactorLog.SourceChanged(logger, file.FullName);
                }

                continue;
            }

            file.Delete();
            removed++;
            AfterStep?.Invoke(CompactionStep.SourceRemoved);
        }

        return removed;
    }

    /// <summary>Merges a crash interrupted after its merged file was in place: the sources still there (unchanged) go now.</summary>
    private void FinishInterrupted(string folder)
    {
        foreach (var entry in CompactionJournal.Read(folder))
        {
            if (File.Exists(Path.Combine(folder, entry.Merged)) && entry.Sources.Any(s => File.Exists(Path.Combine(folder, s.Name))))
            {
                RemoveSources(folder, entry.Sources);
            }
        }
    }

    /// <summary>Temporary files of merges a crash interrupted: with the partition's lock held, no merge of ours is writing one.</summary>
    private void RemoveLeftovers(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "." + MergedPrefix + "*.tmp"))
        {
            File.Delete(file);
            CompactorLog.LeftoverRemoved(logger, file);
        }
    }

    /// <summary>A merge's name follows from what it merges, so a merge redone after a crash lands on the same name.</summary>
    private static string MergedName(IReadOnlyList<LakeFileIdentity> sources)
    {
        var text = new StringBuilder();
        foreach (var s in sources)
        {
            text.Append(s.Name).Append('|').Append(s.Length).Append('|').Append(s.WrittenTicks).Append('\n');
        }

        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(text.ToString()));
        return string.Create(CultureInfo.InvariantCulture, $"{MergedPrefix}{hash:x16}.parquet");
    }

    private long Copy(string[] sources, string temporary)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        LakeQueries.Limit(connection, memoryLimitMb,
            Path.Combine(spillRoot ?? Path.Combine(Path.GetTempPath(), "po-duckdb"), string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-compact")));
        using var command = connection.CreateCommand();
        // Row order within a partition means nothing to readers; without it DuckDB streams the merge in less memory.
        command.CommandText = "SET preserve_insertion_order = false";
        command.ExecuteNonQuery();
        // COPY takes no parameters: the file list and the target are paths this class enumerated or made, quoted as literals.
        var list = string.Join(", ", sources.Select(Quote));
        // The path columns stay in the path: hive_partitioning off, or DuckDB would write tenant_id and event_date into the file.
        command.CommandText = $"""
            COPY (SELECT * FROM read_parquet([{list}], hive_partitioning = false, union_by_name = true))
            TO {Quote(temporary)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)
            """;
        return Convert.ToInt64(command.ExecuteNonQuery(), CultureInfo.InvariantCulture);
    }

    private static string Quote(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>An exclusive lock on the partition (flock through FileShare.None); null when another compactor holds it.</summary>
    private static FileStream? TryLock(string folder)
    {
        try
        {
            return new FileStream(Path.Combine(folder, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}

internal static partial class CompactorLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted {Folder}: {Before} files → {After} ({Rows} rows merged)")]
    public static partial void Compacted(ILogger logger, string folder, int before, int after, long rows);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Skipped {Folder}: another compactor holds it")]
    public static partial void PartitionBusy(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kept {File}: it changed after it was merged (a replay rewrote it); its events count once")]
    public static partial void SourceChanged(ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {File}, left by a merge that did not finish")]
    public static partial void LeftoverRemoved(ILogger logger, string file);
}
