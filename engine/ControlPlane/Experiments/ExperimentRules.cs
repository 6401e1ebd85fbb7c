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

    /// <summary>
    /// The allocation a request sets over <paramref name="current"/> (absent fields keep its values; a first adaptive
    /// allocation takes the experiment's goal and unit cost). Each refusal names its field, e.g. <c>allocation.floor</c>.
    /// </summary>
    public static Allocation CheckAllocation(AllocationRequest? request, Allocation current, int variants, Pricing.Goal goal, decimal? unitCost)
    {
        if (request is null)
        {
            return current;
        }

        var result = current;
        if (request.Mode is { } modeText)
        {
            if (!Json.Wire.TryParse<AllocationMode>(modeText, out var mode))
            {
                throw new InvalidInputException($"mode '{modeText}' is not one of {Json.Wire.Names<AllocationMode>()}", "allocation.mode");
            }

            if (mode == AllocationMode.Adaptive && current.Mode == AllocationMode.Fixed && request.Goal is null)
            {
                result = result with { Goal = goal, UnitCost = request.UnitCost ?? unitCost };
            }

            result = result with { Mode = mode };
        }

        if (request.Goal is { } goalText)
        {
            if (!Json.Wire.TryParse<Pricing.Goal>(goalText, out var allocationGoal))
            {
                throw new InvalidInputException($"goal '{goalText}' is not one of {Json.Wire.Names<Pricing.Goal>()}", "allocation.goal");
            }

            result = result with { Goal = allocationGoal };
        }

        if (request.UnitCost is { } cost)
        {
            result = cost < 0 || decimal.Round(cost, EventRules.MoneyScale) != cost || cost > EventRules.MaxMoney
                ? throw new InvalidInputException($"unit_cost must be >= 0 with at most {EventRules.MoneyScale} decimal places", "allocation.unit_cost")
                : result with { UnitCost = cost };
        }

        if (result.Mode == AllocationMode.Adaptive && result.Goal == Pricing.Goal.Profit && result.UnitCost is null)
        {
            throw new InvalidInputException("adapting on profit needs a unit_cost", "allocation.unit_cost");
        }

        if (request.Floor is { } floor)
        {
            result = floor >= 0 && floor * variants < 1
                ? result with { Floor = floor }
                : throw new InvalidInputException(
                    $"floor is the least weight of each variant: from 0 to below 1/{variants} for {variants} variants (the floors must leave room to adapt)",
                    "allocation.floor");
        }
        else if (result.Floor * variants >= 1)
        {
            throw new InvalidInputException(
                $"the floor {result.Floor} leaves nothing to adapt with {variants} variants; send a floor below 1/{variants}", "allocation.floor");
        }

        if (request.Cadence is { } cadenceText)
        {
            if (!Allocation.TryParseDuration(cadenceText, out var cadence))
            {
                throw new InvalidInputException($"cadence '{cadenceText}' is not a duration such as 15m, 6h or 1d", "allocation.cadence");
            }

            result = cadence >= Allocation.MinCadence && cadence <= Allocation.MaxCadence
                ? result with { Cadence = cadence }
                : throw new InvalidInputException("cadence is from 15m to 30d", "allocation.cadence");
        }

        if (request.BurnIn is { } burnIn)
        {
            if (burnIn.Users is { } users)
            {
                result = users is >= 0 and <= 10_000_000 ? result with { BurnInUsers = users }
                    : throw new InvalidInputException("burn_in.users is from 0 to 10,000,000 users per variant", "allocation.burn_in.users");
            }

            if (burnIn.Conversions is { } conversions)
            {
                result = conversions is >= 0 and <= 10_000_000 ? result with { BurnInConversions = conversions }
                    : throw new InvalidInputException("burn_in.conversions is from 0 to 10,000,000 per variant", "allocation.burn_in.conversions");
            }
        }

        if (request.MaxStep is { } step)
        {
            result = step > 0 && step <= 1 ? result with { MaxStep = step }
                : throw new InvalidInputException("max_step is the most a weight moves per update: above 0, at most 1", "allocation.max_step");
        }

        if (request.AttributionDays is { } days)
        {
            result = days is >= 1 and <= Lake.Attribution.MaxDays ? result with { AttributionDays = days }
                : throw new InvalidInputException(
                    $"attribution_days is the window after a user's first assign whose close lets the user feed an update: from 1 to {Lake.Attribution.MaxDays} days",
                    "allocation.attribution_days");
        }

        if (request.MinDays is { } minDays)
        {
            result = minDays is >= 0 and <= 365 ? result with { MinDays = minDays }
                : throw new InvalidInputException("min_days is the least number of days before the test may stop: from 0 to 365", "allocation.min_days");
        }

        if (request.Holdout is { } holdout)
        {
            result = holdout is >= 0 and <= 0.5 ? result with { Holdout = holdout }
                : throw new InvalidInputException("holdout is the share of users kept on the configured weights: from 0 to 0.5", "allocation.holdout");
        }

        return result;
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex IdPattern();
}
