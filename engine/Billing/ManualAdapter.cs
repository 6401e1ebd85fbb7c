using System.Collections.Concurrent;
using System.Globalization;
using CsvHelper;

namespace PricingOptimizer.Billing;

/// <summary>
/// The manual "provider": items kept in memory per tenant, each event id once, for a person to bill from a CSV
/// export (<see cref="ExportCsvAsync"/>); <see cref="ImportCsvAsync"/> reads such a file back (the same event ids count once).
/// </summary>
public sealed class ManualLedger
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, BillingItem>> byTenant = new(StringComparer.Ordinal);

    /// <summary>Adds items not seen before; returns how many were new.</summary>
    public int Add(IEnumerable<BillingItem> items)
    {
        var added = 0;
        foreach (var item in items)
        {
            added += byTenant.GetOrAdd(item.TenantId, _ => new(StringComparer.Ordinal)).TryAdd(item.EventId, item) ? 1 : 0;
        }

        return added;
    }

    public IReadOnlyList<BillingItem> Items(string tenantId) =>
        byTenant.TryGetValue(tenantId, out var items) ? [.. items.Values.OrderBy(i => i.OccurredAt).ThenBy(i => i.EventId, StringComparer.Ordinal)] : [];

    private static readonly string[] Header = ["tenant_id", "event_id", "kind", "experiment_id", "variant_id", "user_id", "amount", "currency", "occurred_at"];

    public async Task ExportCsvAsync(string tenantId, string path, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path);
        await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        foreach (var h in Header)
        {
            csv.WriteField(h);
        }

        await csv.NextRecordAsync();
        foreach (var i in Items(tenantId))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var field in new[] { i.TenantId, i.EventId, i.Kind == BillingKind.Conversion ? "conversion" : "usage", i.ExperimentId,
                i.VariantId, i.UserId,
                         i.Amount.ToString(CultureInfo.InvariantCulture), i.Currency, i.OccurredAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) })
            {
                csv.WriteField(field);
            }

            await csv.NextRecordAsync();
        }
    }

    /// <summary>Reads an export back; returns how many items were new.</summary>
    /// <exception cref="InvalidDataException">A row that is not an export row, named by line.</exception>
    public async Task<int> ImportCsvAsync(string path, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        if (!await csv.ReadAsync() || !csv.ReadHeader() || Header.Any(h => !csv.HeaderRecord!.Contains(h)))
        {
            throw new InvalidDataException($"{path}: expected the header {string.Join(",", Header)}");
        }

        var items = new List<BillingItem>();
        while (await csv.ReadAsync())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var line = csv.Parser.RawRow;
            if (!decimal.TryParse(csv.GetField("amount"), NumberStyles.Number, CultureInfo.InvariantCulture, out var amount)
                || !DateTimeOffset.TryParse(csv.GetField("occurred_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                || csv.GetField("kind") is not ("usage" or "conversion"))
            {
                throw new InvalidDataException($"{path}:{line}: amount, kind (usage|conversion) or occurred_at is malformed");
            }

            items.Add(new BillingItem(csv.GetField("tenant_id")!, csv.GetField("event_id")!,
                csv.GetField("kind") == "conversion" ? BillingKind.Conversion : BillingKind.Usage,
                csv.GetField("experiment_id")!, csv.GetField("variant_id")!, csv.GetField("user_id")!, amount, csv.GetField("currency")!, at));
        }

        return Add(items);
    }
}

public sealed class ManualAdapter(ManualLedger ledger) : IBillingAdapter
{
    public BillingProvider Provider => BillingProvider.Manual;

    public BillingMode Mode => BillingMode.Managed;

    public Task EmitSignalsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken)
    {
        ledger.Add(items);
        return Task.CompletedTask;
    }

    public Task TrackConversionsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken)
    {
        ledger.Add(items);
        return Task.CompletedTask;
    }

    public Task<UsageMetrics> GetUsageAsync(string customer, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var inRange = ledger.Items(customer).Where(i => DateOnly.FromDateTime(i.OccurredAt.UtcDateTime) is var d && d >= from && d <= to).ToList();
        return Task.FromResult(new UsageMetrics(Provider, customer, from, to, inRange.Count(i => i.Kind == BillingKind.Usage),
            inRange.Count(i => i.Kind == BillingKind.Conversion), inRange.Where(i => i.Kind == BillingKind.Conversion).Sum(i => i.Amount)));
    }
}
