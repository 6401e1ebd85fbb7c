using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace PricingOptimizer.Pricing;

/// <summary>What a recommendation optimises, per assigned user.</summary>
public enum Goal
{
    /// <summary>price × P(convert | price).</summary>
    Revenue,

    /// <summary>(price − unit cost) × P(convert | price).</summary>
    Profit,

    /// <summary>P(convert | price), subject to a price or revenue floor.</summary>
    Conversions,
}

public static class Goals
{
    public static string ToWire(this Goal goal) => goal switch
    {
        Goal.Revenue => "revenue",
        Goal.Profit => "profit",
        _ => "conversions",
    };

    public static bool TryParse(string? text, out Goal goal)
    {
        switch (text)
        {
            case "revenue": goal = Goal.Revenue; return true;
            case "profit": goal = Goal.Profit; return true;
            case "conversions": goal = Goal.Conversions; return true;
            default: goal = Goal.Revenue; return false;
        }
    }
}

/// <summary>What the caller asks: the goal, a unit cost for profit, a floor for conversions, and optionally the control variant.</summary>
public sealed record RecommendationRequest(
    Goal Goal,
    decimal? UnitCost = null,
    string? ControlVariantId = null,
    decimal? PriceFloor = null,
    decimal? RevenueFloor = null)
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
        _ => null,
    };
}

/// <summary>Configuration section <c>Pricing:Recommendation</c>.</summary>
public sealed class RecommendationOptions
{
    public const string Section = "Pricing:Recommendation";

    /// <summary>How far beyond the tested prices a recommendation may go, as a fraction of the lowest and highest tested price.</summary>
    [Range(0.0, 1.0)] public double ExtrapolationMargin { get; set; } = 0.10;

    /// <summary>Posterior draws behind intervals and confidence.</summary>
    [Range(100, 100_000)] public int Draws { get; set; } = 4000;

    /// <summary>Seed of the train/test split, the posterior draws and the population sample.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Folds of the cross-validation that compares the models: every user is held out once.</summary>
    [Range(2, 20)] public int Folds { get; set; } = 5;

    /// <summary>Tested prices needed, each with at least <see cref="MinUsersPerPrice"/> users.</summary>
    [Range(2, 100)] public int MinPrices { get; set; } = 3;

    [Range(1, 1_000_000)] public int MinUsersPerPrice { get; set; } = 100;

    /// <summary>Conversions needed over all prices.</summary>
    [Range(1, 1_000_000)] public int MinConversions { get; set; } = 30;
}

/// <summary>The recommendation contract of DESIGN.md, plus the model comparison and the ranges it worked in.</summary>
public sealed record Recommendation
{
    [JsonPropertyName("tenant_id")] public required string TenantId { get; init; }
    [JsonPropertyName("experiment_id")] public required string ExperimentId { get; init; }
    [JsonPropertyName("goal")] public required string Goal { get; init; }

    /// <summary><c>ok</c> or <c>insufficient_data</c> (then <see cref="Reasoning"/> says why and the figures are null).</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }

    [JsonPropertyName("model")] public string? Model { get; init; }
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

    /// <summary>Posterior probability that the recommended price beats the control on the goal (ties count half).</summary>
    [JsonPropertyName("confidence")] public double? Confidence { get; init; }

    [JsonPropertyName("tested_price_range")] public decimal[]? TestedPriceRange { get; init; }

    /// <summary>The tested range widened by the extrapolation margin and cut by the price floor: where prices were searched.</summary>
    [JsonPropertyName("allowed_price_range")] public decimal[]? AllowedPriceRange { get; init; }

    [JsonPropertyName("unit_cost")] public decimal? UnitCost { get; init; }
    [JsonPropertyName("price_floor")] public decimal? PriceFloor { get; init; }
    [JsonPropertyName("revenue_floor")] public decimal? RevenueFloor { get; init; }
    [JsonPropertyName("currency")] public string? Currency { get; init; }
    [JsonPropertyName("users")] public long Users { get; init; }
    [JsonPropertyName("conversions")] public long Conversions { get; init; }
    [JsonPropertyName("draws")] public int Draws { get; init; }

    /// <summary>The weight of each model in the averaged curve (from its held-out likelihood); <see cref="Model"/> is the heaviest.</summary>
    [JsonPropertyName("model_weights")] public IReadOnlyDictionary<string, double>? ModelWeights { get; init; }

    /// <summary>Both models on held-out users (cross-validated); the one with the lower log-loss is <see cref="Model"/>.</summary>
    [JsonPropertyName("model_comparison")] public IReadOnlyList<ModelEvaluation> ModelComparison { get; init; } = [];

    /// <summary>The expected goal value per assigned user over the allowed prices (about 60 points), for charts.</summary>
    [JsonPropertyName("value_curve")] public IReadOnlyList<ValuePoint> ValueCurve { get; init; } = [];

    [JsonPropertyName("reasoning")] public IReadOnlyList<string> Reasoning { get; init; } = [];
    [JsonPropertyName("next_steps")] public IReadOnlyList<string> NextSteps { get; init; } = [];
}

/// <summary>One point of a goal-value curve.</summary>
public sealed record ValuePoint([property: JsonPropertyName("price")] decimal Price, [property: JsonPropertyName("expected_value")] double ExpectedValue);
