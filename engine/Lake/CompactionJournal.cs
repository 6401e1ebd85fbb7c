using System.Globalization;
using System.Text;

namespace PricingOptimizer.Lake;

/// <summary>A file as the compactor saw it: its name in the partition folder, its length and last write time (UTC ticks).</summary>
public readonly record struct LakeFileIdentity(string Name, long Length, long WrittenTicks)
{
    public static LakeFileIdentity Of(FileInfo file) => new(file.Name, file.Length, file.LastWriteTimeUtc.Ticks);

    /// <summary>True when <paramref name="file"/> still exists with this length and write time (a replay that rewrote it does not match).</summary>
    public bool Matches(FileInfo file)
    {
        file.Refresh();
        return file.Exists && file.Length == Length && file.LastWriteTimeUtc.Ticks == WrittenTicks;
    }
}

/// <summary>One merge: the compacted file and the files whose rows it holds, and when it was journaled (null in lines written before it was kept).</summary>
public sealed record CompactionEntry(string Merged, IReadOnlyList<LakeFileIdentity> Sources)
{
    public DateTimeOffset? At { get; init; }
}

/// <summary>
/// The compactions of one partition folder, one line each (<c>_compactions.log</c>, which no reader's <c>*.parquet</c>
/// glob matches), appended and flushed to disk <b>before</b> the merged file is renamed into place. Readers that keep
/// state per file (the readout's summaries) use it to tell a file that vanished into a merged file from one that was
/// lost, and so stay warm across a compaction; the compactor uses it to finish a merge a crash interrupted.
/// </summary>
public static class CompactionJournal
{
    public const string FileName = "_compactions.log";

    public static string PathIn(string partitionFolder) => Path.Combine(partitionFolder, FileName);

    public static void Append(string partitionFolder, CompactionEntry entry)
    {
        using var stream = new FileStream(PathIn(partitionFolder), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        stream.Write(Encoding.UTF8.GetBytes(Line(entry)));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Replaces the journal with <paramref name="entries"/> (written aside, then renamed into place). Call it holding the partition's lock.</summary>
    public static void Rewrite(string partitionFolder, IEnumerable<CompactionEntry> entries)
    {
        var temporary = Path.Combine(partitionFolder, "." + FileName + "." + Guid.NewGuid().ToString("N") + ".tmp");
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
            foreach (var entry in entries)
            {
                stream.Write(Encoding.UTF8.GetBytes(Line(entry)));
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, PathIn(partitionFolder), overwrite: true);
    }

    /// <summary>merged, then a tab and name|length|ticks per source, then (when known) a tab and @ the journaling time's UTC ticks.</summary>
    private static string Line(CompactionEntry entry)
    {
        var line = new StringBuilder(entry.Merged);
        foreach (var source in entry.Sources)
        {
            line.Append('\t').Append(source.Name).Append('|')
                .Append(source.Length.ToString(CultureInfo.InvariantCulture)).Append('|')
                .Append(source.WrittenTicks.ToString(CultureInfo.InvariantCulture));
        }

        if (entry.At is { } at)
        {
            line.Append("\t@").Append(at.UtcTicks.ToString(CultureInfo.InvariantCulture));
        }

        return line.Append('\n').ToString();
    }

    /// <summary>The entries of a partition, oldest first; a line a crash cut short is skipped.</summary>
    public static IReadOnlyList<CompactionEntry> Read(string partitionFolder)
    {
        var path = PathIn(partitionFolder);
        if (!File.Exists(path))
        {
            return [];
        }

        string text;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            text = reader.ReadToEnd();
        }

        var entries = new List<CompactionEntry>();
        var lines = text.Split('\n');
        // The last piece follows the last newline: empty, or a line whose append a crash interrupted.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (Parse(lines[i]) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    private static CompactionEntry? Parse(string line)
    {
        var fields = line.Split('\t');
        if (fields.Length < 2 || fields[0].Length == 0)
        {
            return null;
        }

        var sources = new List<LakeFileIdentity>(fields.Length - 1);
        DateTimeOffset? at = null;
        foreach (var field in fields.AsSpan(1))
        {
            if (field.StartsWith('@'))
            {
                if (!long.TryParse(field.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture,
                    out var utcTicks) || utcTicks > DateTimeOffset.MaxValue.UtcTicks)
                {
                    return null;
                }

                at = new DateTimeOffset(utcTicks, TimeSpan.Zero);
                continue;
            }

            var parts = field.Split('|');
            if (parts.Length != 3
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
            {
                return null;
            }

            sources.Add(new LakeFileIdentity(parts[0], length, ticks));
        }

        return sources.Count == 0 ? null : new CompactionEntry(fields[0], sources) { At = at };
    }
}
