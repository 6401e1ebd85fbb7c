using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Pricing;

/// <summary>One price band of psychological ("charm") endings.</summary>
public sealed class CharmBand
{
    /// <summary>The band holds prices below this amount; null for the top band.</summary>
    public decimal? Below { get; set; }

    /// <summary>Allowed cents endings, e.g. 99 and 95 (x.99, x.95). Used when <see cref="WholeEndings"/> is empty.</summary>
    public List<int> Cents { get; set; } = [];

    /// <summary>Allowed last digits of whole amounts, e.g. 9 and 5 (…9.00, …5.00).</summary>
    public List<int> WholeEndings { get; set; } = [];
}

/// <summary>Configuration section <c>Pricing:Charm</c>. Defaults: under 10 → x.99; under 100 → x.99 or x.95; from 100 →
/// whole amounts ending in 9 or 5.</summary>
public sealed class CharmOptions : IValidatableObject
{
    public const string Section = "Pricing:Charm";

    public List<CharmBand> Bands { get; set; } =
    [
        new() { Below = 10m, Cents = [99] },
        new() { Below = 100m, Cents = [99, 95] },
        new() { Below = null, WholeEndings = [9, 5] },
    ];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Bands.Count == 0 || Bands[^1].Below is not null)
        {
            yield return new ValidationResult("Pricing:Charm:Bands must end with a band without 'Below' (the top band)");
        }

        for (var i = 0; i < Bands.Count; i++)
        {
            var band = Bands[i];
            if (band.Cents.Count == 0 == (band.WholeEndings.Count == 0))
            {
                yield return new ValidationResult($"Pricing:Charm:Bands:{i} needs either Cents or WholeEndings");
            }

            if (band.Cents.Any(c => c is < 0 or > 99) || band.WholeEndings.Any(d => d is < 0 or > 9))
            {
                yield return new ValidationResult($"Pricing:Charm:Bands:{i}: cents are 0-99, whole endings 0-9");
            }

            if (i > 0 && (Bands[i - 1].Below is null || (band.Below is { } below && below <= Bands[i - 1].Below)))
            {
                yield return new ValidationResult("Pricing:Charm:Bands must be in increasing order of 'Below'");
            }
        }
    }
}

/// <summary>Charm endings near a price: the candidates a recommendation may round to, by price band.</summary>
public sealed class CharmPricing(CharmOptions options)
{
    /// <summary>The band a price falls in.</summary>
    public CharmBand BandOf(decimal price) => options.Bands.First(b => b.Below is null || price < b.Below);

    /// <summary>
    /// Charm prices around <paramref name="price"/>: for each allowed ending, the nearest one at or below and the
    /// nearest one above, each kept only if it falls in its own band's rules. Sorted, distinct, positive.
    /// </summary>
    public IReadOnlyList<decimal> Candidates(decimal price)
    {
        if (price <= 0)
        {
            return [];
        }

        var candidates = new SortedSet<decimal>();
        foreach (var band in options.Bands)
        {
            foreach (var candidate in Around(price, band))
            {
                if (candidate > 0 && ReferenceEquals(BandOf(candidate), band))
                {
                    candidates.Add(candidate);
                }
            }
        }

        return [.. candidates];
    }

    /// <summary>The charm price nearest to <paramref name="price"/> (the lower one on a tie); the price itself when none fits.</summary>
    public decimal Nearest(decimal price) =>
        Candidates(price).OrderBy(c => Math.Abs(c - price)).ThenBy(c => c).DefaultIfEmpty(price).First();

    /// <summary>True when <paramref name="price"/> already has an ending its band allows.</summary>
    public bool IsCharm(decimal price)
    {
        var band = BandOf(price);
        if (band.WholeEndings.Count > 0)
        {
            return price == decimal.Truncate(price) && band.WholeEndings.Contains((int)(decimal.Truncate(price) % 10));
        }

        var cents = (int)((price - decimal.Truncate(price)) * 100);
        return decimal.Round(price, 2) == price && band.Cents.Contains(cents);
    }

    /// <summary>For each allowed ending, the nearest price with it at or below <paramref name="price"/> and the nearest above.</summary>
    private static IEnumerable<decimal> Around(decimal price, CharmBand band)
    {
        var perEnding = band.WholeEndings.Count > 0
            ? band.WholeEndings.Select(ending => new[] { -10m, 0m, 10m }.Select(step => (decimal.Floor(price / 10) * 10) + step + ending))
            : band.Cents.Select(cents => new[] { -1m, 0m, 1m }.Select(step => decimal.Floor(price) + step + (cents / 100m)));
        foreach (var values in perEnding.Select(v => v.ToList()))
        {
            if (values.Where(v => v <= price).DefaultIfEmpty(0).Max() is > 0 and var below)
            {
                yield return below;
            }

            yield return values.Where(v => v > price).Min();
        }
    }
}
