namespace PricingOptimizer.Experiments;

/// <summary>What a tenant sends to create or replace an experiment (snake_case over HTTP).</summary>
public sealed class ExperimentRequest
{
    public string? ExperimentId { get; set; }
    public string? Name { get; set; }
    public string? Currency { get; set; }
    public List<VariantRequest>? Variants { get; set; }

    /// <summary>revenue (the default), profit or conversions: what the experiment is decided on; may change in any status.</summary>
    public string? Goal { get; set; }

    /// <summary>The cost of one unit: required with the profit goal.</summary>
    public decimal? UnitCost { get; set; }

    /// <summary>How users are split: <c>{mode: fixed | adaptive, …}</c>; fixed when absent. Changes only in draft.</summary>
    public AllocationRequest? Allocation { get; set; }
}

public sealed class VariantRequest
{
    public string? VariantId { get; set; }
    public decimal? Price { get; set; }
    public double? Weight { get; set; }
    public bool Control { get; set; }
}
