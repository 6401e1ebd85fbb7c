using System.Globalization;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pricing;

/// <summary>
/// Recommends a price for a goal from an experiment's users: picks the demand model (log-log or ML.NET) with the
/// lower held-out log-loss, refits it on everyone, searches the tested range (widened by the extrapolation margin
/// only) for the price that maximises the goal value per assigned user, rounds to a charm ending only when that keeps
/// the expected value within the optimum's 95% interval, and takes intervals and confidence from seeded posterior
/// draws of the curve.
/// </summary>
public sealed class Recommender(RecommendationOptions options, CharmPricing charm)
{
    private const double PowerZ = 1.959963984540054 + 0.8416212335729143; // two-sided 5%, 80% power
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <param name="tenantId">The tenant.</param>
    /// <param name="experimentId">The experiment.</param>
    /// <param name="users">The experiment's counted users (<see cref="DemandObservation"/>).</param>
    /// <param name="controlVariantId">The variant the recommendation is compared with; must have users.</param>
    /// <param name="request">Goal, unit cost, floors (already checked with <see cref="RecommendationRequest.Problem"/>).</param>
    /// <param name="properties">Event properties the ML.NET model uses as features.</param>
    /// <param name="currency">The prices' currency, for the sentences.</param>
    public Recommendation Recommend(string tenantId, string experimentId, IReadOnlyList<DemandObservation> users, string controlVariantId,
        RecommendationRequest request, IReadOnlyList<string> properties, string? currency)
    {
        var variants = DemandData.ByVariant(users);
        var conversions = users.LongCount(u => u.Converted);
        var unit = currency is null ? "" : " " + currency;
        var shell = new Recommendation
        {
            TenantId = tenantId,
            ExperimentId = experimentId,
            Goal = request.Goal.ToWire(),
            Status = "insufficient_data",
            ControlVariantId = controlVariantId,
            TestedPriceRange = variants.Count == 0 ? null : [variants.Min(v => v.Price), variants.Max(v => v.Price)],
            UnitCost = request.UnitCost,
            PriceFloor = request.PriceFloor,
            RevenueFloor = request.RevenueFloor,
            Currency = currency,
            Users = users.Count,
            Conversions = conversions,
            Draws = options.Draws,
        };

        var wellTested = variants.Where(v => v.Users >= options.MinUsersPerPrice).Select(v => v.Price).Distinct().Count();
        if (wellTested < options.MinPrices)
        {
            var perPrice = variants.Count == 0 ? "no users yet" : string.Join(", ", variants.Select(v => F($"{v.Price:0.00}: {v.Users:N0}")));
            return Insufficient(shell,
                F($"Only {wellTested} tested price(s) have at least {options.MinUsersPerPrice:N0} users (users per price: {perPrice}); a price curve needs {options.MinPrices}."),
                F($"Keep the experiment running until at least {options.MinPrices} prices have {options.MinUsersPerPrice:N0} users each."));
        }

        if (conversions < options.MinConversions)
        {
            return Insufficient(shell,
                F($"There are {conversions:N0} conversions among {users.Count:N0} users; a price curve needs at least {options.MinConversions:N0}."),
                F($"Keep the experiment running until it has {options.MinConversions:N0} conversions."));
        }

        var control = variants.FirstOrDefault(v => v.VariantId == controlVariantId)
            ?? throw new ArgumentException($"control '{controlVariantId}' has no users", nameof(controlVariantId));
        var low = variants.Min(v => v.Price);
        var high = variants.Max(v => v.Price);
        var margin = (decimal)options.ExtrapolationMargin;
        var allowedLow = Math.Ceiling(low * (1 - margin) * 100) / 100;
        var allowedHigh = Math.Floor(high * (1 + margin) * 100) / 100;
        if (request.PriceFloor is { } floor)
        {
            if (floor > allowedHigh)
            {
                return Insufficient(shell,
                    F($"The price floor {floor:0.00}{unit} is above the highest price the data supports ({allowedHigh:0.00}: the highest tested price {high:0.00} plus {margin * 100:0}%)."),
                    F($"Test prices at or above {floor:0.00} before asking for a recommendation with this floor."));
            }

            allowedLow = Math.Max(allowedLow, floor);
        }

        if (request.Goal == Goal.Profit && request.UnitCost >= allowedHigh)
        {
            return Insufficient(shell,
                F($"The unit cost {request.UnitCost:0.00}{unit} is at or above the highest price the data supports ({allowedHigh:0.00}), so no price it covers makes a profit."),
                F($"Test prices above {request.UnitCost:0.00}."));
        }

        // The models compared on held-out users, then refitted on everyone and weighted by their held-out likelihood.
        var comparison = CompareModels(users, properties);
        var weights = Weights(comparison);
        var parts = new List<(IDemandCurve Curve, double Weight)>();
        foreach (var (model, weight) in weights)
        {
            IDemandCurve? fitted = model switch
            {
                LogLogCurve.Name => PriceResponse.Fit(variants, out _) is { } fit ? new LogLogCurve(fit) : null,
                _ => new LogisticCurve(MlDemandModel.Train(users, properties, options.Seed), users, options.Seed),
            };
            if (fitted is not null)
            {
                parts.Add((fitted, weight));
            }
        }

        if (parts.Count == 0)
        {
            return Insufficient(shell with { ModelComparison = comparison },
                "Neither demand model could be fitted: the log-log curve needs three prices with some but not all users converting, and the ML.NET model needs buyers and non-buyers.",
                "Keep the experiment running until several prices have both buyers and non-buyers.");
        }

        var total = parts.Sum(p => p.Weight);
        var curve = new MixtureCurve([.. parts.Select(p => (p.Curve, p.Weight / total))]);

        double Value(decimal price, double rate) => request.Goal switch
        {
            Goal.Revenue => (double)price * rate,
            Goal.Profit => (double)(price - request.UnitCost!.Value) * rate,
            _ => rate,
        };
        bool Feasible(decimal price) => request.RevenueFloor is not { } revenueFloor || (double)price * curve.Rate((double)price) >= (double)revenueFloor;

        // The optimum of the fitted curve on a grid of (at most ~4,000) whole-cent prices.
        var step = Math.Max(0.01m, Math.Ceiling((allowedHigh - allowedLow) / 4000 * 100) / 100);
        decimal? optimal = null;
        var best = double.NegativeInfinity;
        for (var price = allowedLow; price <= allowedHigh; price += step)
        {
            var value = Value(price, curve.Rate((double)price));
            if (Feasible(price) && value > best)
            {
                (best, optimal) = (value, price);
            }
        }

        if (optimal is not { } optimum)
        {
            var bestRevenue = Enumerable.Range(0, (int)((allowedHigh - allowedLow) / step) + 1).Select(i => allowedLow + (i * step))
                .Select(p => (Price: p, Revenue: (double)p * curve.Rate((double)p))).MaxBy(x => x.Revenue);
            return Insufficient(shell with { ModelComparison = comparison, Model = curve.Model },
                F($"No price from {allowedLow:0.00} to {allowedHigh:0.00}{unit} is expected to bring the revenue floor of {request.RevenueFloor:0.00} per user; the most is {bestRevenue.Revenue:0.000} at {bestRevenue.Price:0.00}."),
                "Lower the revenue floor, or test prices outside the tested range.");
        }

        var posterior = curve.Posterior(options.Draws, options.Seed);
        double[] DrawsAt(decimal price) => [.. posterior.At((double)price).Select(rate => Value(price, rate))];

        var optimalDraws = DrawsAt(optimum);
        var optimalLower = Quantile(optimalDraws, 0.025);
        decimal recommended = optimum;
        var charmApplied = false;
        string charmSentence;
        if (charm.IsCharm(optimum))
        {
            charmSentence = F($"The optimum {optimum:0.00} already has a charm ending.");
        }
        else
        {
            var candidates = charm.Candidates(optimum).Where(c => c >= allowedLow && c <= allowedHigh && Feasible(c))
                .Select(c => (Price: c, Mean: DrawsAt(c).Average())).OrderByDescending(c => c.Mean).ToList();
            var accepted = candidates.Where(c => c.Mean >= optimalLower).ToList();
            if (accepted.Count > 0)
            {
                recommended = accepted[0].Price;
                charmApplied = true;
                charmSentence = F($"The charm price {recommended:0.00} is recommended over the exact optimum {optimum:0.00}: its expected {GoalNoun(request.Goal)} of {Show(request.Goal, accepted[0].Mean)} stays within the optimum's 95% interval (lower end {Show(request.Goal, optimalLower)}).");
            }
            else
            {
                charmSentence = candidates.Count == 0
                    ? F($"No charm ending near {optimum:0.00} lies inside the allowed prices, so the exact optimum is recommended.")
                    : F($"No charm price near {optimum:0.00} keeps the expected {GoalNoun(request.Goal)} within the optimum's 95% interval (the best, {candidates[0].Price:0.00}, expects {Show(request.Goal, candidates[0].Mean)} against a lower end of {Show(request.Goal, optimalLower)}), so the exact optimum is recommended.");
            }
        }

        var recommendedDraws = charmApplied ? DrawsAt(recommended) : optimalDraws;
        var controlDraws = DrawsAt(control.Price);
        var wins = 0.0;
        for (var d = 0; d < recommendedDraws.Length; d++)
        {
            wins += recommendedDraws[d] > controlDraws[d] ? 1 : recommendedDraws[d] == controlDraws[d] ? 0.5 : 0;
        }

        var confidence = wins / recommendedDraws.Length;
        var expected = recommendedDraws.Average();
        var controlExpected = controlDraws.Average();
        var result = shell with
        {
            Status = "ok",
            Model = curve.Model,
            ModelWeights = curve.Parts.ToDictionary(p => p.Curve.Model, p => p.Weight),
            ModelComparison = comparison,
            OptimalPrice = optimum,
            RecommendedPrice = recommended,
            CharmApplied = charmApplied,
            ExpectedValue = expected,
            ExpectedValueCi = [Quantile(recommendedDraws, 0.025), Quantile(recommendedDraws, 0.975)],
            OptimalExpectedValue = optimalDraws.Average(),
            ControlPrice = control.Price,
            ControlExpectedValue = controlExpected,
            Confidence = confidence,
            AllowedPriceRange = [allowedLow, allowedHigh],
            ValueCurve = [.. Enumerable.Range(0, 61).Select(i => Math.Round(allowedLow + ((allowedHigh - allowedLow) * i / 60), 2))
                .Select(p => new ValuePoint(p, Value(p, curve.Rate((double)p))))],
        };

        // At the edge of what the data supports (not at a floor the caller set), the curve may keep rising outside it.
        var dataLow = Math.Ceiling(low * (1 - margin) * 100) / 100;
        var atEdge = (allowedLow == dataLow && optimum - allowedLow < step * 2) || allowedHigh - optimum < step * 2;
        return result with
        {
            Reasoning = Reasoning(result, request, variants, comparison, curve, charmSentence, atEdge, low, high, unit),
            NextSteps = NextSteps(result, request, variants, control, curve, atEdge, allowedLow, allowedHigh, low, high),
        };
    }

    /// <summary>
    /// Both models scored by seeded k-fold cross-validation: each user is predicted by models fitted without their
    /// fold, so every user is held out once and the comparison uses all of them. Returns the held-out figures of each
    /// model that could be fitted on every fold, and the name of the one with the lower log-loss.
    /// </summary>
    private List<ModelEvaluation> CompareModels(IReadOnlyList<DemandObservation> users, IReadOnlyList<string> properties)
    {
        var folds = users.Select(u => DemandData.Fold(u.UserId, options.Seed, options.Folds)).ToArray();
        double[]? logLog = new double[users.Count], logistic = new double[users.Count];
        for (var fold = 0; fold < options.Folds; fold++)
        {
            var train = users.Where((_, i) => folds[i] != fold).ToList();
            var fit = logLog is null ? null : PriceResponse.Fit(DemandData.ByVariant(train), out _);
            MlDemandModel? model = null;
            try
            {
                model = logistic is null ? null : MlDemandModel.Train(train, properties, options.Seed);
            }
            catch (InsufficientDemandDataException)
            {
                // This model cannot be compared; the other may still serve.
            }

            logLog = fit is null ? null : logLog;
            logistic = model is null ? null : logistic;
            var curve = fit is null ? null : new LogLogCurve(fit);
            for (var i = 0; i < users.Count; i++)
            {
                if (folds[i] == fold)
                {
                    logLog?[i] = curve!.Rate((double)users[i].Price);
                    logistic?[i] = model!.Probability(users[i]);
                }
            }
        }

        var labels = users.Select(u => u.Converted).ToList();
        var comparison = new List<ModelEvaluation>();
        if (logLog is not null)
        {
            comparison.Add(ModelMetrics.Evaluate(LogLogCurve.Name, labels, logLog));
        }

        if (logistic is not null)
        {
            comparison.Add(ModelMetrics.Evaluate(MlDemandModel.Name, labels, logistic));
        }

        return comparison;
    }

    /// <summary>
    /// Pseudo-Bayesian model averaging: each model's weight is proportional to exp(its summed held-out
    /// log-likelihood), so a model that predicts clearly better takes (nearly) all the weight and a near tie splits it.
    /// </summary>
    internal static List<(string Model, double Weight)> Weights(IReadOnlyList<ModelEvaluation> comparison)
    {
        if (comparison.Count == 0)
        {
            return [];
        }

        var logLikelihood = comparison.Select(e => -e.LogLoss * e.Users).ToArray();
        var max = logLikelihood.Max();
        var raw = logLikelihood.Select(l => Math.Exp(l - max)).ToArray();
        var sum = raw.Sum();
        return [.. comparison.Select((e, i) => (e.Model, raw[i] / sum))];
    }

    private List<string> Reasoning(Recommendation r, RecommendationRequest request, List<VariantStats> variants, List<ModelEvaluation> comparison,
        IDemandCurve curve, string charmSentence, bool atEdge, decimal low, decimal high, string unit)
    {
        var goal = request.Goal;
        var sentences = new List<string>
        {
            F($"{variants.Count} prices from {low:0.00} to {high:0.00}{unit} were tested on {r.Users:N0} users, {r.Conversions:N0} of whom bought."),
            "Observed " + GoalNoun(goal) + " per assigned user: " + string.Join(", ", variants.Select(v =>
                F($"{v.Price:0.00} → {Show(goal, ObservedValue(goal, v, request.UnitCost))}"))) + ".",
        };

        var evaluated = comparison.OrderBy(e => e.LogLoss).ToList();
        var weightOf = r.ModelWeights ?? new Dictionary<string, double>();
        if (evaluated.Count == 2)
        {
            var better = evaluated[0];
            var share = weightOf.GetValueOrDefault(better.Model);
            sentences.Add(F($"Held out in {options.Folds}-fold cross-validation, the {Describe(better.Model)} predicted buying better (log-loss {better.LogLoss:0.00000} against {evaluated[1].LogLoss:0.00000} for the {Describe(evaluated[1].Model)})."));
            sentences.Add(share >= 0.995
                ? F($"Weighted by held-out likelihood it carries {share * 100:0.0}% of the weight, so it alone is used, refitted on all users.")
                : F($"The difference is small for {better.Users:N0} users: weighted by held-out likelihood the {Describe(better.Model)} carries {share * 100:0.0}% and the {Describe(evaluated[1].Model)} {(1 - share) * 100:0.0}%, and the figures below average over both (refitted on all users)."));
        }
        else
        {
            sentences.Add(F($"Only the {Describe(curve.Model)} could be fitted, so it is used."));
        }

        var elasticity = Elasticity(curve, (double)r.OptimalPrice!.Value);
        sentences.Add(F($"The expected {GoalNoun(goal)} per assigned user peaks at {r.OptimalPrice:0.00}{unit} ({Show(goal, r.OptimalExpectedValue!.Value)}); there a 1% higher price loses about {-elasticity:0.00}% of buyers."));
        if (request.Goal == Goal.Conversions)
        {
            sentences.Add(request.RevenueFloor is { } floor
                ? F($"It is the lowest price expected to keep revenue per user at or above the floor of {floor:0.00}.")
                : F($"It is the lowest price at or above the floor of {request.PriceFloor:0.00}."));
        }

        if (atEdge)
        {
            sentences.Add(F($"That is at the edge of the allowed prices ({r.AllowedPriceRange![0]:0.00}–{r.AllowedPriceRange[1]:0.00}: the tested range widened by the extrapolation margin), so the best price may lie further out; the recommendation does not go beyond it."));
        }

        sentences.Add(charmSentence);
        sentences.Add(F($"At {r.RecommendedPrice:0.00} the expected {GoalNoun(goal)} is {Show(goal, r.ExpectedValue!.Value)} (95% interval {Show(goal, r.ExpectedValueCi![0])} to {Show(goal, r.ExpectedValueCi[1])}), against {Show(goal, r.ControlExpectedValue!.Value)} at the control's {r.ControlPrice:0.00}."));
        sentences.Add(r.RecommendedPrice == r.ControlPrice
            ? "The recommended price is the control's own price, so there is nothing to switch to (confidence 50% by convention)."
            : F($"The recommended price beats the control in {r.Confidence * 100:0.0}% of {r.Draws:N0} posterior draws of the curve."));
        return sentences;
    }

    private static List<string> NextSteps(Recommendation r, RecommendationRequest request, List<VariantStats> variants, VariantStats control,
        IDemandCurve curve, bool atEdge, decimal allowedLow, decimal allowedHigh, decimal low, decimal high)
    {
        var steps = new List<string>();
        var recommended = r.RecommendedPrice!.Value;
        if (atEdge)
        {
            var beyond = r.OptimalPrice >= high ? Math.Round(high * 1.2m, 2) : Math.Round(low * 0.8m, 2);
            steps.Add(F($"Test a price beyond the tested range (for example {beyond:0.00}) to find where the {GoalNoun(request.Goal)} turns; today's data cannot say."));
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
        var variance = PerUserVariance(request, recommended, curve) + PerUserVariance(request, control.Price, curve);
        if (Math.Abs(difference) < 1e-12)
        {
            steps.Add(F($"{recommended:0.00} and {control.Price:0.00} are expected to do the same; keep the control unless other reasons favour a change."));
            return steps;
        }

        var needed = Math.Ceiling(PowerZ * PowerZ * variance / (difference * difference));
        if (needed > Math.Max(1_000_000, 100.0 * r.Users))
        {
            steps.Add(F($"The expected difference between {recommended:0.00} and {control.Price:0.00} ({Show(request.Goal, difference)} per user) is too small to confirm by testing at a practical size (about {needed:N0} users per price for 80% power); choose between them on other grounds, or test prices further apart."));
            return steps;
        }

        var tested = variants.FirstOrDefault(v => v.Price == recommended);
        if (tested is not null)
        {
            var have = (double)Math.Min(tested.Users, control.Users);
            steps.Add(needed > have
                ? F($"Keep the test running: {needed - have:N0} more users per variant ({needed:N0} each) give 80% power to tell {recommended:0.00} from {control.Price:0.00} on the expected difference of {Show(request.Goal, difference)} per user.")
                : F($"The current {have:N0} users per variant already give 80% power for the expected difference of {Show(request.Goal, difference)} per user; confidence is {r.Confidence * 100:0}% because the observed gap is smaller than expected — decide on cost and risk."));
        }
        else
        {
            steps.Add(F($"Run a follow-up test of {recommended:0.00} against {control.Price:0.00}: about {needed:N0} users per price give 80% power to detect the expected difference of {Show(request.Goal, difference)} per user."));
        }

        return steps;
    }

    private static double PerUserVariance(RecommendationRequest request, decimal price, IDemandCurve curve)
    {
        var rate = curve.Rate((double)price);
        var scale = request.Goal switch
        {
            Goal.Revenue => (double)price,
            Goal.Profit => (double)(price - request.UnitCost!.Value),
            _ => 1.0,
        };
        return scale * scale * rate * (1 - rate);
    }

    private static double ObservedValue(Goal goal, VariantStats v, decimal? unitCost) => goal switch
    {
        Goal.Revenue => (double)v.Revenue / v.Users,
        Goal.Profit => (double)(v.Revenue - (v.Conversions * unitCost!.Value)) / v.Users,
        _ => (double)v.Conversions / v.Users,
    };

    /// <summary>d ln(rate) / d ln(price) at <paramref name="price"/>, numerically.</summary>
    private static double Elasticity(IDemandCurve curve, double price)
    {
        const double h = 1e-3;
        return (Math.Log(curve.Rate(price * (1 + h))) - Math.Log(curve.Rate(price * (1 - h)))) / (Math.Log(1 + h) - Math.Log(1 - h));
    }

    private static string GoalNoun(Goal goal) => goal switch
    {
        Goal.Revenue => "revenue",
        Goal.Profit => "profit",
        _ => "conversion rate",
    };

    private static string Show(Goal goal, double value) => goal == Goal.Conversions ? (value * 100).ToString("0.00", Invariant) + "%" : value.ToString("0.000", Invariant);

    private static string Describe(string model) => model == LogLogCurve.Name ? "log-log curve" : "ML.NET logistic model";

    private static double Quantile(double[] values, double q)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return MathNet.Numerics.Statistics.SortedArrayStatistics.Quantile(sorted, q);
    }

    private static Recommendation Insufficient(Recommendation shell, string reason, string nextStep) =>
        shell with { Status = "insufficient_data", Reasoning = [reason], NextSteps = [nextStep] };

    private static string F(FormattableString text) => text.ToString(Invariant);
}
