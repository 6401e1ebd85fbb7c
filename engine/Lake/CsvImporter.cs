using System.Globalization;
using System.Security.Cryptography;
using CsvHelper;
using CsvHelper.Configuration;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;

namespace PricingOptimizer.Lake;

/// <summary>A CSV line that broke a rule.</summary>
public sealed record ImportError(long Line, string Field, string Reason);

/// <summary>What an import did.</summary>
public sealed record ImportResult(long Imported, IReadOnlyList<ImportError> Errors, int Files);

/// <summary>
/// <c>po import</c>: CSV rows (columns = event fields) straight into the lake, any past time allowed. Files are named
/// after a digest of the CSV, so importing the same file again rewrites the same files and changes nothing; the
/// lake's event_id dedup covers rows that also came another way.
/// </summary>
public sealed class CsvImporter(LakeLayout lake, EventValidator validator, TimeProvider time)
{
    private const int RowsPerFile = 250_000;

    public async Task<ImportResult> ImportAsync(string tenantId, string csvPath, CancellationToken cancellationToken)
    {
        LakeLayout.EnsureTenantId(tenantId);
        string digest;
        await using (var hashing = File.OpenRead(csvPath))
        {
            digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(hashing, cancellationToken))[..16];
        }

        var source = "import-" + digest;
        var ingestedAt = EventValidator.TruncateToMicroseconds(time.GetUtcNow());
        var errors = new List<ImportError>();
        var pending = new List<LogRecord>();
        long imported = 0;
        var files = 0;
        using var reader = new StreamReader(csvPath);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim, MissingFieldFound = null });
        if (!await csv.ReadAsync() || !csv.ReadHeader())
        {
            throw new InvalidDataException($"{csvPath} is empty: expected a header of event fields");
        }

        var missing = new[] { "event_id", "type", "experiment_id", "variant_id", "user_id", "price", "currency", "occurred_at" }
            .Where(c => !csv.HeaderRecord!.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{csvPath} lacks the column(s) {string.Join(", ", missing)}");
        }

        var rowErrors = new List<EventError>();
        while (await csv.ReadAsync())
        {
            var line = csv.Parser.RawRow;
            var raw = new RawEvent
            {
                EventId = Field("event_id"),
                Type = Field("type"),
                ExperimentId = Field("experiment_id"),
                VariantId = Field("variant_id"),
                UserId = Field("user_id"),
                Price = Field("price"),
                Revenue = Field("revenue"),
                Currency = Field("currency"),
                OccurredAt = Field("occurred_at"),
            };
            rowErrors.Clear();
            if (Field("properties") is { Length: > 0 } json)
            {
                // The same reading as the API's: a JSON object of string (or number/boolean) values.
                try
                {
                    using var document = System.Text.Json.JsonDocument.Parse(json);
                    raw.Properties = EventJson.ReadProperties(document.RootElement, raw);
                }
                catch (System.Text.Json.JsonException)
                {
                    raw.TypeErrors.Add(new("properties", "must be a JSON object of string values"));
                }
            }

            if (validator.Validate(raw, EventSource.Import, rowErrors) is { } e)
            {
                pending.Add(new LogRecord(source, line, new TenantEvent(tenantId, ingestedAt, e)));
                imported++;
            }
            else
            {
                errors.AddRange(rowErrors.Select(x => new ImportError(line, x.Field, x.Reason)));
            }

            if (pending.Count >= RowsPerFile)
            {
                files += await FlushAsync(pending, cancellationToken);
            }
        }

        files += await FlushAsync(pending, cancellationToken);
        return new ImportResult(imported, errors, files);

        string? Field(string name) => csv.TryGetField<string>(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
    }

    private async Task<int> FlushAsync(List<LogRecord> pending, CancellationToken cancellationToken)
    {
        var groups = pending.GroupBy(r => DateOnly.FromDateTime(r.Item.Event.OccurredAt.UtcDateTime)).ToList();
        foreach (var group in groups)
        {
            var records = group.ToList();
            await ParquetEventWriter.WriteAsync(lake.FilePath(records[0].Item.TenantId, group.Key, records[0].Source, records[0].Position), records,
                cancellationToken);
        }

        pending.Clear();
        return groups.Count;
    }
}
