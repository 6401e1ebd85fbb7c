using System.Text.Json;
using System.Text.Json.Serialization;

namespace PricingOptimizer.Lake;

/// <summary>
/// Figures a process had already read from a summary's tables when it persisted them, written into the generation's
/// manifest: a process taking the generation up starts with them, and its first readout, recommendation or dashboard
/// row reads nothing from the Parquet files. Only figures without an attribution window are kept (any other is read
/// from the tables when asked, as before).
/// </summary>
/// <param name="Stats">The per-variant statistics, the multiple-exposure users and the first assign; null when not read.</param>
/// <param name="Moments">The revenue moments, by cap percentile (null: uncapped).</param>
/// <param name="Buyers">The per-variant buyer sums, by cap percentile (null: uncapped).</param>
internal sealed record SummaryFigures(SummaryFigures.StatsFigures? Stats, IReadOnlyList<SummaryFigures.MomentsFigures> Moments,
    IReadOnlyList<SummaryFigures.BuyersFigures> Buyers)
{
    public sealed record StatsFigures(IReadOnlyList<VariantStats> Variants, long Multiple, DateTimeOffset? FirstAssignAt);

    public sealed record MomentsFigures(double? CapPercentile, RevenueMoments Moments);

    public sealed record BuyersFigures(double? CapPercentile, IReadOnlyList<BuyerSums> Buyers);

    public bool IsEmpty => Stats is null && Moments.Count == 0 && Buyers.Count == 0;

    /// <summary>One line of JSON (doubles written to round-trip exactly, decimals with their scale).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, SummaryFiguresJson.Default.SummaryFigures);

    /// <summary>The figures in <paramref name="json"/>; null when it cannot be read (the tables are read instead).</summary>
    public static SummaryFigures? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, SummaryFiguresJson.Default.SummaryFigures);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(SummaryFigures))]
internal sealed partial class SummaryFiguresJson : JsonSerializerContext;
