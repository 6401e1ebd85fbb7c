using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace PricingOptimizer.Pricing;

/// <summary>
/// What the caller asks: the goal, a unit cost for profit, a floor for conversions, optionally the control variant,
/// how far beyond the tested prices the search may go (null: the configured default, which is none), and the revenue
/// cap (null: the readout's default, <c>Statistics:RevenueCapPercentile</c>).
/// </summary>
public sealed record RecommendationRequest(
    Goal Goal,
    decimal? UnitCost = null,
    string? ControlVariantId = null,
    decimal? PriceFloor = null,
    decimal? RevenueFloor = null,
    double? ExtrapolationMargin = null,
    double? CapPercentile = null,
    int? AttributionDays = null,
    bool MatureOnly = false)
{
    /// <summary>The first problem with the request (field, message), or null when it is usable.</summary>
    public (string Field, string Message)? Problem() => this switch
    {
        { Goal: Goal.Profit, UnitCost: null } => ("unit_cost", "the profit goal needs a unit cost"),
        { UnitCost: < 0 } => ("unit_cost", "the unit cost must not be negative"),
        { Goal: Goal.Conversions, PriceFloor: null, RevenueFloor: null } =>
            ("price_floor", "the conversions goal needs a price floor or a revenue floor (conversions alone always favour the lowest price)"),
        { PriceFloor: <= 0 } => ("price_floor", "the price floor must be positive"),
        { RevenueFloor: <= 0 } => ("revenue_floor", "the revenue floor must be positive"),
        { ExtrapolationMargin: { } margin } when !(margin >= 0 && margin <= 1) =>
            ("extrapolation_margin", "the extrapolation margin is a fraction from 0 to 1 (0.1 = 10% beyond the tested prices)"),
        { CapPercentile: { } q } when !(q > 0 && q <= 1) =>
            ("cap_percentile", "cap_percentile is a fraction in (0, 1], e.g. 0.99 caps each buyer's revenue at the 99th percentile"),
        _ => Statistics.ReadoutOptions.WindowProblem(AttributionDays, MatureOnly) is { } window ? (window.Field!, window.Message) : null,
    };

    /// <summary>The attribution window asked for (null: every convert at or after the first assign counts).</summary>
    public Lake.Attribution? Window => Lake.Attribution.From(AttributionDays, MatureOnly);

    /// <summary>
    /// The goal value per assigned user at <paramref name="price"/> when <paramref name="rate"/> of users buy and each
    /// buyer takes <paramref name="units"/> units at the price on average.
    /// </summary>
    public double Value(double price, double rate, double units = 1) => Goal switch
    {
        Goal.Revenue => price * rate * units,
        Goal.Profit => (price - (double)UnitCost!.Value) * rate * units,
        _ => rate,
    };
}

/// <summary>Configuration section <c>Pricing:Recommendation</c>.</summary>
public sealed class RecommendationOptions
{
    public const string Section = "Pricing:Recommendation";

    /// <summary>
    /// How far beyond the tested prices a recommendation may go by default, as a fraction of the lowest and highest
    /// tested price. 0: only the tested range is searched; a request may ask for a margin, and is then flagged.
    /// </summary>
    [Range(0.0, 1.0)] public double ExtrapolationMargin { get; set; }

    /// <summary>Bootstrap draws behind intervals and confidence (each refits the whole stack).</summary>
    [Range(100, 20_000)] public int Draws { get; set; } = 500;

    /// <summary>Seed of the fold splits and the bootstrap.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Folds of the held-out split that the stacking weights come from.</summary>
    [Range(2, 20)] public int Folds { get; set; } = 5;

    /// <summary>A family whose deviance has a p-value below this misses the observed rates and is dropped.</summary>
    [Range(0.0, 0.5)] public double FitLevel { get; set; } = 0.01;

    /// <summary>Tested prices needed, each with at least <see cref="MinUsersPerPrice"/> users.</summary>
    [Range(2, 100)] public int MinPrices { get; set; } = 3;

    [Range(1, 1_000_000)] public int MinUsersPerPrice { get; set; } = 100;

    /// <summary>Conversions needed over all prices.</summary>
    [Range(1, 1_000_000)] public int MinConversions { get; set; } = 30;

    /// <summary>
    /// A charm price is recommended instead of the exact optimum only when its expected goal value is at most this
    /// share below the optimum's (0.002 = 0.2%): a psychological ending must not cost real money.
    /// </summary>
    [Range(0.0, 0.1)] public double CharmMaxLoss { get; set; } = 0.002;
}

/// <summary>The recommendation contract (v3), plus the ranges it worked in and a value curve for charts.</summary>
public sealed record Recommendation
{
    [JsonPropertyName("tenant_id")] public required string TenantId { get; init; }
    [JsonPropertyName("experiment_id")] public required string ExperimentId { get; init; }
    [JsonPropertyName("goal")] public required Goal Goal { get; init; }

    /// <summary><c>ok</c> or <c>insufficient_data</c> (then <see cref="Reasoning"/> says why and the figures are null).</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }

    /// <summary>The family with the largest stacking weight.</summary>
    [JsonPropertyName("model")] public string? Model { get; init; }

    /// <summary>Every demand family: stacking weight, held-out log-loss, and whether it fits the observed rates.</summary>
    [JsonPropertyName("models")] public IReadOnlyList<Demand.ModelScore> Models { get; init; } = [];

    /// <summary>
    /// Every revenue-per-buyer family (what a buyer pays as a function of price): stacking weight, held-out error, and
    /// whether it fits the observed mean at every tested price. Empty for the conversions goal.
    /// </summary>
    [JsonPropertyName("revenue_models")] public IReadOnlyList<Buyers.BuyerModelScore> RevenueModels { get; init; } = [];

    [JsonPropertyName("optimal_price")] public decimal? OptimalPrice { get; init; }
    [JsonPropertyName("recommended_price")] public decimal? RecommendedPrice { get; init; }
    [JsonPropertyName("charm_applied")] public bool CharmApplied { get; init; }
    [JsonPropertyName("expected_value")] public double? ExpectedValue { get; init; }
    [JsonPropertyName("expected_value_ci")] public double[]? ExpectedValueCi { get; init; }

    /// <summary>The goal value expected at <see cref="OptimalPrice"/> (before charm endings), so both prices are shown with their value.</summary>
    [JsonPropertyName("optimal_expected_value")] public double? OptimalExpectedValue { get; init; }

    [JsonPropertyName("control_variant_id")] public string? ControlVariantId { get; init; }
    [JsonPropertyName("control_price")] public decimal? ControlPrice { get; init; }
    [JsonPropertyName("control_expected_value")] public double? ControlExpectedValue { get; init; }

    /// <summary>The naive rule's answer: the tested price with the best observed goal value per user (within the floors).</summary>
    [JsonPropertyName("best_tested_price")] public decimal? BestTestedPrice { get; init; }

    /// <summary>The observed goal value per user at <see cref="BestTestedPrice"/>.</summary>
    [JsonPropertyName("best_tested_expected_value")] public double? BestTestedExpectedValue { get; init; }

    /// <summary>Share of bootstrap draws in which the recommended price beats the control on the goal (ties count half).</summary>
    [JsonPropertyName("confidence")] public double? Confidence { get; init; }

    [JsonPropertyName("tested_price_range")] public decimal[]? TestedPriceRange { get; init; }

    /// <summary>True when the recommended price lies outside the tested range (only possible with an extrapolation margin).</summary>
    [JsonPropertyName("extrapolated")] public bool Extrapolated { get; init; }

    /// <summary>The margin beyond the tested prices that was allowed (0 unless asked for).</summary>
    [JsonPropertyName("extrapolation_margin")] public double ExtrapolationMargin { get; init; }

    /// <summary>Where prices were searched: the tested range, widened by the margin, cut by the price floor.</summary>
    [JsonPropertyName("allowed_price_range")] public decimal[]? AllowedPriceRange { get; init; }

    /// <summary>Only converts within this many days of a user's first assign counted (null: every convert at or after it).</summary>
    [JsonPropertyName("attribution_days")] public int? AttributionDays { get; init; }

    /// <summary>Only users whose attribution window had closed by the experiment's last event counted.</summary>
    [JsonPropertyName("mature_only")] public bool MatureOnly { get; init; }

    /// <summary>Each buyer's revenue was capped at this quantile of buyers' revenues, as the readout caps (null: no cap).</summary>
    [JsonPropertyName("cap_percentile")] public double? CapPercentile { get; init; }

    [JsonPropertyName("unit_cost")] public decimal? UnitCost { get; init; }
    [JsonPropertyName("price_floor")] public decimal? PriceFloor { get; init; }
    [JsonPropertyName("revenue_floor")] public decimal? RevenueFloor { get; init; }
    [JsonPropertyName("currency")] public string? Currency { get; init; }
    [JsonPropertyName("users")] public long Users { get; init; }
    [JsonPropertyName("conversions")] public long Conversions { get; init; }
    [JsonPropertyName("draws")] public int Draws { get; init; }

    /// <summary>
    /// The expected goal value per assigned user over the allowed prices (61 points and every tested price) with its 95%
    /// band, for charts; at the tested prices also the observed value per user, as the readout counts it.
    /// </summary>
    [JsonPropertyName("value_curve")] public IReadOnlyList<ValuePoint> ValueCurve { get; init; } = [];

    /// <summary>
    /// For an adaptive experiment, the stopping rule on the recommendation's goal: whether one tested price is best with
    /// ≥ 95% probability, choosing it costs &lt; 0.5% in expectation and the minimum days have run (null for a fixed split).
    /// </summary>
    [JsonPropertyName("stopping")] public StopVerdict? Stopping { get; init; }

    /// <summary>An adaptive experiment's allocation periods behind the figures (null for a fixed split).</summary>
    [JsonPropertyName("allocation_periods")] public IReadOnlyList<Statistics.AllocationPeriod>? AllocationPeriods { get; init; }

    [JsonPropertyName("reasoning")] public IReadOnlyList<string> Reasoning { get; init; } = [];
    [JsonPropertyName("next_steps")] public IReadOnlyList<string> NextSteps { get; init; } = [];

    /// <summary>The decision in one plain sentence (<see cref="RecommendationHeadline"/>).</summary>
    [JsonPropertyName("headline")] public string Headline => RecommendationHeadline.For(this);
}

/// <summary>
/// One point of a goal-value curve: the mean over draws and the 2.5% and 97.5% quantiles, and at a tested price the
/// observed goal value per assigned user (null elsewhere).
/// </summary>
public sealed record ValuePoint(
    [property: JsonPropertyName("price")] decimal Price,
    [property: JsonPropertyName("expected_value")] double ExpectedValue,
    [property: JsonPropertyName("lower")] double Lower,
    [property: JsonPropertyName("upper")] double Upper,
    [property: JsonPropertyName("observed_value")] double? ObservedValue = null);
