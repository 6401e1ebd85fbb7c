using System.Text.RegularExpressions;
using PricingOptimizer.Errors;
using PricingOptimizer.Events;

namespace PricingOptimizer.Experiments;

/// <summary>What an experiment may be: ids, names, currency, goal and unit cost, variants and weights; each refusal names the field.</summary>
public static partial class ExperimentRules
{
    public static void CheckId(string id, string field)
    {
        if (!IdPattern().IsMatch(id))
        {
            throw new InvalidInputException($"{field} must be 1-128 characters of letters, digits, '.', '_' or '-'", field);
        }
    }

    public static string CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Length > 200
            ? throw new InvalidInputException("name is required, at most 200 characters", "name")
            : name.Trim();

    /// <summary>The goal and unit cost a request sets (each absent one kept from <paramref name="current"/>, else the defaults).</summary>
    public static (Pricing.Goal Goal, decimal? UnitCost) CheckGoal(string? goalText, decimal? unitCost, Experiment? current)
    {
        var goal = current?.Goal ?? Pricing.Goal.Revenue;
        if (goalText is not null && !Json.Wire.TryParse(goalText, out goal))
        {
            throw new InvalidInputException($"goal '{goalText}' is not one of revenue, profit, conversions", "goal");
        }

        var cost = unitCost ?? current?.UnitCost;
        return (goal, cost) switch
        {
            (_, < 0) => throw new InvalidInputException("unit_cost must not be negative", "unit_cost"),
            (Pricing.Goal.Profit, null) => throw new InvalidInputException("the profit goal needs a unit_cost", "unit_cost"),
            (Pricing.Goal.Profit, _) => (goal, cost),
            _ => (goal, cost),
        };
    }

    public static string CheckCurrency(string? currency) =>
        currency is not null && Currencies.IsIso4217(currency)
            ? currency
            : throw new InvalidInputException("currency must be an ISO 4217 code in upper case, e.g. USD", "currency");

    /// <summary>The most variants an experiment may have: more cannot each reach a useful sample.</summary>
    public const int MaxVariants = 100;

    /// <summary>Weights are relative shares; bounding them keeps their sum and each share exact in the assignment.</summary>
    public const double MinWeight = 0.001;

    public const double MaxWeight = 1_000_000;

    public static List<Variant> CheckVariants(List<VariantRequest>? requests)
    {
        if (requests is null || requests.Count < 2)
        {
            throw new InvalidInputException("an experiment needs at least two variants", "variants");
        }

        if (requests.Count > MaxVariants)
        {
            throw new InvalidInputException($"an experiment has at most {MaxVariants} variants; this one has {requests.Count}", "variants");
        }

        var variants = new List<Variant>();
        for (var i = 0; i < requests.Count; i++)
        {
            var field = $"variants[{i}]";
            var r = requests[i] ?? throw new InvalidInputException("each variant must be an object {variant_id, price, weight?, control?}", field);
            CheckId(r.VariantId ?? "", field + ".variant_id");
            if (r.Price is not { } price || price < 0 || decimal.Round(price, EventRules.MoneyScale) != price || price > EventRules.MaxMoney)
            {
                throw new InvalidInputException($"price must be >= 0 with at most {EventRules.MoneyScale} decimal places", field + ".price");
            }

            var weight = r.Weight ?? 1.0;
            if (!(weight >= MinWeight && weight <= MaxWeight))
            {
                throw new InvalidInputException($"weight must be a number from {MinWeight} to {MaxWeight:N0} (weights are relative shares)", field + ".weight");
            }

            variants.Add(new Variant(r.VariantId!, price, weight, r.Control));
        }

        if (variants.Select(v => v.VariantId).Distinct().Count() != variants.Count)
        {
            throw new InvalidInputException("variant ids must be unique", "variants");
        }

        if (variants.Count(v => v.Control) != 1)
        {
            throw new InvalidInputException("exactly one variant must be the control", "variants");
        }

        return variants;
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex IdPattern();
}
