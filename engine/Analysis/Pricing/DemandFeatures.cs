using System.Globalization;
using System.Text.Json.Serialization;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Pricing;

/// <summary>
/// How a demand observation becomes the model's feature vector: price (divided by <see cref="PriceScale"/>), the hour
/// of day and day of week of the first assign (UTC, by whole hour) as points on a circle (sine and cosine, so 23:00 sits next to
/// 00:00), and the event properties the tenant marked as features — numeric ones standardised, the others one-hot
/// against their most frequent value (up to <see cref="MaxLevels"/> levels; rarer values and missing ones count as the
/// reference). Hour and weekday stay only when they improve the fit significantly. Built from training data and saved
/// with the model, so scoring later encodes exactly the same way.
/// </summary>
public sealed class DemandFeatureSpec
{
    public const int MaxLevels = 20;

    [JsonPropertyName("price_scale")] public double PriceScale { get; set; } = 1;

    /// <summary>Whether hour and weekday are features (the trainer keeps them only when they improve the fit significantly).</summary>
    [JsonPropertyName("time")] public bool Time { get; set; } = true;

    /// <summary>Features before the tenant's: price, then hour (sin, cos) and weekday (sin, cos) when <see cref="Time"/>.</summary>
    [JsonIgnore] public int FixedCount => Time ? 5 : 1;

    [JsonPropertyName("properties")] public List<string> Properties { get; set; } = [];

    /// <summary>Per categorical property: its one-hot levels (the reference level is not among them).</summary>
    [JsonPropertyName("levels")] public Dictionary<string, List<string>> Levels { get; set; } = [];

    /// <summary>Per numeric property: mean and standard deviation in the training data.</summary>
    [JsonPropertyName("numeric")] public Dictionary<string, double[]> Numeric { get; set; } = [];

    [JsonIgnore]
    public int Length => FixedCount + Properties.Sum(p => Numeric.ContainsKey(p) ? 1 : Levels.TryGetValue(p, out var l) ? l.Count : 0);

    [JsonIgnore]
    public IReadOnlyList<string> Names
    {
        get
        {
            List<string> names = Time ? ["price", "hour_sin", "hour_cos", "weekday_sin", "weekday_cos"] : ["price"];
            foreach (var property in Properties)
            {
                if (Numeric.ContainsKey(property))
                {
                    names.Add(property);
                }
                else if (Levels.TryGetValue(property, out var levels))
                {
                    names.AddRange(levels.Select(l => property + "=" + l));
                }
            }

            return names;
        }
    }

    public static DemandFeatureSpec Build(IReadOnlyList<DemandObservation> rows, IReadOnlyList<string> properties, bool time = true)
    {
        var spec = new DemandFeatureSpec
        {
            Time = time,
            PriceScale = rows.Count == 0 ? 1 : Math.Max(1e-9, rows.Average(r => (double)r.Price)),
            Properties = [.. properties.Distinct(StringComparer.Ordinal)],
        };
        foreach (var property in spec.Properties)
        {
            var values = rows.Select(r => r.Properties is not null && r.Properties.TryGetValue(property, out var v) ? v : null)
                .Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToList();
            if (values.Count == 0)
            {
                spec.Levels[property] = [];
                continue;
            }

            var numbers = values.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture,
                out var d) && double.IsFinite(d) ? d : (double?)null).ToList();
            if (numbers.All(n => n is not null) && values.Distinct(StringComparer.Ordinal).Count() > 2)
            {
                var mean = numbers.Average(n => n!.Value);
                var sd = Math.Sqrt(numbers.Average(n => (n!.Value - mean) * (n.Value - mean)));
                spec.Numeric[property] = [mean, sd > 0 ? sd : 1];
                continue;
            }

            var ranked = values.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.Key).ToList();
            spec.Levels[property] = [.. ranked.Skip(1).Take(MaxLevels)];
        }

        return spec;
    }

    /// <summary>Writes the features of <paramref name="row"/> into <paramref name="features"/> (length <see cref="Length"/>).</summary>
    public void Fill(DemandObservation row, Span<float> features)
    {
        features.Clear();
        features[0] = (float)((double)row.Price / PriceScale);
        if (Time)
        {
            FillTime(row, features);
        }

        var index = FixedCount;
        foreach (var property in Properties)
        {
            string? value = null;
            row.Properties?.TryGetValue(property, out value);
            if (Numeric.TryGetValue(property, out var moments))
            {
                features[index++] = value is not null && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture,
                    out var d) && double.IsFinite(d)
                    ? (float)((d - moments[0]) / moments[1])
                    : 0f;
            }
            else if (Levels.TryGetValue(property, out var levels))
            {
                var level = value is null ? -1 : levels.IndexOf(value);
                if (level >= 0)
                {
                    features[index + level] = 1f;
                }

                index += levels.Count;
            }
        }
    }

    private static void FillTime(DemandObservation row, Span<float> features)
    {
        var utc = row.FirstSeen.UtcDateTime;
        // The middle of the user's hour: finer time adds nothing a price test can learn, and whole hours let users group.
        var hour = (utc.Hour + 0.5) / 24.0 * 2 * Math.PI;
        var day = ((int)utc.DayOfWeek + ((utc.Hour + 0.5) / 24.0)) / 7.0 * 2 * Math.PI;
        features[1] = (float)Math.Sin(hour);
        features[2] = (float)Math.Cos(hour);
        features[3] = (float)Math.Sin(day);
        features[4] = (float)Math.Cos(day);
    }

    public float[] Vector(DemandObservation row)
    {
        var features = new float[Length];
        Fill(row, features);
        return features;
    }
}
