using System.Globalization;

namespace PricingOptimizer.Lake;

/// <summary>
/// An attribution window (statistics contract, rule 13): only converts within <see cref="Days"/> days of a user's first
/// assign count; with <see cref="MatureOnly"/>, only users whose window has closed by the experiment's last event
/// (its latest first assign or convert) count at all. Renewals keep accruing while a test runs; a window puts every arm
/// on the same footing.
/// </summary>
public sealed record Attribution(int Days, bool MatureOnly = false)
{
    /// <summary>The longest window accepted (ten years).</summary>
    public const int MaxDays = 3650;

    /// <summary>The window the options ask for: null without <paramref name="days"/>.</summary>
    /// <exception cref="Errors.InvalidInputException">Days outside 1–3650, or <paramref name="matureOnly"/> without days.</exception>
    public static Attribution? From(int? days, bool matureOnly) => (days, matureOnly) switch
    {
        (null, false) => null,
        (null, true) => throw new Errors.InvalidInputException("mature_only needs attribution_days: the window whose close makes a user mature", "mature_only"),
        ({ } d, _) when d is < 1 or > MaxDays =>
            throw new Errors.InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                $"attribution_days must be a whole number of days from 1 to {MaxDays}; got {d}"),
                "attribution_days"),
        ({ } d, var mature) => new Attribution(d, mature),
    };
}
