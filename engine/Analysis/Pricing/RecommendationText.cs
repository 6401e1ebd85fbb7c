using System.Globalization;
using PricingOptimizer.Pricing.Demand;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Pricing;

/// <summary>The English of a recommendation: the reasons behind it and the next steps, each citing its numbers.</summary>
internal sealed class RecommendationText(RecommendationRequest request, string? currency, double charmMaxLoss, double fitLevel)
{
    /// <summary>The change in goal value per user a follow-up test beyond an edge should be able to see.</summary>
    private const double FollowUpEffect = 0.05;

    /// <summary>Stacking weights closer than this to the heaviest family's are described as near-equal.</summary>
    private const double NearEqualWeights = 0.03;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly string unit = currency is null ? "" : " " + currency;

    private string Noun => request.Goal switch
    {
        Goal.Revenue => "revenue",
        Goal.Profit => "profit",
        _ => "conversion rate",
    };

    public (string, string) TooFewPrices(PricePoint[] points, int wellTested, int minPrices, int minUsers)
    {
        var perPrice = points.Length == 0 ? "no users yet" : string.Join(", ", points.Select(p => F($"{p.Price:0.00}: {p.Users:N0}")));
        var have = wellTested switch
        {
            0 => $"No tested price has {minUsers:N0} users yet",
            1 => $"Only 1 tested price has at least {minUsers:N0} users",
            _ => $"Only {wellTested} tested prices have at least {minUsers:N0} users",
        };
        return (F($"{have} (users per price: {perPrice}); a price curve needs {minPrices}."),
            F($"Keep the experiment running until at least {minPrices} prices have {minUsers:N0} users each."));
    }

    public (string, string) TooFewConversions(long users, long conversions, int needed) =>
        (F($"There are {conversions:N0} conversions among {users:N0} users; a price curve needs at least {needed:N0}."),
            F($"Keep the experiment running until it has {needed:N0} conversions."));

    public (string, string) FloorAboveData(decimal floor, decimal allowedHigh, decimal high, double margin) =>
        (F($"The price floor {floor:0.00}{unit} is above the highest price the data support ({allowedHigh:0.00}: the highest tested price {high:0.00}{(margin > 0 ? F($" plus {margin * 100:0.#}%") : "")})."),
            F($"Test prices at or above {floor:0.00} before asking for a recommendation with this floor."));

    public (string, string) CostAboveData(decimal cost, decimal allowedHigh) =>
        (F($"The unit cost {cost:0.00}{unit} is at or above the highest price the data support ({allowedHigh:0.00}), so no price they cover makes a profit."),
            F($"Test prices above {cost:0.00}."));

    public (string, string) RevenueFloorUnreachable(decimal low, decimal high, decimal price, double revenue) =>
        (F($"No price from {low:0.00} to {high:0.00}{unit} is expected to bring the revenue floor of {request.RevenueFloor:0.00} per user; the most is {revenue:0.000} at {price:0.00}."),
            "Lower the revenue floor, or test prices outside the tested range.");

    public List<string> Reasoning(Recommendation r, PricePoint[] points, PriceSearch search, IReadOnlyList<IDemandFamily> families, int folds,
        (decimal Price, double Value)? charmCandidate, Edge edge)
    {
        var sentences = new List<string>
        {
            F($"{points.Length} prices from {r.TestedPriceRange![0]:0.00} to {r.TestedPriceRange[1]:0.00}{unit} were tested on {r.Users:N0} users, {r.Conversions:N0} of whom bought."),
        };

        var weighted = r.Models.Where(m => m.Weight >= 0.005).OrderByDescending(m => m.Weight)
            .Select(m => F($"{m.Name} {m.Weight * 100:0}%")).ToList();
        sentences.Add(F($"{families.Count} demand families were fitted and weighted by how well they predicted held-out users ({folds}-fold stacking): {string.Join(", ", weighted)}."));
        var buyerWeights = r.RevenueModels.Where(m => m.Weight >= 0.005).OrderByDescending(m => m.Weight).Select(m => F($"{m.Name} {m.Weight * 100:0}%")).ToList();
        if (buyerWeights.Count > 0)
        {
            sentences.Add(F($"What a buyer pays ({Noun} per buyer: baskets, renewals, add-ons, as the readout counts them) was modelled as a function of price beside demand and weighted on held-out buyers: {string.Join(", ", buyerWeights)}; the expected {Noun} per user is the buying rate times it."));
        }

        // Weights within a few points of the top one are a tie: the blend decides, and the text says so rather than name one family.
        var top = r.Models.Where(m => m.FitsData).Select(m => m.Weight).DefaultIfEmpty(0).Max();
        var tied = r.Models.Where(m => m.FitsData && top - m.Weight < NearEqualWeights).OrderByDescending(m => m.Weight).ToList();
        if (tied.Count > 1)
        {
            sentences.Add(F($"No family stands out: {string.Join(", ", tied.Select(m => m.Name))} carry near-equal weights ({(Math.Round(tied[^1].Weight * 100) == Math.Round(top * 100) ? F($"{top * 100:0}%") : F($"{tied[^1].Weight * 100:0}–{top * 100:0}%"))} each), so the curve is their blend rather than any one shape."));
        }
        else if (families.FirstOrDefault(f => f.Name == r.Model) is { } heaviest)
        {
            sentences.Add(F($"The heaviest, {heaviest.Name}, is {heaviest.Description}."));
        }
        if (r.Models.FirstOrDefault(m => m.Name == IsotonicFamily.FamilyName) is { Weight: 0, FitsData: true })
        {
            sentences.Add("The shape-free curve carries no weight: it goes through every noisy observed rate, so it is used only when no smooth family fits them.");
        }

        var dropped = r.Models.Where(m => !m.FitsData).Select(m => m.Name).ToList();
        if (dropped.Count > 0)
        {
            sentences.Add(F($"Dropped because they miss the observed rates at the tested prices (deviance test at {fitLevel * 100:0.##}%): {string.Join(", ", dropped)}."));
        }

        var elasticity = search.Elasticity((double)r.OptimalPrice!.Value);
        sentences.Add(F($"The expected {Noun} per assigned user peaks at {r.OptimalPrice:0.00}{unit} ({Show(r.OptimalExpectedValue!.Value)}); there a 1% higher price loses about {-elasticity:0.00}% of buyers."));
        if (request.Goal == Goal.Conversions)
        {
            sentences.Add(request.RevenueFloor is { } floor
                ? F($"It is the price with the most buyers that is expected to keep revenue per user at or above the floor of {floor:0.00}.")
                : F($"It is the price with the most buyers at or above the floor of {request.PriceFloor:0.00}."));
        }

        if (edge != Edge.None)
        {
            var side = edge == Edge.Upper ? "highest" : "lowest";
            sentences.Add(r.ExtrapolationMargin > 0
                ? F($"That is at the {side} price allowed ({(edge == Edge.Upper ? r.AllowedPriceRange![1] : r.AllowedPriceRange![0]):0.00}: the tested range widened by {r.ExtrapolationMargin * 100:0.#}%), so the best price may lie further out; the search does not go beyond it.")
                : F($"That is at the {side} tested price, so the best price may lie beyond it; without an extrapolation margin the search stays within the tested prices."));
        }

        if (charmCandidate is null)
        {
            sentences.Add(F($"The optimum {r.OptimalPrice:0.00} already has a charm ending, or none lies within the allowed prices."));
        }
        else
        {
            var (price, value) = charmCandidate.Value;
            sentences.Add(r.CharmApplied
                ? F($"The charm price {price:0.00} is recommended over the exact optimum {r.OptimalPrice:0.00}: it expects {Show(value)}, within the allowed {CharmLossText()} of the optimum's {Show(r.OptimalExpectedValue!.Value)}.")
                : F($"The nearest charm price worth considering, {price:0.00}, expects {Show(value)}: more than {CharmLossText()} below the optimum's {Show(r.OptimalExpectedValue!.Value)}, so the exact optimum is recommended."));
        }

        if (r.Extrapolated)
        {
            sentences.Add(F($"{r.RecommendedPrice:0.00} lies outside the tested prices: it was allowed by an extrapolation margin of {r.ExtrapolationMargin * 100:0.#}% and rests on the curves' shape beyond the data, not on observed buyers."));
        }

        sentences.Add(F($"At {r.RecommendedPrice:0.00} the expected {Noun} is {Show(r.ExpectedValue!.Value)} per user (95% interval {Show(r.ExpectedValueCi![0])} to {Show(r.ExpectedValueCi[1])}), against {Show(r.ControlExpectedValue!.Value)} at the control's {r.ControlPrice:0.00}."));
        if (r.BestTestedPrice is { } best)
        {
            sentences.Add(best == r.RecommendedPrice
                ? F($"It is also the tested price with the best observed {Noun} ({Show(r.BestTestedExpectedValue!.Value)} per user).")
                : F($"The tested price with the best observed {Noun} is {best:0.00} ({Show(r.BestTestedExpectedValue!.Value)} per user, a figure that flatters the winner of several noisy ones); the curves, which pool every price, expect {Show(search.Mean(best))} there."));
        }

        sentences.Add(r.RecommendedPrice == r.ControlPrice
            ? "The recommended price is the control's own price, so there is nothing to switch to (confidence 50% by convention)."
            : F($"The recommended price beats the control in {r.Confidence * 100:0.0}% of {r.Draws:N0} bootstrap draws, each refitting every family and the weights on resampled users."));
        return sentences;
    }

    public List<string> NextSteps(Recommendation r, PricePoint[] points, VariantStats control, PriceSearch search, Edge edge)
    {
        var steps = new List<string>();
        var recommended = r.RecommendedPrice!.Value;
        if (edge != Edge.None)
        {
            var at = edge == Edge.Upper ? r.AllowedPriceRange![1] : r.AllowedPriceRange![0];
            var factors = edge == Edge.Upper ? new[] { 1.15m, 1.3m } : [0.87m, 0.75m];
            var prices = factors.Select(f => Math.Round(at * f, 2)).Where(p => request.PriceFloor is not { } floor || p >= floor).ToList();
            var value = search.Mean(at);
            var variance = search.Variance(at);
            if (prices.Count > 0 && Math.Abs(value) > 1e-12 && variance > 0)
            {
                var needed = Power.UsersPerGroupForMeans(FollowUpEffect * value, variance, variance);
                steps.Add(F($"Test {string.Join(" and ", prices.Select(p => p.ToString("0.00", Invariant)))}{unit} beyond the {(edge == Edge.Upper ? "upper" : "lower")} edge against {at:0.00}, with about {needed:N0} users per price: enough for 80% power to see a {FollowUpEffect * 100:0}% change in {Noun} per user. Today's data cannot say where the {Noun} turns."));
            }
        }

        if (recommended == control.Price)
        {
            steps.Add(F($"Keep the control price {control.Price:0.00}."));
            return steps;
        }

        if (r.Confidence >= 0.95)
        {
            steps.Add(F($"Move to {recommended:0.00}; keep about 10% of users on {control.Price:0.00} for two weeks to confirm the gain."));
            return steps;
        }

        var difference = r.ExpectedValue!.Value - r.ControlExpectedValue!.Value;
        var varianceRecommended = search.Variance(recommended);
        var varianceControl = search.Variance(control.Price);
        if (Math.Abs(difference) < 1e-12 || varianceRecommended + varianceControl <= 0)
        {
            steps.Add(F($"{recommended:0.00} and {control.Price:0.00} are expected to do the same; keep the control unless other reasons favour a change."));
            return steps;
        }

        var users = Power.UsersPerGroupForMeans(difference, varianceRecommended, varianceControl);
        if (users > Math.Max(1_000_000, 100 * r.Users))
        {
            steps.Add(F($"The expected difference between {recommended:0.00} and {control.Price:0.00} ({Show(difference)} per user) is too small to confirm by testing at a practical size (about {users:N0} users per price for 80% power); choose between them on other grounds, or test prices further apart."));
            return steps;
        }

        var tested = points.Where(p => (decimal)p.Price == recommended).Select(p => (long?)p.Users).FirstOrDefault();
        if (tested is { } have)
        {
            var per = Math.Min(have, control.Users);
            steps.Add(users > per
                ? F($"Keep the test running: {users - per:N0} more users per price ({users:N0} each) give 80% power to tell {recommended:0.00} from {control.Price:0.00} on the expected difference of {Show(difference)} per user.")
                : F($"The current {per:N0} users per price already give 80% power for the expected difference of {Show(difference)} per user; confidence is {r.Confidence * 100:0}% because the observed gap is smaller than expected — decide on cost and risk."));
        }
        else
        {
            steps.Add(F($"Run a follow-up test of {recommended:0.00} against {control.Price:0.00}: about {users:N0} users per price give 80% power to detect the expected difference of {Show(difference)} per user."));
        }

        return steps;
    }

    private string CharmLossText() => F($"{charmMaxLoss * 100:0.##}%");

    private string Show(double value) => request.Goal == Goal.Conversions ? (value * 100).ToString("0.00", Invariant) + "%" : value.ToString("0.000",
        Invariant);

    private static string F(FormattableString text) => text.ToString(Invariant);
}
