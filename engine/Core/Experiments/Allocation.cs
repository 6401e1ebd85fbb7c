using System.Globalization;

namespace PricingOptimizer.Experiments;

/// <summary>How an experiment splits its users: by the configured weights (fixed), or by weights the data move (adaptive).</summary>
public enum AllocationMode
{
    Fixed,
    Adaptive,
}

/// <summary>
/// An experiment's allocation. <see cref="AllocationMode.Fixed"/> (the default) assigns by the variants' weights, as
/// always. <see cref="AllocationMode.Adaptive"/> recomputes the weights every <see cref="Cadence"/> from the
/// recommendation's posterior on <see cref="Goal"/>: each variant gets at least <see cref="Floor"/>, a weight moves at
/// most <see cref="MaxStep"/> per update, and the split stays equal until one cadence has passed and every variant has
/// <see cref="BurnInUsers"/> users and <see cref="BurnInConversions"/> conversions. <see cref="Holdout"/> is the share of
/// users always split by the configured weights, for a comparison no adaptation touches.
/// </summary>
public sealed record Allocation
{
    public static readonly Allocation Fixed = new();

    /// <summary>The default fixed allocation of an experiment decided on <paramref name="goal"/> (with its unit cost).</summary>
    public static Allocation FixedFor(Pricing.Goal goal, decimal? unitCost) => Fixed with { Goal = goal, UnitCost = unitCost };

    public AllocationMode Mode { get; init; } = AllocationMode.Fixed;

    /// <summary>What adaptation optimises; the experiment's goal unless set.</summary>
    public Pricing.Goal Goal { get; init; } = Pricing.Goal.Revenue;

    /// <summary>The cost of one unit, for the profit goal.</summary>
    public decimal? UnitCost { get; init; }

    /// <summary>The least weight of any variant, added on top of what the data give: p = f + (1 − K·f)·w.</summary>
    public double Floor { get; init; } = 0.05;

    public TimeSpan Cadence { get; init; } = TimeSpan.FromDays(1);

    public int BurnInUsers { get; init; } = 100;

    public int BurnInConversions { get; init; } = 40;

    /// <summary>The most any weight moves in one update.</summary>
    public double MaxStep { get; init; } = 0.25;

    /// <summary>Share of users kept on the configured weights whatever the adaptation does (0: none).</summary>
    public double Holdout { get; init; }

    /// <summary>
    /// With a window, only converts within this many days of a user's first assign count, and only users whose window
    /// has closed feed an update (null: every counted user and every convert at or after the first assign).
    /// </summary>
    public int? AttributionDays { get; init; }

    /// <summary>The least number of days an adaptive test runs before the stopping rule may say stop (weekly cycles need a week).</summary>
    public int MinDays { get; init; } = 7;

    /// <summary>The shortest cadence: an update needs a period's users to have arrived.</summary>
    public static readonly TimeSpan MinCadence = TimeSpan.FromMinutes(15);

    public static readonly TimeSpan MaxCadence = TimeSpan.FromDays(30);

    /// <summary>A duration as the API writes it: whole days (<c>1d</c>), else hours (<c>6h</c>), else minutes (<c>90m</c>).</summary>
    public static string FormatDuration(TimeSpan span) =>
        span.Ticks % TimeSpan.TicksPerDay == 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.Ticks / TimeSpan.TicksPerDay}d")
        : span.Ticks % TimeSpan.TicksPerHour == 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.Ticks / TimeSpan.TicksPerHour}h")
        : string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalMinutes}m");

    /// <summary>Reads <c>15m</c>, <c>6h</c>, <c>1d</c> (a whole number and a unit); false for anything else.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan span)
    {
        span = default;
        if (text is not { Length: >= 2 } || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || n > 100_000)
        {
            return false;
        }

        span = text[^1] switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => TimeSpan.MinValue,
        };
        return span != TimeSpan.MinValue;
    }
}

/// <summary>The <c>allocation</c> object of a create or replace request; absent fields keep their defaults.</summary>
public sealed class AllocationRequest
{
    public string? Mode { get; set; }
    public string? Goal { get; set; }
    public decimal? UnitCost { get; set; }
    public double? Floor { get; set; }
    public string? Cadence { get; set; }
    public BurnInRequest? BurnIn { get; set; }
    public double? MaxStep { get; set; }
    public double? Holdout { get; set; }
    public int? AttributionDays { get; set; }
    public int? MinDays { get; set; }
}

/// <summary>The burn-in: users and conversions every variant needs before the weights may move.</summary>
public sealed class BurnInRequest
{
    public int? Users { get; set; }
    public int? Conversions { get; set; }
}

/// <summary>An allocation as the API shows it and the control plane keeps it (snake_case JSON, the cadence as <c>1d</c>).</summary>
public sealed record AllocationView(
    AllocationMode Mode, Pricing.Goal Goal, decimal? UnitCost, double Floor, string Cadence, BurnInView BurnIn, double MaxStep, double Holdout,
    int? AttributionDays = null, int MinDays = 7)
{
    public static AllocationView From(Allocation a) => new(a.Mode, a.Goal, a.UnitCost, a.Floor, Allocation.FormatDuration(a.Cadence),
        new BurnInView(a.BurnInUsers, a.BurnInConversions), a.MaxStep, a.Holdout, a.AttributionDays, a.MinDays);

    /// <exception cref="InvalidDataException">The cadence is not a duration (a damaged row).</exception>
    public Allocation ToAllocation() => new()
    {
        Mode = Mode, Goal = Goal, UnitCost = UnitCost, Floor = Floor,
        Cadence = Allocation.TryParseDuration(Cadence, out var cadence) ? cadence : throw new InvalidDataException($"cadence '{Cadence}' is not a duration"),
        BurnInUsers = BurnIn.Users, BurnInConversions = BurnIn.Conversions, MaxStep = MaxStep, Holdout = Holdout, AttributionDays = AttributionDays, MinDays = MinDays,
    };
}

/// <summary>The burn-in as the API shows it: users and conversions per variant.</summary>
public sealed record BurnInView(int Users, int Conversions);

/// <summary>
/// One version of an adaptive experiment's weights, in force from <see cref="StartsAt"/> until the next version.
/// Version 0 is implicit: the equal split of the burn-in.
/// </summary>
public sealed record WeightVersion(string TenantId, string ExperimentId, int Version, DateTimeOffset StartsAt,
    IReadOnlyDictionary<string, double> Weights, IReadOnlyList<string> Reasons)
{
    /// <summary>The least weight assignment gives a variant, so a version that left one out still hashes over every variant.</summary>
    public const double LeastWeight = 0.001;

    /// <summary>
    /// The weights assignment hashes over, in the experiment's variant order: version <paramref name="version"/>'s
    /// (null: the burn-in's equal split), none below <see cref="LeastWeight"/>.
    /// </summary>
    public static double[] AssignmentWeights(Experiment experiment, WeightVersion? version) =>
        [.. experiment.Variants.Select(v => version is null ? 1.0 : Math.Max(version.Weights.GetValueOrDefault(v.VariantId), LeastWeight))];

    /// <summary>
    /// The chance a new user got <paramref name="variantId"/> while <paramref name="version"/> was in force (null: the
    /// burn-in): the holdout's share on the configured weights, the rest on the version's assignment weights.
    /// </summary>
    public static double Probability(Experiment experiment, WeightVersion? version, string variantId)
    {
        var index = experiment.Variants.ToList().FindIndex(v => v.VariantId == variantId);
        if (index < 0)
        {
            return 0;
        }

        var adaptive = AssignmentWeights(experiment, version);
        var holdout = experiment.Allocation.Holdout;
        return (holdout * experiment.Variants[index].Weight / experiment.Variants.Sum(v => v.Weight)) + ((1 - holdout) * adaptive[index] / adaptive.Sum());
    }
}

/// <summary>A user's first assignment in an adaptive experiment: the variant they keep, and the weight version that chose it.</summary>
public sealed record FirstAssignment(string VariantId, int Version, DateTimeOffset At);
