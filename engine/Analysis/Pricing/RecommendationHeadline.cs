using System.Globalization;

namespace PricingOptimizer.Pricing;

/// <summary>
/// A recommendation's decision in one plain sentence: the price to charge, what it is expected to bring per user
/// against the control with its 95% interval, and how likely it beats the control; or why there is no price yet.
/// The CLI, the report and the dashboard show this same sentence (the API sends it as <c>headline</c>).
/// </summary>
public static class RecommendationHeadline
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string For(Recommendation r)
    {
        if (r.Status != "ok" || r.RecommendedPrice is not { } price || r.ExpectedValue is not { } value || r.ControlExpectedValue is not { } control)
        {
            return "No price yet: " + (r.Reasoning.Count > 0 ? r.Reasoning[0] : "the data do not support a recommendation.");
        }

        var unit = r.Currency is null ? "" : " " + r.Currency;
        var noun = r.Goal switch
        {
            Goal.Revenue => "revenue",
            Goal.Profit => "profit",
            _ => "conversion rate",
        };
        var show = (double v) => r.Goal == Goal.Conversions ? (v * 100).ToString("0.0", Invariant) + "%" : v.ToString("0.000", Invariant);
        var interval = r.ExpectedValueCi is { } ci ? $"95% interval {show(ci[0])}–{show(ci[1])}" : "no interval";
        var beyond = r.Extrapolated ? ", beyond the tested prices" : "";
        if (price == r.ControlPrice)
        {
            return string.Create(Invariant,
                $"Keep {price:0.00}{unit}, the control's price: no price the data cover is expected to bring more {noun} per user ({show(value)}, {interval}).");
        }

        var change = control != 0 ? ((value / control - 1) * 100).ToString("+0.0;-0.0;0.0", Invariant) + "% " : "";
        var confidence = r.Confidence is { } c ? string.Create(Invariant, $", {c * 100:0}% likely better than today's price") : "";
        return string.Create(Invariant,
            $"Charge {price:0.00}{unit}{beyond}: {change}{noun} per user against the control's {r.ControlPrice:0.00} ({show(value)} vs {show(control)}, {interval}){confidence}.");
    }
}
