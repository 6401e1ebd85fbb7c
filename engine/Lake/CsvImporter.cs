using System.Globalization;
using System.Security.Cryptography;
using CsvHelper;
using CsvHelper.Configuration;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;

namespace PricingOptimizer.Lake;

/// <summary>A CSV line that broke a rule.</summary>
public sealed record ImportError(long Line, string Field, string Reason);

/// <summary>
/// What an import did: valid rows written (<see cref="Imported"/>), of which <see cref="New"/> events the lake did not
/// hold, <see cref="AlreadyPresent"/> it held already (a second import of a file, or events that came another way),
/// and <see cref="RepeatedInFile"/> rows repeating an event_id of an earlier row; the rule each rejected row broke; the
/// files written; and the columns that are no event field, kept as properties.
/// </summary>
public sealed record ImportResult(long Imported, IReadOnlyList<ImportError> Errors, int Files)
{
    public long New { get; init; }

    public long AlreadyPresent { get; init; }

    public long RepeatedInFile { get; init; }

    public IReadOnlyList<string> ExtraColumns { get; init; } = [];
}

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

        var header = csv.HeaderRecord!;
        if (header.Length == 1 && header[0].Contains(';',
            StringComparison.Ordinal) || header.Count(h => h.Contains(';', StringComparison.Ordinal)) > header.Length / 2)
        {
            throw new InvalidDataException(
                $"{csvPath} looks separated by ';': po import reads comma-separated CSV with '.' as the decimal point (export with ',' as the separator)");
        }

        var missing = Required.Where(c => !header.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{csvPath} lacks the column(s) {string.Join(", ", missing)} (its header: {string.Join(",", header.Take(12))})");
        }

        // Columns that are no event field are kept as properties of each row's event (a value in 'properties' wins).
        var extra = header.Where(h => h.Length > 0 && !Required.Contains(h) && h is not ("revenue" or "properties")).Distinct(StringComparer.Ordinal).ToList();
        var existing = ExistingFiles(tenantId);
        var written = new List<string>();

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

            foreach (var column in extra)
            {
                if (Field(column) is { } value && raw.Properties?.ContainsKey(column) != true)
                {
                    (raw.Properties ??= new Dictionary<string, string>(StringComparer.Ordinal))[column] = value;
                }
            }

            if (validator.Validate(raw, EventSource.Import, rowErrors) is { } e)
            {
                pending.Add(new LogRecord(source, line, new TenantEvent(tenantId, ingestedAt, e)));
                imported++;
            }
            else
            {
                errors.AddRange(rowErrors.Select(x => new ImportError(line, x.Field, DecimalHint(x, raw))));
            }

            if (pending.Count >= RowsPerFile)
            {
                files += await FlushAsync(pending, written, cancellationToken);
            }
        }

        files += await FlushAsync(pending, written, cancellationToken);
        var (distinct, present) = await CountAsync(written, existing, cancellationToken);
        return new ImportResult(imported, errors, files)
        {
            New = distinct - present,
            AlreadyPresent = present,
            RepeatedInFile = imported - distinct,
            ExtraColumns = extra,
        };

        string? Field(string name) => csv.TryGetField<string>(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
    }

    private static readonly string[] Required = ["event_id", "type", "experiment_id", "variant_id", "user_id", "price", "currency", "occurred_at"];

    /// <summary>A number written with a decimal comma gets a hint, not only the rule it broke.</summary>
    private static string DecimalHint(EventError error, RawEvent raw)
    {
        var value = error.Field switch { "price" => raw.Price, "revenue" => raw.Revenue, _ => null };
        return value is not null && value.Contains(',', StringComparison.Ordinal)
            ? error.Reason + $" ('{value}': write numbers with '.' as the decimal point)"
            : error.Reason;
    }

    /// <summary>The tenant's files before this import writes (a re-import's own files among them: they hold the same rows).</summary>
    private List<string> ExistingFiles(string tenantId) =>
        [.. LakeReaders.List(Path.Combine(lake.EventsRoot, "tenant_id=" + tenantId)).Select(f => f.Path)];

    /// <summary>Distinct event_ids written, and how many of them the lake held before (in <paramref name="existing"/>).</summary>
    private static async Task<(long Distinct, long Present)> CountAsync(IReadOnlyList<string> written, IReadOnlyList<string> existing,
        CancellationToken cancellationToken)
    {
        if (written.Count == 0)
        {
            return (0, 0);
        }

        await using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = existing.Count == 0
            ? "SELECT count(DISTINCT event_id), 0 FROM read_parquet($written, hive_partitioning = false)"
            : """
              WITH mine AS (SELECT DISTINCT event_id FROM read_parquet($written, hive_partitioning = false)),
                   before AS (SELECT DISTINCT event_id FROM read_parquet($existing, hive_partitioning = false, union_by_name = true))
              SELECT (SELECT count(*) FROM mine), (SELECT count(*) FROM mine SEMI JOIN before USING (event_id))
              """;
        command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("written", written.Distinct(StringComparer.Ordinal).ToArray()));
        if (existing.Count > 0)
        {
            command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("existing", existing.ToArray()));
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    private async Task<int> FlushAsync(List<LogRecord> pending, List<string> written, CancellationToken cancellationToken)
    {
        var groups = pending.GroupBy(r => DateOnly.FromDateTime(r.Item.Event.OccurredAt.UtcDateTime)).ToList();
        foreach (var group in groups)
        {
            var records = group.ToList();
            var path = lake.FilePath(records[0].Item.TenantId, group.Key, records[0].Source, records[0].Position);
            await ParquetEventWriter.WriteAsync(path, records, cancellationToken);
            written.Add(path);
        }

        pending.Clear();
        return groups.Count;
    }
}
