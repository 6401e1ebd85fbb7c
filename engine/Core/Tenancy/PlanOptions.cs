using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Tenancy;

/// <summary>One plan: its rate limit, what the month includes and what it costs.</summary>
public sealed class PlanDefinition
{
    [Range(1, 1_000_000)] public int RequestsPerMinute { get; set; }

    [Range(0, long.MaxValue)] public long IncludedEventsPerMonth { get; set; }

    [Range(typeof(decimal), "0", "1000000000")] public decimal BasePrice { get; set; }

    [Range(typeof(decimal), "0", "1000000")] public decimal OveragePricePer1000 { get; set; }
}

/// <summary>Configuration section <c>Plans</c>: plan name → definition. The built-in plans (README "Configuration") apply when the section is absent.</summary>
public sealed class PlanOptions : IValidatableObject
{
    public const string Section = "Plans";

    public Dictionary<string, PlanDefinition> Plans { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["free"] = new() { RequestsPerMinute = 60, IncludedEventsPerMonth = 10_000, BasePrice = 0m, OveragePricePer1000 = 0.50m },
        ["starter"] = new() { RequestsPerMinute = 300, IncludedEventsPerMonth = 100_000, BasePrice = 49m, OveragePricePer1000 = 0.40m },
        ["pro"] = new() { RequestsPerMinute = 1000, IncludedEventsPerMonth = 1_000_000, BasePrice = 199m, OveragePricePer1000 = 0.25m },
        ["enterprise"] = new() { RequestsPerMinute = 5000, IncludedEventsPerMonth = 10_000_000, BasePrice = 999m, OveragePricePer1000 = 0.10m },
    };

    public bool TryGet(string plan, out PlanDefinition definition) => Plans.TryGetValue(plan, out definition!);

    public PlanDefinition Get(string plan) =>
        TryGet(plan, out var definition) ? definition : throw new KeyNotFoundException($"no plan named '{plan}'");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Plans.Count == 0)
        {
            yield return new ValidationResult("Plans must define at least one plan");
        }

        foreach (var (name, plan) in Plans)
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(plan, new ValidationContext(plan), results, validateAllProperties: true))
            {
                foreach (var result in results)
                {
                    yield return new ValidationResult($"Plans:{name}: {result.ErrorMessage}");
                }
            }
        }
    }
}
