using System.Globalization;
using DuckDB.NET.Data;

namespace PricingOptimizer.Lake;

/// <summary>A lake file set aside because it cannot be read: where it was, where it is now, and why.</summary>
public sealed record QuarantinedFile(string OriginalPath, string QuarantinePath, string Reason, DateTimeOffset At);

/// <summary>
/// Files of the lake that cannot be read (a damaged or truncated Parquet file) are moved under
/// <see cref="LakeLayout.QuarantineFolder"/>, keeping their partition folders, with a note of why beside them
/// (<c>{name}.why</c>). Reads and compactions go on without them; readouts name them in a note; an operator who repairs
/// a file moves it back. A file is quarantined only after a read of that file alone fails for a reason other than
/// its absence, so a file a compaction removed meanwhile is never taken for a damaged one.
/// </summary>
public static class LakeQuarantine
{
    private const string WhyExtension = ".why";

    /// <summary>Why <paramref name="path"/> cannot be read, or null when it reads (or is gone, which is no damage).</summary>
    public static string? Check(string path)
    {
        try
        {
            using var connection = new DuckDBConnection("Data Source=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            // Reads every column of every row group: a damaged page fails here as it would in a query.
            command.CommandText = $"SELECT count(*) FROM (SELECT * FROM read_parquet('{path.Replace("'", "''", StringComparison.Ordinal)}', " +
                $"hive_partitioning = false))";
            command.ExecuteScalar();
            return null;
        }
        catch (DuckDBException e)
        {
            // Gone meanwhile (a compaction merged it): nothing to set aside. Still there: it cannot be read.
            return File.Exists(path) ? FirstLine(e.Message) : null;
        }
    }

    /// <summary>
    /// After a read over <paramref name="files"/> failed with <paramref name="error"/>: the files that cannot be read,
    /// moved aside (the ones the error names are checked first; when it names none, every file is checked).
    /// </summary>
    public static IReadOnlyList<QuarantinedFile> SetAsideUnreadable(LakeLayout lake, IEnumerable<string> files, Exception error, DateTimeOffset now)
    {
        var list = files.ToList();
        var named = list.Where(f => error.Message.Contains(f, StringComparison.Ordinal)).ToList();
        var moved = SetAside(lake, named, now);
        return moved.Count > 0 || named.Count > 0 && named.All(File.Exists) ? moved : SetAside(lake, list, now);
    }

    /// <summary>Checks each of <paramref name="files"/> and moves the unreadable ones aside.</summary>
    public static IReadOnlyList<QuarantinedFile> SetAside(LakeLayout lake, IEnumerable<string> files, DateTimeOffset now)
    {
        var moved = new List<QuarantinedFile>();
        foreach (var file in files)
        {
            if (Check(file) is { } reason && Move(lake, file, reason, now) is { } done)
            {
                moved.Add(done);
            }
        }

        return moved;
    }

    /// <summary>Moves <paramref name="path"/> (under the events table) into quarantine with its reason; null when it is gone already.</summary>
    public static QuarantinedFile? Move(LakeLayout lake, string path, string reason, DateTimeOffset now)
    {
        var relative = Path.GetRelativePath(lake.EventsRoot, path);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new ArgumentException($"{path} is not a file of the lake's events table", nameof(path));
        }

        var target = Path.Combine(lake.QuarantineFolder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target))
        {
            target = Path.Combine(Path.GetDirectoryName(target)!,
                string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileNameWithoutExtension(target)}-{now.UtcTicks}{Path.GetExtension(target)}"));
        }

        try
        {
            File.Move(path, target);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        File.WriteAllText(target + WhyExtension, string.Create(CultureInfo.InvariantCulture, $"{now:O}\t{path}\t{reason}\n"));
        return new QuarantinedFile(path, target, reason, now);
    }

    /// <summary>The files in quarantine, of one tenant or of every tenant.</summary>
    public static IReadOnlyList<QuarantinedFile> List(LakeLayout lake, string? tenantId = null)
    {
        var folder = tenantId is null ? lake.QuarantineFolder : Path.Combine(lake.QuarantineFolder, "tenant_id=" + tenantId);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var found = new List<QuarantinedFile>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var why = file + WhyExtension;
            var fields = File.Exists(why) ? File.ReadAllText(why).TrimEnd('\n').Split('\t', 3) : [];
            found.Add(fields.Length == 3 && DateTimeOffset.TryParse(fields[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
                ? new QuarantinedFile(fields[1], file, fields[2], at)
                : new QuarantinedFile(file, file, "unreadable", new DateTimeOffset(File.GetLastWriteTimeUtc(file))));
        }

        return found;
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] : line;
    }
}
