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

/// <summary>
/// What one partition's pass did: files and bytes before and after, merges and the rows they wrote, duplicate event_ids
/// the merges dropped, small files left because they were younger than the minimum age, merged sources kept until the
/// readers that may hold them finish, files moved to quarantine because they could not be read, and the error that
/// stopped the partition's pass (null when none did; the other partitions go on).
/// </summary>
public sealed record PartitionCompaction(string Folder, int FilesBefore, int FilesAfter, int Merges, long Rows, long BytesBefore, long BytesAfter)
{
    public long DuplicatesDropped { get; init; }

    public int TooYoung { get; init; }

    public int KeptForReaders { get; init; }

    public IReadOnlyList<QuarantinedFile> Quarantined { get; init; } = [];

    public string? Error { get; init; }
}

/// <summary>
/// Merges a partition's small files into few large ones (README "Compaction"). Each merge: the rows of
/// the chosen files are written by DuckDB to a hidden temporary file; the merge is appended to the partition's
/// <see cref="CompactionJournal"/>; the merged file is renamed into place; then each source file is removed, unless it
/// changed since it was read (a lander's replay rewrote it), in which case it stays. A source stays, too, while a reader
/// that may have listed it still holds its <see cref="ReadLease"/> (taken before the merged file was in place); a later
/// pass, or <see cref="RemoveKeptSourcesAsync"/>, removes it once those readers are done, and readers that list meanwhile
/// skip it (<see cref="LakeReaders.List"/>). A merge keeps each event_id once. A file that cannot be read is moved to
/// quarantine and the merge goes on without it; a partition whose pass fails is reported and the pass goes on to the
/// next. A crash at any point leaves every
/// event readable at least once; readers count each event_id once, so a file and its merged copy side by side count
/// once. The next pass finishes what a crash interrupted (removes sources whose merged file is in place) and removes
/// temporary files crashed merges left. One compactor at a time works on a partition (a lock file beside the data).
/// </summary>
public sealed class LakeCompactor(LakeLayout lake, CompactionOptions options, TimeProvider time, ILogger<LakeCompactor> logger,
    int memoryLimitMb = LakeQueries.DefaultMemoryLimitMb, string? spillRoot = null)
{
    private const string MergedPrefix = "compact-";
    private const string LockName = ".compact.lock";

    /// <summary>Small files younger than this are left for a later pass.</summary>
    public int MinFileAgeSeconds => options.MinFileAgeSeconds;

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
            try
            {
                if (await CompactPartitionAsync(folder, cancellationToken) is { } result)
                {
                    results.Add(result);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DuckDB.NET.Data.DuckDBException)
            {
                // A disk or data fault in one partition (a file DuckDB cannot read and we cannot move, a full disk) stops only that partition.
                CompactorLog.PartitionFailed(logger, folder, e);
                results.Add(new PartitionCompaction(folder, 0, 0, 0, 0, 0, 0) { Error = e.Message.Split('\n', 2)[0] });
            }
        }

        return results;
    }

    /// <summary>Lander temporary files (<c>.{name}.{guid}.tmp</c>) older than <see
    /// cref="LakeLayout.StaleTemporaryAge"/>: left by a writer that was killed.</summary>
    public int RemoveStaleTemporaryFiles() => lake.RemoveStaleTemporaryFiles(time.GetUtcNow());

    /// <summary>Merged sources waiting for readers, by partition folder and merged file name, with the leases that held them.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Folder, string Merged), (IReadOnlyList<LakeFileIdentity> Sources,
        IReadOnlySet<string> Leases)> kept = new();

    /// <summary>How many merged sources wait for readers to finish before they are removed.</summary>
    public int KeptSources => kept.Values.Sum(k => k.Sources.Count);

    /// <summary>
    /// Removes the merged sources kept for readers as soon as those readers are done, waiting at most
    /// <paramref name="wait"/>; returns how many are still kept (a later pass removes them).
    /// </summary>
    public async Task<int> RemoveKeptSourcesAsync(TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            foreach (var ((folder, merged), _) in kept)
            {
                using var held = TryLock(folder);
                if (held is not null)
                {
                    TryRemoveKept(folder, merged);
                }
            }

            if (kept.IsEmpty || time.GetUtcNow() >= deadline)
            {
                return KeptSources;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
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
        PruneJournal(folder);

        var files = DataFiles(folder);
        var before = (Count: files.Count, Bytes: files.Sum(f => f.Length));
        var target = options.TargetFileMb * 1024L * 1024L;
        var now = time.GetUtcNow();
        var small = files.Where(f => f.Length < target && !IsKept(folder, f)).ToList();
        var young = small.Count(f => now - new DateTimeOffset(f.LastWriteTimeUtc) < TimeSpan.FromSeconds(options.MinFileAgeSeconds));
        small = [.. small.Where(f => now - new DateTimeOffset(f.LastWriteTimeUtc) >= TimeSpan.FromSeconds(options.MinFileAgeSeconds))];
        var merges = 0;
        long rows = 0;
        long duplicates = 0;
        var quarantined = new List<QuarantinedFile>();
        if (small.Count >= options.MinFiles)
        {
            foreach (var group in Groups(small, target))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (written, dropped, unreadable) = await MergeAsync(folder, group, cancellationToken);
                quarantined.AddRange(unreadable);
                if (written >= 0)
                {
                    rows += written;
                    duplicates += dropped;
                    merges++;
                }
            }
        }

        var after = DataFiles(folder);
        var keptHere = kept.Where(k => k.Key.Folder == folder).Sum(k => k.Value.Sources.Count(s => File.Exists(Path.Combine(folder, s.Name))));
        var result = new PartitionCompaction(folder, before.Count, after.Count, merges, rows, before.Bytes, after.Sum(f => f.Length))
        {
            DuplicatesDropped = duplicates,
            TooYoung = young,
            KeptForReaders = keptHere,
            Quarantined = quarantined,
        };
        if (merges > 0)
        {
            CompactorLog.Compacted(logger, folder, result.FilesBefore, result.FilesAfter, rows);
        }

        return result;
    }

    /// <summary>True for a merged source kept for readers: it is in a merged file already, so no merge takes it again.</summary>
    private bool IsKept(string folder, FileInfo file) =>
        kept.Any(k => k.Key.Folder == folder && k.Value.Sources.Any(s => s.Name == file.Name));

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

    /// <summary>
    /// One merge; returns the rows written (−1 when no merge happened: fewer than two readable sources), the duplicate
    /// event_ids dropped, and the sources moved to quarantine because they could not be read.
    /// </summary>
    private async Task<(long Rows, long Duplicates, IReadOnlyList<QuarantinedFile> Quarantined)> MergeAsync(string folder, List<FileInfo> sources,
        CancellationToken cancellationToken)
    {
        var quarantined = new List<QuarantinedFile>();
        while (true)
        {
            sources = [.. sources.Where(f => File.Exists(f.FullName))];
            if (sources.Count < 2)
            {
                return (-1, 0, quarantined);
            }

            try
            {
                var (rows, duplicates) = await MergeReadableAsync(folder, sources, cancellationToken);
                return (rows, duplicates, quarantined);
            }
            catch (DuckDB.NET.Data.DuckDBException e)
            {
                var moved = LakeQuarantine.SetAsideUnreadable(lake, sources.Select(f => f.FullName), e, time.GetUtcNow());
                if (moved.Count == 0)
                {
                    throw;
                }

                foreach (var file in moved)
                {
                    CompactorLog.Quarantined(logger, file.OriginalPath, file.Reason);
                    Metrics?.QuarantinedFiles.Add(1);
                }

                quarantined.AddRange(moved);
            }
        }
    }

    private async Task<(long Rows, long Duplicates)> MergeReadableAsync(string folder, List<FileInfo> sources, CancellationToken cancellationToken)
    {
        var identities = sources.Select(LakeFileIdentity.Of).ToList();
        var merged = MergedName(identities);
        var temporary = Path.Combine(folder, "." + merged + "." + Guid.NewGuid().ToString("N") + ".tmp");
        (long Rows, long Read) copied;
        try
        {
            copied = await Task.Run(() => Copy(sources.Select(f => f.FullName).ToArray(), temporary), cancellationToken);
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
        CompactionJournal.Append(folder, new CompactionEntry(merged, identities) { At = time.GetUtcNow() });
        AfterStep?.Invoke(CompactionStep.Journaled);
        File.Move(temporary, Path.Combine(folder, merged), overwrite: true);
        AfterStep?.Invoke(CompactionStep.Renamed);
        // Any reader holding a lease now may have listed the sources before the merged file was in place.
        var leases = LakeReaders.Held(lake);
        var removed = 0;
        if (leases.Count == 0)
        {
            removed = RemoveSources(folder, identities);
        }
        else
        {
            kept[(folder, merged)] = (identities, leases);
        }

        Metrics?.Compactions.Add(1);
        Metrics?.CompactedFiles.Add(removed);
        return (copied.Rows, copied.Read - copied.Rows);
    }

    /// <summary>Removes a kept merge's sources once no lease that held them is held any more; true when it did.</summary>
    private bool TryRemoveKept(string folder, string merged)
    {
        if (!kept.TryGetValue((folder, merged), out var entry) || entry.Leases.Any(l => LakeReaders.IsHeld(lake, l)))
        {
            return false;
        }

        if (File.Exists(Path.Combine(folder, merged)))
        {
            Metrics?.CompactedFiles.Add(RemoveSources(folder, entry.Sources));
        }

        kept.TryRemove((folder, merged), out _);
        return true;
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

    /// <summary>
    /// Merges whose sources are still there after the merged file was in place: kept for readers (removed once they are
    /// done) or interrupted by a crash (removed now, unless readers hold leases, which then keep them in turn).
    /// </summary>
    private void FinishInterrupted(string folder)
    {
        IReadOnlySet<string>? leases = null;
        foreach (var entry in CompactionJournal.Read(folder))
        {
            if (!File.Exists(Path.Combine(folder, entry.Merged)) || !entry.Sources.Any(s => File.Exists(Path.Combine(folder, s.Name))))
            {
                kept.TryRemove((folder, entry.Merged), out _);
                continue;
            }

            if (kept.ContainsKey((folder, entry.Merged)))
            {
                TryRemoveKept(folder, entry.Merged);
                continue;
            }

            leases ??= LakeReaders.Held(lake);
            if (leases.Count == 0)
            {
                RemoveSources(folder, entry.Sources);
            }
            else
            {
                kept[(folder, entry.Merged)] = (entry.Sources, leases);
            }
        }
    }

    /// <summary>
    /// Drops journal entries no reader needs: every source gone, and older than <see cref="CompactionOptions.JournalRetentionHours"/>
    /// (a reader's summary that knew those sources and comes back later rebuilds, as after any lost file).
    /// </summary>
    private void PruneJournal(string folder)
    {
        var entries = CompactionJournal.Read(folder);
        var horizon = time.GetUtcNow() - TimeSpan.FromHours(options.JournalRetentionHours);
        var keep = entries.Where(e => e.At is { } at && at > horizon || e.Sources.Any(s => File.Exists(Path.Combine(folder, s.Name)))).ToList();
        if (keep.Count < entries.Count)
        {
            CompactionJournal.Rewrite(folder, keep);
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

    /// <summary>Writes the sources' rows, each event_id once (the first ingested, as readers count it), to <paramref
    /// name="temporary"/>; rows written and read.</summary>
    private (long Rows, long Read) Copy(string[] sources, string temporary)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        LakeQueries.Limit(connection, memoryLimitMb,
            Path.Combine(spillRoot ?? Path.Combine(Path.GetTempPath(), "po-duckdb"),
                string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-compact")));
        using var command = connection.CreateCommand();
        // Row order within a partition means nothing to readers; without it DuckDB streams the merge in less memory.
        command.CommandText = "SET preserve_insertion_order = false";
        command.ExecuteNonQuery();
        // COPY takes no parameters: the file list and the target are paths this class enumerated or made, quoted as literals.
        var list = string.Join(", ", sources.Select(Quote));
        // The path columns stay in the path: hive_partitioning off, or DuckDB would write tenant_id and event_date into the file.
        // A partition is one tenant's, so event_id alone tells a duplicate (a replay's or a client's retry).
        command.CommandText = $"SELECT count(*) FROM read_parquet([{list}], hive_partitioning = false, union_by_name = true)";
        var read = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        command.CommandText = $"""
            COPY (SELECT * FROM read_parquet([{list}], hive_partitioning = false, union_by_name = true)
                  QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ingested_at, log_source, log_position) = 1)
            TO {Quote(temporary)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)
            """;
        return (Convert.ToInt64(command.ExecuteNonQuery(), CultureInfo.InvariantCulture), read);
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

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Moved {File} to quarantine: it cannot be read ({Reason}); its events are not counted until it is repaired and moved back")]
    public static partial void Quarantined(ILogger logger, string file, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Compaction of {Folder} failed; the other partitions go on and the next pass tries again")]
    public static partial void PartitionFailed(ILogger logger, string folder, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {File}, left by a merge that did not finish")]
    public static partial void LeftoverRemoved(ILogger logger, string file);
}
