namespace PricingOptimizer.Client;

/// <summary>
/// The price a user sees. In the experiment (<see cref="InExperiment"/>): their variant, its price and currency.
/// Otherwise a fallback that never stops a checkout, with <see cref="FallbackReason"/> saying why: the experiment's
/// control when its definition is known (a paused, draft or completed experiment, or the last copy fetched before the
/// API became unreachable), else the caller's default price with an empty variant and currency. A fallback records
/// no assign: the user is not in the test.
/// </summary>
public sealed record Assignment(string ExperimentId, string UserId, string VariantId, decimal Price, string Currency)
{
    /// <summary>Why this is a fallback (one of <see cref="FallbackReasons"/>); null when the user is in the experiment.</summary>
    public string? FallbackReason { get; init; }

    /// <summary>The user was assigned a variant of the active experiment (and the assign is recorded).</summary>
    public bool InExperiment => FallbackReason is null;
}

/// <summary>Why <see cref="PricingOptimizerClient.AssignAsync(string, string, decimal, CancellationToken)"/> answered a fallback.</summary>
public static class FallbackReasons
{
    /// <summary>The experiment is a draft, paused or completed: the control's price.</summary>
    public const string NotActive = "not_active";

    /// <summary>The API does not know the experiment (404): the default price.</summary>
    public const string UnknownExperiment = "unknown_experiment";

    /// <summary>The API refused the key or the token (401, 403).</summary>
    public const string NoAccess = "no_access";

    /// <summary>No answer in time, a network failure, 408, 429 or a 5xx.</summary>
    public const string Unreachable = "unreachable";

    /// <summary>An empty experiment or user id.</summary>
    public const string InvalidArgument = "invalid_argument";

    /// <summary>Anything else (an answer the SDK could not read, a refusal of another kind).</summary>
    public const string Error = "error";
}

/// <summary>An event the API refused for good (a 4xx other than 408 and 429), with the field and the reason.</summary>
public sealed record Rejection(string EventId, string Field, string Reason);

/// <summary>An event not delivered: every try failed (network, timeout, 429, 5xx) within the attempt and time bounds.</summary>
public sealed record DeliveryFailure(string EventId, string Reason);

/// <summary>
/// An experiment's readout (<c>GET /v1/experiments/{id}/readout</c>): per variant, users, conversions and revenue with
/// their comparisons to the control. Figures that do not apply (the control's own lift) are null. The API sends more
/// fields than are typed here; README "Readouts" lists them all.
/// </summary>
public sealed record Readout(
    string TenantId,
    string ExperimentId,
    string? ControlVariantId,
    double? SrmPValue,
    long MultipleExposureUsers,
    IReadOnlyList<ReadoutVariant> Variants,
    IReadOnlyList<string> Notes,
    double? RevenueCap,
    int? AttributionDays);

/// <summary>One variant of a <see cref="Readout"/>.</summary>
public sealed record ReadoutVariant(
    string VariantId,
    decimal Price,
    long Users,
    long Conversions,
    double? ConversionRate,
    double[]? ConversionRateCi,
    decimal Revenue,
    double? RevenuePerUser,
    double? Lift,
    double[]? LiftCi,
    double? PValue,
    double? ChanceToBeatControl,
    double? SequentialPValue,
    double? RevenueLift,
    double[]? RevenueLiftCi,
    double? RevenueChanceToBeatControl,
    double? RevenueExpectedLoss);

/// <summary>
/// A price recommendation (<c>GET /v1/experiments/{id}/recommendation</c>). With <see cref="Status"/>
/// <c>insufficient_data</c> the figures are null and <see cref="Reasoning"/> says what is missing.
/// </summary>
public sealed record Recommendation(
    string TenantId,
    string ExperimentId,
    string Goal,
    string Status,
    decimal? OptimalPrice,
    decimal? RecommendedPrice,
    bool CharmApplied,
    double? ExpectedValue,
    double[]? ExpectedValueCi,
    string? ControlVariantId,
    decimal? ControlPrice,
    double? ControlExpectedValue,
    decimal? BestTestedPrice,
    double? BestTestedExpectedValue,
    double? Confidence,
    bool Extrapolated,
    IReadOnlyList<DemandModelWeight> Models,
    IReadOnlyList<string> Reasoning,
    IReadOnlyList<string> NextSteps);

/// <summary>A demand family behind a <see cref="Recommendation"/>: its stacking weight and whether it fits the observed rates.</summary>
public sealed record DemandModelWeight(string Name, double Weight, bool FitsData);

/// <summary>Every experiment of the tenant (<c>GET /v1/analytics/experiments</c>).</summary>
public sealed record Dashboard(string TenantId, DateTimeOffset GeneratedAt, double MinimumDetectableEffect, IReadOnlyList<DashboardExperiment> Experiments);

/// <summary>One experiment on the <see cref="Dashboard"/>; the leader is on the experiment's goal.</summary>
public sealed record DashboardExperiment(
    string ExperimentId,
    string Name,
    string Status,
    string Currency,
    DateOnly? StartDate,
    int? DaysRunning,
    long Users,
    string? ControlVariantId,
    string? LeadingVariantId,
    double? LeadingChanceToBeatControl,
    DashboardHealth Health,
    long? UsersStillNeeded,
    IReadOnlyList<string> Notes,
    string Goal);

/// <summary>Whether an experiment's data can be trusted: users split as configured, few users in two variants.</summary>
public sealed record DashboardHealth(double? SrmPValue, bool SampleRatioMismatch, long MultipleExposureUsers, double MultipleExposureShare,
    bool MultipleExposureHigh);

/// <summary>A month of the tenant's usage against its plan (<c>GET /v1/usage</c>).</summary>
public sealed record Usage(string TenantId, string Month, string Plan, long IncludedEvents, long Events, double PercentOfIncludedEvents, long ApiCalls,
    IReadOnlyList<string> Warnings);

/// <summary>A month's bill (<c>GET /v1/billing/{month}</c>) and the plan that would have cost least.</summary>
public sealed record Bill(string TenantId, string Month, string Plan, string Currency, long Events, decimal BasePrice, decimal OverageCharge, decimal Total,
    PlanAdvice Recommendation);

/// <summary>The cheapest plan for a month's usage, with the reason.</summary>
public sealed record PlanAdvice(string Plan, decimal Total, decimal Savings, string Reason);
