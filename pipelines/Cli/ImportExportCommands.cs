using System.CommandLine;
using System.Globalization;
using CsvHelper;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po import</c> and <c>po export</c>: CSV in and out of the lake.</summary>
public static class ImportExportCommands
{
    /// <summary>Exit code when some rows were bad (the good ones are imported).</summary>
    public const int SomeRowsRejected = 3;

    public static Command Import()
    {
        var tenant = CommonOptions.Tenant();
        var csv = new Option<FileInfo>("--csv") { Description = "CSV whose columns are the event fields", Required = true };
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("import", $"Import events from CSV into the lake (any past time; the same file twice changes nothing). Exit {SomeRowsRejected} when some rows were rejected.")
        {
            tenant, csv, data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            var file = parse.GetValue(csv)!;
            if (!file.Exists)
            {
                throw new CliException($"--csv {file.FullName} does not exist");
            }

            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            ImportResult result;
            try
            {
                result = await services.GetRequiredService<CsvImporter>().ImportAsync(tenantId, file.FullName, ct);
            }
            catch (Exception e) when (e is InvalidDataException or CsvHelperException)
            {
                throw new CliException(e.Message);
            }

            foreach (var error in result.Errors.Take(100))
            {
                await Console.Error.WriteLineAsync($"{file.Name}:{error.Line}: {error.Field} {error.Reason}");
            }

            if (result.Errors.Count > 100)
            {
                await Console.Error.WriteLineAsync($"... and {result.Errors.Count - 100} more");
            }

            var badRows = result.Errors.Select(e => e.Line).Distinct().Count();
            Console.WriteLine($"imported {result.Imported:N0} events for {tenantId} into {result.Files} files under {services.GetRequiredService<LakeLayout>().EventsRoot}; {badRows:N0} rows rejected");
            return badRows == 0 ? 0 : SomeRowsRejected;
        });
        return command;
    }

    public static Command Export()
    {
        var tenant = CommonOptions.Tenant();
        var experiment = new Option<string?>("--experiment") { Description = "Only this experiment" };
        var csv = new Option<FileInfo>("--csv") { Description = "Where to write", Required = true };
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("export", "Export a tenant's events (each event_id once) as CSV with the event fields as columns.")
        {
            tenant, experiment, csv, data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            var events = await services.GetRequiredService<LakeQueries>().ReadEventsAsync(tenantId, parse.GetValue(experiment), ct);
            var file = parse.GetValue(csv)!;
            await using (var writer = new StreamWriter(file.FullName))
            await using (var output = new CsvWriter(writer, CultureInfo.InvariantCulture))
            {
                foreach (var header in new[] { "event_id", "type", "experiment_id", "variant_id", "user_id", "price", "revenue", "currency", "occurred_at" })
                {
                    output.WriteField(header);
                }

                await output.NextRecordAsync();
                foreach (var stored in events)
                {
                    var e = stored.Event;
                    output.WriteField(e.EventId);
                    output.WriteField(e.Type.ToWire());
                    output.WriteField(e.ExperimentId);
                    output.WriteField(e.VariantId);
                    output.WriteField(e.UserId);
                    output.WriteField(e.Price.ToString(CultureInfo.InvariantCulture));
                    output.WriteField(e.Revenue?.ToString(CultureInfo.InvariantCulture) ?? "");
                    output.WriteField(e.Currency);
                    output.WriteField(e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
                    await output.NextRecordAsync();
                }
            }

            Console.WriteLine($"exported {events.Count:N0} events of {tenantId} to {file.FullName}");
            return 0;
        });
        return command;
    }
}
