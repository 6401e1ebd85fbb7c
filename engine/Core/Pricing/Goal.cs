namespace PricingOptimizer.Pricing;

/// <summary>What a recommendation optimises, per assigned user.</summary>
public enum Goal
{
    /// <summary>P(convert | price) × revenue per buyer at that price (what buyers pay: baskets, renewals, add-ons).</summary>
    Revenue,

    /// <summary>P(convert | price) × (revenue − unit cost × units) per buyer at that price.</summary>
    Profit,

    /// <summary>P(convert | price), subject to a price or revenue floor.</summary>
    Conversions,
}
