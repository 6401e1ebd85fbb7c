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
        var minFiles = new Option<int?>("--min-files") { Description = "Compact a partition once it has this many small files (default: Compaction:MinFiles, 8)" };
        var minAge = new Option<int?>("--min-age-seconds") { Description = "Leave files younger than this (default: Compaction:MinFileAgeSeconds, 60)" };
        var command = new Command("compact",
            "Merge each partition's small files into few large ones (safe while landers and readers run; a crash loses nothing).")
        {
            data, lake, tenant, minFiles, minAge,
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

            var results = await compactor.CompactAsync(tenantId, ct);
            foreach (var r in results.Where(r => r.Merges > 0))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Path.GetRelativePath(layout.EventsRoot, r.Folder)}: {r.FilesBefore:N0} files → {r.FilesAfter:N0} ({r.Rows:N0} rows, {r.BytesBefore / 1048576.0:F1} MB → {r.BytesAfter / 1048576.0:F1} MB)"));
            }

            var merged = results.Where(r => r.Merges > 0).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"compacted {merged.Count:N0} of {results.Count:N0} partitions: {results.Sum(r => r.FilesBefore):N0} files → {results.Sum(r => r.FilesAfter):N0}"));
            return 0;
        });
        return command;
    }
}
