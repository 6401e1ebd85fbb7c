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
        var command = new Command("import",
            $"Import events from CSV into the lake (any past time; the same file twice changes nothing). Exit {SomeRowsRejected} when some rows were rejected.")
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
            if (result.ExtraColumns.Count > 0)
            {
                await Console.Error.WriteLineAsync($"{file.Name}: column(s) {string.Join(", ", result.ExtraColumns)} are no event field: kept as " +
                    $"properties of each event");
            }

            Console.WriteLine($"imported {result.New:N0} new events for {tenantId} ({result.AlreadyPresent:N0} already in the lake, " +
                $"{result.RepeatedInFile:N0} rows repeating an earlier row's event_id, {badRows:N0} rows rejected) into {result.Files} files under " +
                $"{services.GetRequiredService<LakeLayout>().EventsRoot}");
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
            await WriteCsvAsync(file.FullName, events.Select(e => e.Event), ct);
            Console.WriteLine($"exported {events.Count:N0} events of {tenantId} to {file.FullName}");
            return 0;
        });
        return command;
    }
    /// <summary>Events as CSV with the event fields as columns and <c>properties</c> as a JSON object: what <c>po import</c> reads.</summary>
    public static async Task WriteCsvAsync(string path, IEnumerable<PricingEvent> events, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path);
        await using var output = new CsvWriter(writer, CultureInfo.InvariantCulture);
        foreach (var header in new[] { "event_id", "type", "experiment_id", "variant_id", "user_id", "price", "revenue", "currency", "occurred_at",
            "properties" })
        {
            output.WriteField(header);
        }

        await output.NextRecordAsync();
        foreach (var e in events)
        {
            cancellationToken.ThrowIfCancellationRequested();
            output.WriteField(e.EventId);
            output.WriteField(e.Type.ToWire());
            output.WriteField(e.ExperimentId);
            output.WriteField(e.VariantId);
            output.WriteField(e.UserId);
            output.WriteField(e.Price.ToString(CultureInfo.InvariantCulture));
            output.WriteField(e.Revenue?.ToString(CultureInfo.InvariantCulture) ?? "");
            output.WriteField(e.Currency);
            output.WriteField(e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            // The event's properties as one JSON object (empty when it has none): po import reads it back.
            output.WriteField(e.Properties is { Count: > 0 } properties ? System.Text.Json.JsonSerializer.Serialize(properties) : "");
            await output.NextRecordAsync();
        }
    }

    /// <summary><c>po simulate</c>: seeded users from a known demand curve, written as an events CSV for <c>po import</c>.</summary>
    public static Command Simulate()
    {
        var settings = new Option<FileInfo>("--settings") { Description = "Simulation settings JSON (see data-samples/demand.json)", Required = true };
        var experiment = new Option<string>("--experiment") { Description = "Experiment id to write into the events", Required = true };
        var csv = new Option<FileInfo>("--csv") { Description = "Where to write the events", Required = true };
        var end = new Option<DateTimeOffset?>("--end") { Description = "End of the simulated window (UTC; default: today's midnight)" };
        var command = new Command("simulate", "Write seeded events drawn from a known demand curve as CSV (the same settings give the same file).")
        {
            settings, experiment, csv, end,
        };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(settings)!;
            if (!file.Exists)
            {
                throw new CliException($"--settings: {file.FullName} does not exist");
            }

            Simulation.SimulationSettings loaded;
            try
            {
                loaded = Simulation.SimulationSettings.Load(file.FullName);
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new CliException($"--settings: {file.FullName} is not valid simulation settings: {e.Message}");
            }

            var problem = loaded.Problem();
            if (problem is not null)
            {
                throw new CliException($"--settings: {problem}");
            }

            var until = parse.GetValue(end) ?? new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
            var events = Simulation.DemandSimulator.Simulate(loaded, parse.GetValue(experiment)!, until);
            var output = parse.GetValue(csv)!;
            await WriteCsvAsync(output.FullName, events, ct);
            var optimum = loaded.Shape.Optimum((double)loaded.Prices.Min(), (double)loaded.Prices.Max(), (price, rate) => price * rate);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {events.Count:N0} events ({loaded.Prices.Count} prices × {loaded.UsersPerPrice:N0} users, seed {loaded.Seed}) from " +
                    $"{loaded.Shape} to {output.FullName}; true revenue optimum {optimum.Price:0.00} in the tested range"));
            return 0;
        });
        return command;
    }
}
