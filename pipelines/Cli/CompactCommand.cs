using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po compact</c>: one compaction pass over the lake (or one tenant), printing what it merged.</summary>
public static class CompactCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant's partitions" };
        var minFiles = new Option<int?>("--min-files") { Description = "Compact a partition once it has this many small files (default: " +
            "Compaction:MinFiles, 8)" };
        var minAge = new Option<int?>("--min-age-seconds") { Description = "Leave files younger than this (default: Compaction:MinFileAgeSeconds, 60)" };
        var repair = new Option<bool>("--repair")
        {
            Description = "First read every file of the lake (or tenant) and move the ones that cannot be read to _quarantine/, saying which and why",
        };
        var waitReaders = new Option<int>("--wait-readers-seconds")
        {
            Description = "How long to wait for readers that hold merged files' sources before leaving them to the next pass",
            DefaultValueFactory = _ => 30,
        };
        var command = new Command("compact",
            "Merge each partition's small files into few large ones, each event_id once (safe while landers and readers run; a crash loses nothing).")
        {
            data, lake, tenant, minFiles, minAge, repair, waitReaders,
        };
        command.SetAction(async (parse, ct) =>
        {
            var tenantId = parse.GetValue(tenant) is { } t ? CommonOptions.CheckTenant(t) : null;
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(minFiles) is { } files)
            {
                overrides[CompactionOptions.Section + ":" + nameof(CompactionOptions.MinFiles)] = files.ToString(CultureInfo.InvariantCulture);
            }

            if (parse.GetValue(minAge) is { } age)
            {
                overrides[CompactionOptions.Section + ":" + nameof(CompactionOptions.MinFileAgeSeconds)] = age.ToString(CultureInfo.InvariantCulture);
            }

            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake), overrides));
            var layout = services.GetRequiredService<LakeLayout>();
            if (!Directory.Exists(layout.EventsRoot))
            {
                throw new CliException($"--lake: {layout.Root} holds no events folder");
            }

            LakeCompactor compactor;
            try
            {
                compactor = services.GetRequiredService<LakeCompactor>();
            }
            catch (OptionsValidationException e)
            {
                throw new CliException(e.Failures.FirstOrDefault() ?? e.Message);
            }

            if (parse.GetValue(waitReaders) is < 0 or > 3600)
            {
                throw new CliException("--wait-readers-seconds: must be from 0 to 3600");
            }

            // Files on disk once kept sources had their chance to go (a partition's figure from the pass counts them).
            static int inventory(string folder) =>
                Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*.parquet").Count(f => !Path.GetFileName(f).StartsWith('.')) : 0;
            if (parse.GetValue(repair))
            {
                var root = tenantId is null ? layout.EventsRoot : Path.Combine(layout.EventsRoot, "tenant_id=" + tenantId);
                var all = Directory.Exists(root) ? Directory.EnumerateFiles(root, "*.parquet",
                    SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')).ToList() : [];
                var moved = LakeQuarantine.SetAside(layout, all, TimeProvider.System.GetUtcNow());
                foreach (var q in moved)
                {
                    Console.WriteLine($"quarantined {Path.GetRelativePath(layout.EventsRoot, q.OriginalPath)} → " +
                        $"{Path.GetRelativePath(layout.Root, q.QuarantinePath)}: {q.Reason}");
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"repair: read {all.Count:N0} files, {moved.Count:N0} could not be read and were moved to quarantine"));
            }

            var stale = compactor.RemoveStaleTemporaryFiles();
            var results = await compactor.CompactAsync(tenantId, ct);
            var stillKept = await compactor.RemoveKeptSourcesAsync(TimeSpan.FromSeconds(parse.GetValue(waitReaders)), ct);
            foreach (var r in results.Where(r => r.Merges > 0))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Path.GetRelativePath(layout.EventsRoot, r.Folder)}: {r.FilesBefore:N0} files → {inventory(r.Folder):N0} ({r.Rows:N0} rows, " +
                        $"{r.BytesBefore / 1048576.0:F1} MB → {r.BytesAfter / 1048576.0:F1} " +
                        $"MB{(r.DuplicatesDropped > 0 ? string.Create(CultureInfo.InvariantCulture, $", {r.DuplicatesDropped:N0} duplicate event_ids dropped") : "")})"));
            }

            foreach (var r in results)
            {
                foreach (var q in r.Quarantined)
                {
                    Console.WriteLine($"quarantined {Path.GetRelativePath(layout.EventsRoot, q.OriginalPath)}: {q.Reason}");
                }

                if (r.Error is not null)
                {
                    Console.Error.WriteLine($"{Path.GetRelativePath(layout.EventsRoot, r.Folder)}: not compacted: {r.Error}");
                }
            }

            var merged = results.Where(r => r.Merges > 0).ToList();
            var after = results.Sum(r => inventory(r.Folder));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"compacted {merged.Count:N0} of {results.Count:N0} partitions: {results.Sum(r => r.FilesBefore):N0} files → {after:N0}"));
            var young = results.Sum(r => r.TooYoung);
            if (young > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"left {young:N0} small files younger than {compactor.MinFileAgeSeconds} s (a replay may still rewrite them): a later pass, or " +
                        $"--min-age-seconds 0, merges them"));
            }

            if (stillKept > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"kept {stillKept:N0} merged sources that running readers may still read: the next pass removes them"));
            }

            if (stale > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"removed {stale:N0} temporary files left by writers that were stopped"));
            }

            return results.Any(r => r.Error is not null) ? 1 : 0;
        });
        return command;
    }
}
