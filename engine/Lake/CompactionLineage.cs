namespace PricingOptimizer.Lake;

/// <summary>
/// What the compactors' journals say about a reader's view of the lake: whether a file the reader knew and no longer
/// sees went into a file it sees now (possibly through several merges), and whether a merged file it has not seen
/// holds only files it already knew. Journals are read once per partition, and only when asked.
/// </summary>
/// <param name="current">The files the reader sees now: full path → length and last write time.</param>
/// <param name="known">The files the reader had folded before: full path → length and last write time.</param>
internal sealed class CompactionLineage(
    IReadOnlyDictionary<string, (long Length, DateTime Written)> current,
    IReadOnlyDictionary<string, (long Length, DateTime Written)> known)
{
    private readonly Dictionary<string, IReadOnlyList<CompactionEntry>> journals = new(StringComparer.Ordinal);

    private IReadOnlyList<CompactionEntry> Journal(string folder)
    {
        if (!journals.TryGetValue(folder, out var entries))
        {
            entries = CompactionJournal.Read(folder);
            journals[folder] = entries;
        }

        return entries;
    }

    /// <summary>True when the known file at <paramref name="path"/>, as the reader knew it, was merged into a file the reader sees now.</summary>
    public bool Covered(string path) =>
        known.TryGetValue(path, out var was) && Covered(path, was.Length, was.Written.Ticks, new HashSet<string>(StringComparer.Ordinal));

    private bool Covered(string path, long length, long ticks, HashSet<string> visited)
    {
        if (!visited.Add(path))
        {
            return false;
        }

        var folder = Path.GetDirectoryName(path)!;
        var name = Path.GetFileName(path);
        foreach (var entry in Journal(folder))
        {
            if (!entry.Sources.Contains(new LakeFileIdentity(name, length, ticks)))
            {
                continue;
            }

            var merged = Path.Combine(folder, entry.Merged);
            if (current.ContainsKey(merged))
            {
                return true;
            }

            // The merged file was merged again: follow it, as the journal recorded it.
            foreach (var later in Journal(folder))
            {
                if (later.Sources.FirstOrDefault(s => s.Name == entry.Merged) is { Name: not null } mergedAgain
                    && Covered(merged, mergedAgain.Length, mergedAgain.WrittenTicks, visited))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="path"/> is a merged file all of whose rows come from files the reader had already folded.</summary>
    public bool AlreadyFolded(string path) => AlreadyFolded(path, new HashSet<string>(StringComparer.Ordinal));

    private bool AlreadyFolded(string path, HashSet<string> visited)
    {
        var name = Path.GetFileName(path);
        if (!LakeCompactor.IsMergedFile(name) || !visited.Add(path))
        {
            return false;
        }

        var folder = Path.GetDirectoryName(path)!;
        var entry = Journal(folder).FirstOrDefault(e => e.Merged == name);
        return entry is not null && entry.Sources.All(source =>
        {
            var sourcePath = Path.Combine(folder, source.Name);
            return known.TryGetValue(sourcePath, out var was)
                ? was.Length == source.Length && was.Written.Ticks == source.WrittenTicks
                : AlreadyFolded(sourcePath, visited);
        });
    }
}
