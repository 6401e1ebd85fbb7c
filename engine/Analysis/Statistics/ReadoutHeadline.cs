using System.Globalization;

namespace PricingOptimizer.Statistics;

/// <summary>
/// A readout's decision in one plain sentence, on revenue per user (a price test's goal by default): a challenger that
/// earns more than the control beyond its 95% interval, a control that every challenger trails, or no clear winner
/// yet with the best-looking price, its lift, interval and chance to beat the control. The CLI, the report and the
/// dashboard show this same sentence (the API sends it as <c>headline</c>).
/// </summary>
public static class ReadoutHeadline
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The headline on revenue per user, a price test's default goal (the API's <c>headline</c>).</summary>
    public static string For(Readout r) => For(r, onConversions: false);

    /// <summary>
    /// The headline on the experiment's goal: conversion rate when it is decided on conversions (lift, its interval and
    /// the chance to beat the control on the rate), else revenue per user (profit is revenue's ranking at a unit cost
    /// the readout does not know).
    /// </summary>
    public static string For(Readout r, bool onConversions)
    {
        // The figures of the goal: the revenue lift, or the conversion-rate lift.
        double? Lift(VariantReadout v) => onConversions ? v.Lift : v.RevenueLift;
        double[]? Ci(VariantReadout v) => onConversions ? v.LiftCi : v.RevenueLiftCi;
        double? Chance(VariantReadout v) => onConversions ? v.ChanceToBeatControl : v.RevenueChanceToBeatControl;

        var check = r.SrmPValue < 0.001 ? "Check the assignment first: users are not split as configured (sample ratio p < 0.001). " : "";
        var control = r.Variants.FirstOrDefault(v => v.VariantId == r.ControlVariantId);
        var challengers = r.Variants.Where(v => v != control && Lift(v) is not null).ToList();
        if (control is null || challengers.Count == 0)
        {
            var users = r.Variants.Sum(v => v.Users);
            var buyers = r.Variants.Sum(v => v.Conversions);
            return check + string.Create(Invariant,
                $"Too early to compare: {users:N0} users and {buyers:N0} buyers so far; each price needs 30 users beside the control's.");
        }

        var (metric, loses) = onConversions
            ? ("conversion rate", "converts the most: every other price converts fewer")
            : ("revenue per user", "earns the most revenue per user: every other price earns less");
        var best = challengers.MaxBy(v => Chance(v) ?? Lift(v))!;
        var lift = Percent(Lift(best)!.Value);
        var interval = Ci(best) is { } ci ? string.Create(Invariant, $"95% interval {Percent(ci[0])} to {Percent(ci[1])}") : "no interval";
        var chance = Chance(best) is { } c ? string.Create(Invariant, $", {c * 100:0}% likely better") : "";
        var named = string.Create(Invariant, $"{best.VariantId} ({best.Price:0.00})");
        var controlNamed = string.Create(Invariant, $"{control.VariantId} ({control.Price:0.00})");
        if (Ci(best) is { } win && win[0] > 0)
        {
            return check + (onConversions
                ? $"{named} converts {lift} more users than the control {controlNamed} ({interval}){chance}."
                : $"{named} earns {lift} revenue per user over the control {controlNamed} ({interval}){chance}.");
        }

        if (challengers.All(v => Ci(v) is { } lose && lose[1] < 0))
        {
            return check + $"The control {controlNamed} {loses} (the closest, {named}, {lift}, {interval}).";
        }

        return check + $"No clear winner yet on {metric}: the best-looking, {named}, is {lift} against the control {controlNamed} ({interval}){chance}.";
    }

    private static string Percent(double share) => (share * 100).ToString("+0.0;-0.0;0.0", Invariant) + "%";
}
