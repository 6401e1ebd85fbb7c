using System.ComponentModel.DataAnnotations;
using PricingOptimizer.Errors;

namespace PricingOptimizer.Statistics;

/// <summary>
/// How a readout treats revenue (statistics contract v2): <see cref="CapPercentile"/> caps each user's revenue at that
/// quantile of the positive per-user revenues; <see cref="SequentialTuning"/> is N*, the sample size at which the
/// confidence sequences are tightest; <see cref="Cuped"/> forces CUPED on or off (null: on when any counted user has
/// pre-period revenue); <see cref="AttributionDays"/> counts only converts within that many days of a user's first assign,
/// and <see cref="MatureOnly"/> only the users whose window has closed.
/// </summary>
public sealed record ReadoutOptions(double? CapPercentile = null, double SequentialTuning = ReadoutOptions.DefaultSequentialTuning, bool? Cuped = null,
    int? AttributionDays = null, bool MatureOnly = false)
{
    public const double DefaultSequentialTuning = 5000;

    /// <summary>What is wrong with the options, naming the field as the API does; null when they are fine.</summary>
    public InvalidInputException? Problem() => this switch
    {
        { CapPercentile: { } q } when !(q > 0 && q <= 1) =>
            new InvalidInputException($"cap_percentile must be a fraction in (0, 1], e.g. 0.99 for the 99th percentile; got {q}", "cap_percentile"),
        { SequentialTuning: var n } when !(n >= 1 && n <= 1e12) =>
            new InvalidInputException($"sequential_tuning must be a number of users from 1 to 1e12; got {n}", "sequential_tuning"),
        _ => WindowProblem(AttributionDays, MatureOnly),
    };

    /// <summary>The attribution window the options ask for (null: none).</summary>
    public Lake.Attribution? Window => Lake.Attribution.From(AttributionDays, MatureOnly);

    /// <summary>What is wrong with an attribution window's options, or null.</summary>
    internal static InvalidInputException? WindowProblem(int? days, bool matureOnly)
    {
        try
        {
            _ = Lake.Attribution.From(days, matureOnly);
            return null;
        }
        catch (InvalidInputException e)
        {
            return e;
        }
    }
}

/// <summary>Configuration section <c>Statistics</c>: the readout's defaults.</summary>
public sealed class StatisticsOptions
{
    public const string Section = "Statistics";

    /// <summary>Caps each user's revenue at this quantile of the positive per-user revenues (e.g. 0.99); unset: no cap.</summary>
    [Range(1e-9, 1.0)]
    public double? RevenueCapPercentile { get; set; }

    /// <summary>N* of the always-valid confidence sequences.</summary>
    [Range(1.0, 1e12)]
    public double SequentialTuning { get; set; } = ReadoutOptions.DefaultSequentialTuning;

    /// <summary>How many days before a user's first assign count as their pre-period (CUPED's covariate).</summary>
    [Range(1, 3650)]
    public int CupedLookbackDays { get; set; } = Lake.LakeQueries.DefaultCupedLookbackDays;

    public ReadoutOptions Defaults => new(RevenueCapPercentile, SequentialTuning);
}
