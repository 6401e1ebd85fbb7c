using System.Globalization;

namespace PricingOptimizer.Lake;

/// <summary>A lake file as a reader listed it: its full path, length and last write time (UTC).</summary>
public readonly record struct LakeFile(string Path, long Length, DateTime Written);

/// <summary>
/// A reader's hold on the files it listed. While a lease is held, a compactor removes no file that the lease's reader
/// may have listed: a merge's sources stay until every lease that existed when the merged file was renamed into place
/// has ended. A lease is a file under <c>{lake}/_readers/</c> that its reader keeps open with an exclusive lock, so a
/// reader that dies (kill -9 included) releases it at once and a compactor removes the file it left.
/// </summary>
public sealed class ReadLease : IDisposable
{
    private readonly FileStream stream;

    private ReadLease(FileStream stream, string path)
    {
        this.stream = stream;
        Path = path;
    }

    /// <summary>The lease file.</summary>
    public string Path { get; }

    /// <summary>Takes a lease on <paramref name="lake"/>; list files only after this returns.</summary>
    public static ReadLease Take(LakeLayout lake)
    {
        var folder = lake.ReadersFolder;
        Directory.CreateDirectory(folder);
        var name = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        // Locked under a name no compactor looks at, then renamed: a compactor never sees an unlocked lease of a live reader.
        var pending = System.IO.Path.Combine(folder, "." + name + ".tmp");
        var path = System.IO.Path.Combine(folder, name + LakeReaders.Extension);
        var stream = new FileStream(pending, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        try
        {
            File.Move(pending, path);
        }
        catch
        {
            stream.Dispose();
            File.Delete(pending);
            throw;
        }

        return new ReadLease(stream, path);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A compactor cannot remove a held lease; whatever removed it, the lock below is what counts.
        }

        stream.Dispose();
    }
}

/// <summary>What compactors and readers know of each other through <see cref="LakeLayout.ReadersFolder"/>.</summary>
public static class LakeReaders
{
    public const string Extension = ".lease";

    /// <summary>The names of the leases held now; leases whose reader died are removed on the way.</summary>
    public static IReadOnlySet<string> Held(LakeLayout lake)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(lake.ReadersFolder))
        {
            return held;
        }

        foreach (var path in Directory.EnumerateFiles(lake.ReadersFolder, "*" + Extension))
        {
            if (IsHeld(path))
            {
                held.Add(System.IO.Path.GetFileName(path));
            }
        }

        // A lease a reader died making (before its rename) is an old temporary file nobody holds.
        foreach (var path in Directory.EnumerateFiles(lake.ReadersFolder, ".*.tmp"))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > TimeSpan.FromMinutes(1))
            {
                IsHeld(path);
            }
        }

        return held;
    }

    /// <summary>True while the reader of lease <paramref name="name"/> still holds it.</summary>
    public static bool IsHeld(LakeLayout lake, string name) => IsHeld(System.IO.Path.Combine(lake.ReadersFolder, name));

    private static bool IsHeld(string path)
    {
        FileStream probe;
        try
        {
            probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            // Locked: its reader is alive.
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to probe (another user's reader): count it as held, the safe side.
            return true;
        }

        using (probe)
        {
            // We hold the lock, so its reader is gone (the kernel released the lock when the process ended).
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Removed meanwhile.
            }
        }

        return false;
    }

    /// <summary>
    /// The data files under <paramref name="folder"/> (the whole events table, or one tenant's), each once: a file that a
    /// compaction merged into a file that is also there is left out (its rows are in the merged file), so a reader never
    /// reads the same rows twice while a merge's sources wait for older readers to finish. Call it holding a lease.
    /// </summary>
    public static IReadOnlyList<LakeFile> List(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var files = new List<LakeFile>();
        foreach (var info in new DirectoryInfo(folder).EnumerateFiles("*.parquet", SearchOption.AllDirectories))
        {
            if (info.Name.StartsWith('.'))
            {
                continue;
            }

            try
            {
                files.Add(new LakeFile(info.FullName, info.Length, info.LastWriteTimeUtc));
            }
            catch (FileNotFoundException)
            {
                // Removed between the listing and its stat: only a source whose merged file was already in place, which is listed.
            }
        }

        var byPath = files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var partition in files.Select(f => System.IO.Path.GetDirectoryName(f.Path)!).Distinct(StringComparer.Ordinal))
        {
            foreach (var entry in CompactionJournal.Read(partition))
            {
                if (!byPath.ContainsKey(System.IO.Path.Combine(partition, entry.Merged)))
                {
                    continue;
                }

                foreach (var source in entry.Sources)
                {
                    var path = System.IO.Path.Combine(partition, source.Name);
                    if (byPath.TryGetValue(path, out var file) && file.Length == source.Length && file.Written.Ticks == source.WrittenTicks)
                    {
                        covered.Add(path);
                    }
                }
            }
        }

        return covered.Count == 0 ? files : [.. files.Where(f => !covered.Contains(f.Path))];
    }
}
