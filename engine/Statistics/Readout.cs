using System.Text.Json.Serialization;

namespace PricingOptimizer.Statistics;

/// <summary>A readout per DESIGN.md "Statistics contract". Fields that do not apply (or cannot be defined) are null.</summary>
public sealed record Readout(
    string TenantId,
    string ExperimentId,
    string? ControlVariantId,
    double? SrmPValue,
    long MultipleExposureUsers,
    IReadOnlyList<VariantReadout> Variants,
    ElasticityFit? Elasticity,
    IReadOnlyList<string> Notes);

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
    double? SequentialPValue = null);

/// <summary>The log-log fit of conversion rate on price.</summary>
public sealed record ElasticityFit(double Slope, [property: JsonPropertyName("slope_ci")] double[] SlopeCi);
