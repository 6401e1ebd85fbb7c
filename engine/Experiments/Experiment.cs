namespace PricingOptimizer.Experiments;

/// <summary>Where an experiment is in its life: draft → active ⇄ paused → completed.</summary>
public enum ExperimentStatus
{
    Draft,
    Active,
    Paused,
    Completed,
}

/// <summary>One arm of a price test.</summary>
public sealed record Variant(string VariantId, decimal Price, double Weight, bool Control);

/// <summary>A price experiment of one tenant.</summary>
public sealed record Experiment(
    string TenantId,
    string ExperimentId,
    string Name,
    string Currency,
    ExperimentStatus Status,
    IReadOnlyList<Variant> Variants,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public Variant ControlVariant => Variants.Single(v => v.Control);

    public Variant? FindVariant(string variantId) => Variants.FirstOrDefault(v => v.VariantId == variantId);
}
