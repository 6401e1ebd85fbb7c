using System.Text.Json.Serialization;

namespace PricingOptimizer.Statistics;

/// <summary>A readout as README "Readouts" describes it. Fields that do not apply (or cannot be defined) are null.</summary>
public sealed record Readout(
    string TenantId,
    string ExperimentId,
    string? ControlVariantId,
    double? SrmPValue,
    long MultipleExposureUsers,
    IReadOnlyList<VariantReadout> Variants,
    ElasticityFit? Elasticity,
    IReadOnlyList<string> Notes)
{
    /// <summary>The revenue cap applied (statistics contract v2, item 8); null when uncapped.</summary>
    [JsonPropertyName("revenue_cap")] public double? RevenueCap { get; init; }

    /// <summary>CUPED's θ over every counted user; null when CUPED is off.</summary>
    [JsonPropertyName("cuped_theta")] public double? CupedTheta { get; init; }

    /// <summary>1 − var(Y − θX) / var(Y): the share of revenue variance CUPED removes.</summary>
    [JsonPropertyName("cuped_variance_reduction")] public double? CupedVarianceReduction { get; init; }

    /// <summary>Only converts within this many days of a user's first assign were counted (rule 13); null: every convert at or after it.</summary>
    [JsonPropertyName("attribution_days")] public int? AttributionDays { get; init; }

    /// <summary>Only users whose attribution window had closed by the experiment's last event were counted.</summary>
    [JsonPropertyName("mature_only")] public bool MatureOnly { get; init; }

    /// <summary>
    /// An adaptive experiment's allocation periods (one per weight version users arrived under); when there are two or
    /// more, every rate, revenue per user and comparison is stratified by period (README "Adaptive allocation"). Null for
    /// a fixed split.
    /// </summary>
    [JsonPropertyName("allocation_periods")] public IReadOnlyList<AllocationPeriod>? AllocationPeriods { get; init; }

    /// <summary>
    /// The variant with the best revenue per user against the control: the difference, its ordinary 95% interval, and
    /// the interval corrected for picking the best-looking of several (the winner's curse); null when the control
    /// leads or a variant is below the minimum sample.
    /// </summary>
    [JsonPropertyName("best_vs_control")] public BestVsControl? BestVsControl { get; init; }

    /// <summary>The decision in one plain sentence, on revenue per user (<see cref="ReadoutHeadline"/>).</summary>
    [JsonPropertyName("headline")] public string Headline => ReadoutHeadline.For(this);

    /// <summary>The same on conversion rate, for an experiment decided on conversions (the dashboard shows the one of the experiment's goal).</summary>
    [JsonPropertyName("headline_conversions")] public string HeadlineConversions => ReadoutHeadline.For(this, onConversions: true);
}

/// <summary>
/// One variant's figures; the comparison fields are null for the control. <see cref="SequentialPValue"/> is beyond the
/// contract: an always-valid p-value (mSPRT) that may be looked at any day.
/// </summary>
public sealed record VariantReadout(
    string VariantId,
    decimal Price,
    long Users,
    long Conversions,
    double? ConversionRate,
    [property: JsonPropertyName("conversion_rate_ci")] double[]? ConversionRateCi,
    decimal Revenue,
    double? RevenuePerUser,
    double? Lift,
    [property: JsonPropertyName("lift_ci")] double[]? LiftCi,
    double? PValue,
    double? PValueAdjusted,
    double? RevenuePerUserPValue,
    double? ChanceToBeatControl,
    double? ExpectedLoss,
    double? ArcElasticity,
    double? SequentialPValue = null)
{
    /// <summary>Mean revenue per user adjusted by CUPED: Ȳ_v − θ(X̄_v − X̄).</summary>
    [JsonPropertyName("revenue_per_user_cuped")] public double? RevenuePerUserCuped { get; init; }

    /// <summary>rpu_v / rpu_c − 1 (capped revenue when capping is on), with its 95% delta-method interval.</summary>
    [JsonPropertyName("revenue_lift")] public double? RevenueLift { get; init; }

    [JsonPropertyName("revenue_lift_ci")] public double[]? RevenueLiftCi { get; init; }

    /// <summary>The revenue lift on CUPED-adjusted means, with its interval.</summary>
    [JsonPropertyName("revenue_lift_cuped")] public double? RevenueLiftCuped { get; init; }

    [JsonPropertyName("revenue_lift_cuped_ci")] public double[]? RevenueLiftCupedCi { get; init; }

    /// <summary>Welch's t-test on Y − θX.</summary>
    [JsonPropertyName("revenue_per_user_cuped_p_value")] public double? RevenuePerUserCupedPValue { get; init; }

    /// <summary>Always-valid 95% confidence sequence on rate_v − rate_c.</summary>
    [JsonPropertyName("difference_cs")] public double[]? DifferenceCs { get; init; }

    /// <summary>Always-valid 95% confidence sequence on rpu_v − rpu_c (capped revenue when capping is on).</summary>
    [JsonPropertyName("revenue_difference_cs")] public double[]? RevenueDifferenceCs { get; init; }

    /// <summary>P(rpu_v &gt; rpu_c) under normal posteriors of revenue per user (capped when capping is on): a price test's decision metric.</summary>
    [JsonPropertyName("revenue_chance_to_beat_control")] public double? RevenueChanceToBeatControl { get; init; }

    /// <summary>E[max(rpu_c − rpu_v, 0)] under the same posteriors: the revenue per user expected to be lost by choosing the variant.</summary>
    [JsonPropertyName("revenue_expected_loss")] public double? RevenueExpectedLoss { get; init; }

    /// <summary>Benjamini–Hochberg adjusted conversion p-value (<see cref="PValue"/>) across the non-control variants.</summary>
    [JsonPropertyName("p_value_adjusted_bh")] public double? PValueAdjustedBh { get; init; }

    /// <summary>
    /// Benjamini–Hochberg adjusted revenue p-value across the non-control variants: on the CUPED p-value when CUPED is
    /// on, else on the revenue-per-user p-value.
    /// </summary>
    [JsonPropertyName("revenue_p_value_adjusted_bh")] public double? RevenuePValueAdjustedBh { get; init; }
}

/// <summary>The log-log fit of conversion rate on price.</summary>
public sealed record ElasticityFit(double Slope, [property: JsonPropertyName("slope_ci")] double[] SlopeCi);
