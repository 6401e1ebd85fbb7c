using System.Globalization;
using System.Text;

namespace PricingOptimizer.Lake;

/// <summary>The points between the steps of persisting one summary, where a crash may stop the writer.</summary>
public enum SummaryPersistStep
{
    /// <summary>One of the summary's tables is written as Parquet under its generation's name (no manifest yet: no reader uses it).</summary>
    TableWritten,

    /// <summary>The manifest is written to a temporary name.</summary>
    ManifestWritten,

    /// <summary>The manifest is renamed into place: the generation is published.</summary>
    Published,

    /// <summary>Older generations past their grace period are removed.</summary>
    OlderRemoved,
}

/// <summary>
/// One persisted generation of a summary: its tables as Parquet files and the manifest that lists the lake files they fold
/// (path relative to the lake's root, length, last write time) and the CUPED lookback they were computed with, and
/// optionally <see cref="Figures"/>: figures already read from those tables (one line of JSON), so a process taking the
/// generation up answers its first readout without scanning them.
/// </summary>
internal sealed record SummaryGeneration(string Folder, string Name, int LookbackDays, Dictionary<string, (long Length, DateTime Written)> Files)
{
    public string? Figures { get; init; }

    public string TablePath(string table) => Path.Combine(Folder, $"{Name}.{table}.parquet");

    public string ManifestPath => Path.Combine(Folder, Name + SummaryStore.ManifestExtension);
}

/// <summary>
/// Where summaries are persisted beside the lake, so every process shares them: <c>{lake}/_summaries/tenant_id={tenant}/
/// experiment={id}/</c> for an experiment's users and converts, <c>…/tenant_id={tenant}/_prior/</c> for the tenant's
/// converts (CUPED's pre-period). A generation is its tables (<c>{generation}.{table}.parquet</c>) and a manifest
/// (<c>{generation}.summary</c>) written to a temporary name and renamed into place last: a reader only ever sees complete
/// generations, two writers at once publish two valid ones (the newest wins), and a crash leaves at most tables no manifest
/// names, removed once stale. The folder is outside <c>events/</c> and starts with an underscore, so no events glob (DuckDB,
/// Spark, Trino) reads it.
/// </summary>
internal sealed class SummaryStore(LakeLayout layout, TimeProvider time)
{
    public const string ManifestExtension = ".summary";
    private const string Header = "po-summary 1";
    private const string FiguresPrefix = "figures ";

    /// <summary>How long a superseded generation stays, so a process still reading it (through a view) finds it.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromMinutes(10);

    public string Root => Path.Combine(layout.Root, "_summaries");

    public string ExperimentFolder(string tenantId, string experimentId) =>
        Path.Combine(Root, "tenant_id=" + tenantId, "experiment=" + Escape(experimentId));

    public string PriorFolder(string tenantId) => Path.Combine(Root, "tenant_id=" + tenantId, "_prior");

    /// <summary>Experiment ids are any text: ids of letters, digits, '-', '_' and '.' (not leading) name their folder as they are, others in hex after '~'.</summary>
    public static string Escape(string experimentId) =>
        experimentId.Length is > 0 and <= 64 && experimentId[0] != '.' && experimentId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? experimentId
            : "~" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(experimentId));

    /// <summary>The folder's published generations, newest first; a manifest that cannot be read is skipped.</summary>
    public IEnumerable<SummaryGeneration> Generations(string folder)
    {
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        foreach (var manifest in Directory.EnumerateFiles(folder, "*" + ManifestExtension).Where(p => !Path.GetFileName(p).StartsWith('.'))
                     .OrderDescending(StringComparer.Ordinal))
        {
            if (Read(folder, manifest) is { } generation)
            {
                yield return generation;
            }
        }
    }

    /// <summary>The name of the newest published generation in <paramref name="folder"/>, without reading it (null: none).</summary>
    public static string? NewestName(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*" + ManifestExtension).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Max(StringComparer.Ordinal)
                ?.Replace(ManifestExtension, "", StringComparison.Ordinal)
            : null;

    private SummaryGeneration? Read(string folder, string manifest)
    {
        try
        {
            var lines = File.ReadAllLines(manifest);
            if (lines.Length < 3 || lines[0] != Header || lines[^1] != "end" || !lines[1].StartsWith("lookback ", StringComparison.Ordinal))
            {
                return null;
            }

            var files = new Dictionary<string, (long, DateTime)>(StringComparer.Ordinal);
            string? figures = null;
            foreach (var line in lines[2..^1])
            {
                if (line.StartsWith(FiguresPrefix, StringComparison.Ordinal))
                {
                    figures = line[FiguresPrefix.Length..];
                    continue;
                }

                // "file {length} {ticks} {path relative to the lake root}": the path last, since it may hold spaces.
                var parts = line.Split(' ', 4);
                if (parts.Length != 4 || parts[0] != "file")
                {
                    return null;
                }

                files[Path.Combine(layout.Root, parts[3])] = (long.Parse(parts[1], CultureInfo.InvariantCulture),
                    new DateTime(long.Parse(parts[2], CultureInfo.InvariantCulture), DateTimeKind.Utc));
            }

            var name = Path.GetFileName(manifest)[..^ManifestExtension.Length];
            return new SummaryGeneration(folder, name, int.Parse(lines[1]["lookback ".Length..], CultureInfo.InvariantCulture), files) { Figures = figures };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>A new generation's name: its time first, so names sort oldest to newest, then a random part, so two writers never collide.</summary>
    public SummaryGeneration NewGeneration(string folder, int lookbackDays, IReadOnlyDictionary<string, (long Length, DateTime Written)> files)
    {
        Directory.CreateDirectory(folder);
        var name = string.Create(CultureInfo.InvariantCulture, $"{time.GetUtcNow().UtcTicks:D19}-{Guid.NewGuid().ToString("N")[..8]}");
        return new SummaryGeneration(folder, name, lookbackDays, new Dictionary<string, (long, DateTime)>(files, StringComparer.Ordinal));
    }

    /// <summary>
    /// Publishes <paramref name="generation"/>, whose tables are written: the manifest to a temporary name, flushed, then
    /// renamed into place; then generations superseded more than <see cref="GracePeriod"/> ago, and tables of generations a
    /// crash left without a manifest, are removed. <paramref name="afterStep"/> is told after each step (tests crash there).
    /// </summary>
    public void Publish(SummaryGeneration generation, Action<SummaryPersistStep>? afterStep)
    {
        var text = new StringBuilder();
        text.Append(Header).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"lookback {generation.LookbackDays}\n");
        foreach (var (path, (length, written)) in generation.Files.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(layout.Root, path).Replace('\\', '/');
            text.Append(CultureInfo.InvariantCulture, $"file {length} {written.Ticks} {relative}\n");
        }

        if (generation.Figures is { } figures)
        {
            text.Append(FiguresPrefix).Append(figures.ReplaceLineEndings(" ")).Append('\n');
        }

        text.Append("end\n");
        var temporary = Path.Combine(generation.Folder, "." + generation.Name + ManifestExtension + ".tmp");
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
            stream.Flush(flushToDisk: true);
        }

        afterStep?.Invoke(SummaryPersistStep.ManifestWritten);
        File.Move(temporary, generation.ManifestPath);
        afterStep?.Invoke(SummaryPersistStep.Published);
        RemoveSuperseded(generation.Folder);
        afterStep?.Invoke(SummaryPersistStep.OlderRemoved);
    }

    /// <summary>
    /// Keeps the two newest generations and any younger than <see cref="GracePeriod"/>; removes the rest, and files no
    /// manifest names (a crashed writer's tables, temporary manifests) once older than <see cref="LakeLayout.StaleTemporaryAge"/>.
    /// </summary>
    private void RemoveSuperseded(string folder)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var names = Directory.EnumerateFiles(folder, "*" + ManifestExtension).Select(p => Path.GetFileName(p)!).Where(n => !n.StartsWith('.'))
            .Select(n => n[..^ManifestExtension.Length]).OrderDescending(StringComparer.Ordinal).ToList();
        var keep = new HashSet<string>(names.Take(2), StringComparer.Ordinal);
        foreach (var name in names.Skip(2))
        {
            if (now - File.GetLastWriteTimeUtc(Path.Combine(folder, name + ManifestExtension)) < GracePeriod)
            {
                keep.Add(name);
            }
        }

        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var fileName = Path.GetFileName(file);
            var generation = fileName.TrimStart('.').Split('.')[0];
            var published = names.Contains(generation, StringComparer.Ordinal);
            if (keep.Contains(generation) || (!published && now - File.GetLastWriteTimeUtc(file) < LakeLayout.StaleTemporaryAge))
            {
                continue;
            }

            try
            {
                // The manifest first, so no reader takes up a generation whose tables are going.
                File.Delete(published ? Path.Combine(folder, generation + ManifestExtension) : file);
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another writer is removing it too: leave it.
            }
        }
    }
}
