using System.Globalization;
using PricingOptimizer.Pricing.Buyers;
using PricingOptimizer.Pricing.Demand;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Pricing;

/// <summary>
/// Recommends a price for a goal from an experiment's per-price counts and what its buyers paid: stacks the demand
/// families (<see cref="DemandFamilies"/>) on held-out users and the revenue-per-buyer families
/// (<see cref="BuyerValueFamilies"/>) on held-out buyers, takes draws that refit both stacks
/// (<see cref="DemandPosterior"/>, <see cref="BuyerValuePosterior"/>), searches the tested range — beyond it only with an explicit margin — for the
/// price with the best expected goal value (<see cref="PriceSearch"/>), rounds to a charm ending only when that costs
/// almost nothing, and explains itself (<see cref="RecommendationText"/>).
/// </summary>
public sealed class Recommender(RecommendationOptions options, CharmPricing charm, IReadOnlyList<IDemandFamily>? families = null,
    IReadOnlyList<IBuyerValueFamily>? buyerFamilies = null)
{
    private readonly IReadOnlyList<IDemandFamily> families = families ?? DemandFamilies.Default;
    private readonly IReadOnlyList<IBuyerValueFamily> buyerFamilies = buyerFamilies ?? BuyerValueFamilies.Default;
    private PriceSearch? lastSearch;

    /// <param name="tenantId">The tenant.</param>
    /// <param name="experimentId">The experiment.</param>
    /// <param name="variants">Per-variant counted users and buyers (the readout's sufficient statistics).</param>
    /// <param name="controlVariantId">The variant the recommendation is compared with; must have users.</param>
    /// <param name="request">Goal, unit cost, floors, margin (already checked with <see cref="RecommendationRequest.Problem"/>).</param>
    /// <param name="currency">The prices' currency, for the sentences.</param>
    /// <param name="buyers">
    /// Per variant, the sums over its buyers of what they paid and of their units (capped as the readout caps); null: as
    /// <paramref name="variants"/> imply when each convert's units are its revenue ÷ the price.
    /// </param>
    public Recommendation Recommend(string tenantId, string experimentId, IReadOnlyList<VariantStats> variants, string controlVariantId,
        RecommendationRequest request, string? currency, IReadOnlyList<BuyerSums>? buyers = null)
    {
        lastSearch = null;
        var points = PricePoint.From(variants);
        var users = variants.Sum(v => v.Users);
        var conversions = variants.Sum(v => v.Conversions);
        var margin = request.ExtrapolationMargin ?? options.ExtrapolationMargin;
        var text = new RecommendationText(request, currency, options.CharmMaxLoss, options.FitLevel);
        var shell = new Recommendation
        {
            TenantId = tenantId,
            ExperimentId = experimentId,
            Goal = request.Goal,
            Status = "insufficient_data",
            ControlVariantId = controlVariantId,
            TestedPriceRange = points.Length == 0 ? null : [(decimal)points[0].Price, (decimal)points[^1].Price],
            ExtrapolationMargin = margin,
            UnitCost = request.UnitCost,
            PriceFloor = request.PriceFloor,
            RevenueFloor = request.RevenueFloor,
            CapPercentile = request.CapPercentile,
            AttributionDays = request.AttributionDays,
            MatureOnly = request.AttributionDays is not null && request.MatureOnly,
            Currency = currency,
            Users = users,
            Conversions = conversions,
            Draws = options.Draws,
        };

        var wellTested = points.Count(p => p.Users >= options.MinUsersPerPrice);
        if (wellTested < options.MinPrices)
        {
            return Insufficient(shell, text.TooFewPrices(points, wellTested, options.MinPrices, options.MinUsersPerPrice));
        }

        if (conversions < options.MinConversions)
        {
            return Insufficient(shell, text.TooFewConversions(users, conversions, options.MinConversions));
        }

        var control = variants.FirstOrDefault(v => v.VariantId == controlVariantId && v.Users > 0)
            ?? throw new ArgumentException($"control '{controlVariantId}' has no users", nameof(controlVariantId));
        var low = (decimal)points[0].Price;
        var high = (decimal)points[^1].Price;
        var dataLow = Math.Ceiling(low * (1 - (decimal)margin) * 100) / 100;
        var allowedLow = dataLow;
        var allowedHigh = Math.Floor(high * (1 + (decimal)margin) * 100) / 100;
        if (request.PriceFloor is { } floor)
        {
            if (floor > allowedHigh)
            {
                return Insufficient(shell, text.FloorAboveData(floor, allowedHigh, high, margin));
            }

            allowedLow = Math.Max(allowedLow, floor);
        }

        if (request.Goal == Goal.Profit && request.UnitCost >= allowedHigh)
        {
            return Insufficient(shell, text.CostAboveData(request.UnitCost!.Value, allowedHigh));
        }

        var sums = buyers ?? [.. variants.Select(BuyerSums.From)];
        var observed = Observed(variants, sums, request);
        var posterior = DemandPosterior.Build(points, families, options.Folds, options.Draws, options.FitLevel, options.Seed);
        var goalBuyers = request.Goal == Goal.Conversions ? null : BuyerPosterior(sums, request.Goal, request.UnitCost);
        var revenueBuyers = request.RevenueFloor is null ? null : request.Goal == Goal.Revenue ? goalBuyers : BuyerPosterior(sums, Goal.Revenue, null);
        if (request.Goal != Goal.Conversions && goalBuyers is null)
        {
            return Insufficient(shell, text.TooFewConversions(users, 0, options.MinConversions));
        }

        var search = new PriceSearch(posterior, request, goalBuyers, revenueBuyers);
        lastSearch = search;
        var model = posterior.Models.MaxBy(m => m.Weight)!.Name;
        var revenueModels = goalBuyers?.Models ?? [];
        if (search.Optimum(allowedLow, allowedHigh) is not { } optimum)
        {
            var most = Enumerable.Range(0, 101).Select(i => Math.Round(allowedLow + ((allowedHigh - allowedLow) * i / 100), 2))
                .Select(p => (Price: p, Revenue: search.RevenuePerUser(p))).MaxBy(x => x.Revenue);
            return Insufficient(shell with { Models = posterior.Models, Model = model, RevenueModels = revenueModels },
                text.RevenueFloorUnreachable(allowedLow, allowedHigh, most.Price, most.Revenue));
        }

        var optimalDraws = search.Values(optimum);
        var optimalMean = optimalDraws.Average();
        var (recommended, charmCandidate) = Charm(search, optimum, optimalMean, allowedLow, allowedHigh);
        var recommendedDraws = recommended == optimum ? optimalDraws : search.Values(recommended);
        var controlDraws = search.Values(control.Price);
        var bestTested = BestTested(observed, request);
        var atUpperEdge = allowedHigh - optimum < 0.02m;
        var atLowerEdge = optimum - allowedLow < 0.02m && allowedLow == dataLow;
        var result = shell with
        {
            Status = "ok",
            Model = model,
            Models = posterior.Models,
            RevenueModels = revenueModels,
            OptimalPrice = optimum,
            RecommendedPrice = recommended,
            CharmApplied = recommended != optimum,
            ExpectedValue = recommendedDraws.Average(),
            ExpectedValueCi = [PriceSearch.Quantile(recommendedDraws, 0.025), PriceSearch.Quantile(recommendedDraws, 0.975)],
            OptimalExpectedValue = optimalMean,
            ControlPrice = control.Price,
            ControlExpectedValue = controlDraws.Average(),
            BestTestedPrice = bestTested?.Price,
            BestTestedExpectedValue = bestTested?.Value,
            Confidence = PriceSearch.ChanceToBeat(recommendedDraws, controlDraws),
            Extrapolated = recommended < low || recommended > high,
            AllowedPriceRange = [allowedLow, allowedHigh],
            ValueCurve = [.. Enumerable.Range(0, 61).Select(i => Math.Round(allowedLow + ((allowedHigh - allowedLow) * i / 60), 2))
                .Concat(observed.Select(o => o.Price).Where(p => p >= allowedLow && p <= allowedHigh)).Distinct().Order()
                .Select(p =>
                {
                    var draws = search.Values(p);
                    double? seen = observed.FirstOrDefault(o => o.Price == p) is { Users: > 0 } o ? o.Value : null;
                    return new ValuePoint(p, draws.Average(), PriceSearch.Quantile(draws, 0.025), PriceSearch.Quantile(draws, 0.975), seen);
                })],
        };

        var edge = atUpperEdge ? Edge.Upper : atLowerEdge ? Edge.Lower : Edge.None;
        return result with
        {
            Reasoning = text.Reasoning(result, points, search, families, options.Folds, charmCandidate, edge),
            NextSteps = text.NextSteps(result, points, control, search, edge),
        };
    }

    /// <summary>
    /// The charm price near the optimum with the best expected value, if it loses at most <see cref="RecommendationOptions.CharmMaxLoss"/>
    /// of the optimum's value; otherwise the optimum. Also returns the best candidate considered (for the sentence).
    /// </summary>
    private (decimal Recommended, (decimal Price, double Value)? Candidate) Charm(PriceSearch search, decimal optimum, double optimalMean,
        decimal low, decimal high)
    {
        if (charm.IsCharm(optimum))
        {
            return (optimum, null);
        }

        var best = charm.Candidates(optimum).Where(c => c >= low && c <= high && search.Feasible(c))
            .Select(c => (Price: c, Value: search.Mean(c))).OrderByDescending(c => c.Value).Cast<(decimal, double)?>().FirstOrDefault();
        var accepted = best is { } b && b.Item2 >= optimalMean - (options.CharmMaxLoss * Math.Abs(optimalMean));
        return (accepted ? best!.Value.Item1 : optimum, best);
    }

    /// <summary>
    /// The posterior draws of the goal value per assigned user at each of <paramref name="prices"/>, from the curves the
    /// last <see cref="Recommend"/> of this instance fitted (so a caller that needs them after a recommendation does not
    /// fit the stack twice); null when it fitted none (too few data).
    /// </summary>
    public double[][]? LastValueDraws(IReadOnlyList<decimal> prices) => lastSearch is { } search ? [.. prices.Select(search.Values)] : null;

    /// <summary>
    /// Per variant (in the order of <paramref name="variants"/>), the posterior draws of its goal value per assigned user
    /// at its tested price — the same stacked curves and draws a recommendation stands on, draw d of every variant from
    /// the same refit — or null when a recommendation would say the data are too few (too few well-tested prices or
    /// conversions, no buyers to value).
    /// </summary>
    public double[][]? ValueDraws(IReadOnlyList<VariantStats> variants, RecommendationRequest request, IReadOnlyList<BuyerSums>? buyers = null)
    {
        var points = PricePoint.From(variants);
        if (points.Count(p => p.Users >= options.MinUsersPerPrice) < options.MinPrices || variants.Sum(v => v.Conversions) < options.MinConversions)
        {
            return null;
        }

        var sums = buyers ?? [.. variants.Select(BuyerSums.From)];
        var posterior = DemandPosterior.Build(points, families, options.Folds, options.Draws, options.FitLevel, options.Seed);
        var goalBuyers = request.Goal == Goal.Conversions ? null : BuyerPosterior(sums, request.Goal, request.UnitCost);
        if (request.Goal != Goal.Conversions && goalBuyers is null)
        {
            return null;
        }

        var search = new PriceSearch(posterior, request, goalBuyers, null);
        return [.. variants.Select(v => search.Values(v.Price))];
    }

    private BuyerValuePosterior? BuyerPosterior(IReadOnlyList<BuyerSums> sums, Goal goal, decimal? unitCost)
    {
        var points = BuyerPoint.For(sums, goal, unitCost);
        return points.Length == 0
            ? null
            : BuyerValuePosterior.Build(points, goal == Goal.Profit ? (double)unitCost!.Value : 0, buyerFamilies, options.Folds, options.Draws,
                options.FitLevel, options.Seed);
    }

    /// <summary>
    /// Per tested price, its users and the observed goal value per assigned user as the readout counts it: what buyers
    /// paid (less unit cost × units for profit) over every user shown the price, or the conversion rate; and the observed
    /// revenue per user, for the revenue floor.
    /// </summary>
    internal static IReadOnlyList<ObservedValue> Observed(IEnumerable<VariantStats> variants, IEnumerable<BuyerSums> buyers, RecommendationRequest request)
    {
        var sums = buyers.GroupBy(b => b.Price).ToDictionary(g => g.Key, g => (Revenue: g.Sum(b => b.Revenue), Units: g.Sum(b => b.Units)));
        var cost = (double)(request.UnitCost ?? 0);
        return [.. variants.Where(v => v.Users > 0).GroupBy(v => v.Price).OrderBy(g => g.Key).Select(g =>
        {
            var users = g.Sum(v => v.Users);
            var (revenue, units) = sums.TryGetValue(g.Key, out var s) ? s : (0, 0);
            var value = request.Goal switch
            {
                Goal.Revenue => revenue / users,
                Goal.Profit => (revenue - (cost * units)) / users,
                _ => (double)g.Sum(v => v.Conversions) / users,
            };
            return new ObservedValue(g.Key, users, value, revenue / users);
        })];
    }

    /// <summary>The naive rule: the tested price with the best observed goal value per user, within the floors.</summary>
    internal static (decimal Price, double Value)? BestTested(IEnumerable<ObservedValue> observed, RecommendationRequest request) =>
        observed.Where(o => (request.PriceFloor is not { } floor || o.Price >= floor)
                            && (request.RevenueFloor is not { } revenue || o.RevenuePerUser >= (double)revenue))
            .Select(o => (o.Price, o.Value))
            .Cast<(decimal Price, double Value)?>().MaxBy(p => p!.Value.Value);

    private static Recommendation Insufficient(Recommendation shell, (string Reason, string NextStep) why) =>
        shell with { Status = "insufficient_data", Reasoning = [why.Reason], NextSteps = [why.NextStep] };
}

/// <summary>One tested price's users, observed goal value per user, and observed revenue per user.</summary>
internal readonly record struct ObservedValue(decimal Price, long Users, double Value, double RevenuePerUser);

/// <summary>Where the optimum sits against the prices the data support.</summary>
internal enum Edge
{
    None,
    Lower,
    Upper,
}
