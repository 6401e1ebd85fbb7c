using PricingOptimizer.Pricing;
using System.Globalization;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Adaptive;

/// <summary>What an adaptive update would do now: the state it is in, the weights it proposes, and why.</summary>
/// <param name="State"><c>fixed</c> (not adaptive), <c>burn_in</c> (equal split still), <c>insufficient_data</c>, <c>frozen</c> (the
/// sample-ratio check failed), <c>paused</c> (the drift check failed) or <c>update</c>.</param>
/// <param name="Weights">Per variant, the proposed weight (for burn-in and insufficient data: the equal split).</param>
/// <param name="Details">Per variant, the shares behind an update; empty otherwise.</param>
/// <param name="Reasons">Sentences that say why, in the order they apply.</param>
public sealed record AllocationProposal(string State, IReadOnlyDictionary<string, double> Weights, IReadOnlyList<VariantWeight> Details,
    IReadOnlyList<string> Reasons)
{
    /// <summary>The stopping rule's verdict once the demand curves can be fitted (null before).</summary>
    public StopVerdict? Stop { get; init; }

    /// <summary>The sample-ratio p-value against the weights users arrived under (null when it cannot be computed).</summary>
    public double? SampleRatioPValue { get; init; }

    /// <summary>The drift check's p-value: prices moving apart between early and late periods (null when it cannot be computed).</summary>
    public double? DriftPValue { get; init; }
}

/// <summary>What guards an update: the sample-ratio check (a failure freezes the weights) and the drift check (a failure pauses adaptation).</summary>
public sealed record Safeguards(double? SampleRatioPValue, double? DriftPValue)
{
    /// <summary>Below this p-value a check fails: rare by chance (one update in a thousand), sure for a real bug at volume.</summary>
    public const double Alarm = 0.001;
}

/// <summary>
/// Decides an adaptive update from an experiment's counted users: equal weights until the burn-in ends (one cadence
/// since the first assign, and every variant with the allocation's users and conversions), then the weights of
/// <see cref="AdaptiveWeights"/> from the draws of each variant's goal value.
/// </summary>
public static class AllocationPlanner
{
    /// <param name="experiment">The definition, with its allocation.</param>
    /// <param name="variants">Its counted users per variant (those whose attribution window has closed, when one is set).</param>
    /// <param name="firstAssignAt">When its first counted assign happened; null without assigns.</param>
    /// <param name="now">The clock's now.</param>
    /// <param name="current">The weights in force, per variant id (null: the equal split).</param>
    /// <param name="valueDraws">The posterior draws of each variant's goal value, in the order of <paramref name="variants"/>; null when too few data.</param>
    /// <param name="safeguards">The sample-ratio and drift checks (null: neither computed).</param>
    /// <param name="currency">The experiment's currency, for the stopping rule's sentence.</param>
    public static AllocationProposal Plan(Experiment experiment, IReadOnlyList<VariantStats> variants, DateTimeOffset? firstAssignAt, DateTimeOffset now,
        IReadOnlyDictionary<string, double>? current, Func<double[][]?> valueDraws, Safeguards? safeguards = null, string? currency = null)
    {
        return Decide(experiment, variants, firstAssignAt, now, current, valueDraws, safeguards, currency) with
        {
            SampleRatioPValue = safeguards?.SampleRatioPValue,
            DriftPValue = safeguards?.DriftPValue,
        };
    }

    private static AllocationProposal Decide(Experiment experiment, IReadOnlyList<VariantStats> variants, DateTimeOffset? firstAssignAt, DateTimeOffset now,
        IReadOnlyDictionary<string, double>? current, Func<double[][]?> valueDraws, Safeguards? safeguards, string? currency)
    {
        var ids = experiment.Variants.Select(v => v.VariantId).ToList();
        var equal = ids.ToDictionary(id => id, _ => 1.0 / ids.Count, StringComparer.Ordinal);
        var allocation = experiment.Allocation;
        if (allocation.Mode != AllocationMode.Adaptive)
        {
            var total = experiment.Variants.Sum(v => v.Weight);
            return new AllocationProposal("fixed", experiment.Variants.ToDictionary(v => v.VariantId, v => v.Weight / total, StringComparer.Ordinal), [],
                ["The allocation is fixed: users are split by the configured weights."]);
        }

        var reasons = new List<string>();
        var elapsed = firstAssignAt is { } start ? now - start : TimeSpan.Zero;
        if (elapsed < allocation.Cadence)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture,
                $"Burn-in: {(firstAssignAt is null ? "no user is assigned yet" : $"{Hours(elapsed)} since the first assign")}; the first update comes after one cadence ({Experiments.Allocation.FormatDuration(allocation.Cadence)})."));
        }

        var byId = variants.ToDictionary(v => v.VariantId, StringComparer.Ordinal);
        foreach (var id in ids)
        {
            var (users, conversions) = byId.TryGetValue(id, out var v) ? (v.Users, v.Conversions) : (0L, 0L);
            if (users < allocation.BurnInUsers || conversions < allocation.BurnInConversions)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"Burn-in: {id} has {users:N0} users and {conversions:N0} conversions; every variant needs {allocation.BurnInUsers:N0} and {allocation.BurnInConversions:N0}."));
            }
        }

        if (reasons.Count > 0)
        {
            return new AllocationProposal("burn_in", equal, [], reasons);
        }

        var ordered = ids.Select(id => byId[id]).ToList();
        var draws = valueDraws();
        if (draws is null)
        {
            return new AllocationProposal("insufficient_data", current ?? equal, [],
                ["The demand curves cannot be fitted yet (too few well-tested prices or conversions); the weights stay as they are."]);
        }

        var stop = StoppingRule.Decide([.. experiment.Variants.Select(v => (v.VariantId, v.Price))], draws, elapsed.TotalDays, allocation.MinDays, currency);
        if (safeguards?.SampleRatioPValue is { } srm && srm < Safeguards.Alarm)
        {
            return new AllocationProposal("frozen", current ?? equal, [],
            [
                string.Create(CultureInfo.InvariantCulture,
                    $"The sample-ratio check fails (p = {srm:G3}): users per variant do not match the weights they arrived under, so the weights are frozen. Look for an assignment or logging fault before trusting any figure."),
            ]) { Stop = stop };
        }

        if (safeguards?.DriftPValue is { } drift && drift < Safeguards.Alarm)
        {
            return new AllocationProposal("paused", current ?? equal, [],
            [
                string.Create(CultureInfo.InvariantCulture,
                    $"The drift check fails (p = {drift:G3}): prices moved apart between the early and the late periods, so early evidence may mislead; adaptation is paused and the weights stay as they are."),
            ]) { Stop = stop };
        }

        var weights = ids.Select(id => current?.GetValueOrDefault(id) ?? 1.0 / ids.Count).ToList();
        var sum = weights.Sum();
        weights = [.. weights.Select(w => w / sum)];
        var details = AdaptiveWeights.Next(ids, draws, weights, allocation);
        var shares = string.Join(", ", details.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.VariantId} {d.TopTwoShare:P0}")));
        reasons.Add(string.Create(CultureInfo.InvariantCulture,
            $"Top-two Thompson sampling over {draws[0].Length:N0} draws of each price's {Json.Wire.Name(allocation.Goal)} per user: {shares}."));
        foreach (var sunk in details.Where(d => d.Sunk))
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture,
                $"{sunk.VariantId} is worse than the best price with {sunk.ChanceWorseThanBest:P1} probability: held at the floor ({allocation.Floor:P0})."));
        }

        if (details.Any(d => Math.Abs(d.Weight - d.Target) > 1e-9))
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture,
                $"Each weight moves at most {allocation.MaxStep:P0} per update, so the weights reach their targets over several updates."));
        }

        reasons.Add(char.ToUpperInvariant(stop.Message[0]) + stop.Message[1..] + ".");
        return new AllocationProposal("update", details.ToDictionary(d => d.VariantId, d => d.Weight, StringComparer.Ordinal), details, reasons) { Stop = stop };
    }

    private static string Hours(TimeSpan span) => span.TotalHours >= 48
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0.#} days")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.#} hours");
}
