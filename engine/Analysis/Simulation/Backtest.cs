using System.Globalization;
using System.Text;
using MathNet.Numerics.Distributions;
using PricingOptimizer.Pricing;
using PricingOptimizer.Pricing.Buyers;
using PricingOptimizer.Pricing.Demand;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Simulation;

/// <summary>
/// A backtest: a true curve, what its buyers pay (<see cref="Units"/>; null: the price, once), the prices a team would
/// test, users per price, a goal, and how many seeded runs.
/// </summary>
public sealed record BacktestSettings(DemandShape Curve, IReadOnlyList<decimal> Prices, int UsersPerPrice, RecommendationRequest Request, int Runs = 20,
    int Seed = 1, int ControlIndex = 0, BuyerShape? Units = null)
{
    /// <summary>What a buyer pays as a function of price.</summary>
    public BuyerShape Buyers => Units ?? BuyerShape.One;

    /// <summary>The true goal value per assigned user at <paramref name="price"/>: the demand curve's rate times what a buyer brings.</summary>
    public double TrueValue(double price) => Request.Value(price, Curve.Rate(price), Buyers.MeanUnits(price));

    public string? Problem() => this switch
    {
        { Prices.Count: < 2 } => "prices: give at least two prices to test",
        _ when Prices.Any(p => p <= 0) || Prices.Distinct().Count() != Prices.Count => "prices: every price must be positive and different",
        { UsersPerPrice: < 1 } => "users per price must be at least 1",
        { Runs: < 1 } => "runs must be at least 1",
        _ when ControlIndex < 0 || ControlIndex >= Prices.Count => "control: must be one of the tested prices",
        _ => Request.Problem()?.Message,
    };

    public static string VariantId(int index) => DemandSimulator.VariantId(index);
}

/// <summary>
/// One seeded run scored against the truth. Regret is the share of the true optimum's value (over the tested range)
/// lost by charging a price; <see cref="TrulyBeats"/> is 1 when the recommended price truly beats the control, 0.5
/// when it is the control's price, else 0.
/// </summary>
public sealed record BacktestRun(int Seed, string Status, decimal? Recommended, decimal? BestTested, double? Regret, double? BestTestedRegret,
    double? OracleRegret, bool? Covered, double? Confidence, double? TrulyBeats);

/// <summary>The table a backtest prints: mean and worst regret of the advice, the naive rule and the correctly
/// specified model; coverage; calibration.</summary>
public sealed record BacktestSummary(int Runs, int Answered, double TrueOptimalPrice, double TrueOptimalValue, double MeanRegret, double WorstRegret,
    double MeanBestTestedRegret, double WorstBestTestedRegret, double? MeanOracleRegret, double Coverage, double MeanConfidence, double ShareTrulyBeating,
    int ConfidentLosses, IReadOnlyList<(decimal Price, int Times)> Recommended);

public static class Backtest
{
    /// <summary>The true optimum over the tested range for the goal.</summary>
    public static (double Price, double Value) TrueOptimum(BacktestSettings settings) =>
        settings.Curve.Optimum((double)settings.Prices.Min(), (double)settings.Prices.Max(),
            (p, rate) => settings.Request.Value(p, rate, settings.Buyers.MeanUnits(p)));

    /// <summary>
    /// Seeded per-price counts and buyer sums: each of the users at a price buys with the true rate there, and each buyer
    /// pays what <see cref="BacktestSettings.Buyers"/> draws (units: a basket's quantity, else revenue ÷ price).
    /// </summary>
    public static (IReadOnlyList<VariantStats> Variants, IReadOnlyList<BuyerSums> Buyers) Draw(BacktestSettings settings, int seed)
    {
        var random = new Random(seed);
        var variants = new List<VariantStats>();
        var buyers = new List<BuyerSums>();
        foreach (var (price, i) in settings.Prices.Select((price, i) => (price, i)))
        {
            var bought = Binomial.Sample(random, settings.Curve.Rate((double)price), settings.UsersPerPrice);
            decimal revenue = 0;
            double squares = 0, units = 0, unitSquares = 0, cross = 0;
            for (var b = 0; b < bought; b++)
            {
                decimal r = 0;
                double u = 0;
                foreach (var purchase in settings.Buyers.Purchases(random, price))
                {
                    r += purchase.Revenue;
                    u += purchase.Quantity ?? (double)(purchase.Revenue / price);
                }

                revenue += r;
                squares += (double)r * (double)r;
                units += u;
                unitSquares += u * u;
                cross += (double)r * u;
            }

            var id = BacktestSettings.VariantId(i);
            variants.Add(new VariantStats(id, price, settings.UsersPerPrice, bought, revenue, squares));
            buyers.Add(new BuyerSums(id, price, bought, (double)revenue, squares, units, unitSquares, cross));
        }

        return (variants, buyers);
    }

    /// <summary>Runs <see cref="BacktestSettings.Runs"/> seeded experiments straight into the recommender (no lake).</summary>
    public static List<BacktestRun> RunInMemory(BacktestSettings settings, Recommender recommender)
    {
        var optimum = TrueOptimum(settings);
        return [.. Enumerable.Range(settings.Seed, settings.Runs).Select(seed =>
        {
            var (variants, buyers) = Draw(settings, seed);
            var recommendation = recommender.Recommend("backtest", "backtest", variants, BacktestSettings.VariantId(settings.ControlIndex),
                settings.Request, null,
                buyers);
            return Score(settings, optimum, recommendation, variants, buyers, seed);
        })];
    }

    /// <summary>
    /// Scores one run against the truth. The naive rule charges the tested price with the best observed value per user;
    /// the correctly specified model refits the curve's own family by maximum likelihood and the buyers' own kind by
    /// weighted least squares.
    /// </summary>
    public static BacktestRun Score(BacktestSettings settings, (double Price, double Value) optimum, Recommendation recommendation,
        IReadOnlyList<VariantStats> variants,
        IReadOnlyList<BuyerSums> buyers, int seed)
    {
        var request = settings.Request;
        var curve = settings.Curve;
        double Truth(decimal price) => settings.TrueValue((double)price);
        double Regret(decimal price) => (optimum.Value - Truth(price)) / Math.Abs(optimum.Value);
        var points = PricePoint.From(variants);
        var bestTested = Recommender.BestTested(Recommender.Observed(variants, buyers, request), request);
        double? oracle = null;
        if (curve.Refit(points) is { } refitted)
        {
            var low = (double)settings.Prices.Min();
            var high = (double)settings.Prices.Max();
            var units = settings.Buyers.Refit(BuyerShape.ObservedUnits(buyers));
            var price = Math.Round(refitted.Optimum(low, high, (p, rate) => request.Value(p, rate, units.MeanUnits(p))).Price, 2);
            oracle = (optimum.Value - settings.TrueValue(price)) / Math.Abs(optimum.Value);
        }

        if (recommendation.Status != "ok")
        {
            return new BacktestRun(seed, recommendation.Status, null, bestTested?.Price, null, bestTested is { } b ? Regret(b.Price) : null, oracle,
                null, null, null);
        }

        var recommended = recommendation.RecommendedPrice!.Value;
        var control = settings.Prices[settings.ControlIndex];
        var truth = Truth(recommended);
        var truthControl = Truth(control);
        return new BacktestRun(seed, "ok", recommended, bestTested?.Price, Regret(recommended), bestTested is { } best ? Regret(best.Price) : null, oracle,
            recommendation.ExpectedValueCi![0] <= truth && truth <= recommendation.ExpectedValueCi[1], recommendation.Confidence,
            recommended == control ? 0.5 : truth > truthControl ? 1 : 0);
    }

    public static BacktestSummary Summarize(BacktestSettings settings, IReadOnlyList<BacktestRun> runs)
    {
        var optimum = TrueOptimum(settings);
        var answered = runs.Where(r => r.Status == "ok").ToList();
        static double Mean(IEnumerable<double> values) => values.DefaultIfEmpty(double.NaN).Average();
        var oracle = runs.Where(r => r.OracleRegret is not null).Select(r => r.OracleRegret!.Value).ToList();
        return new BacktestSummary(runs.Count, answered.Count, optimum.Price, optimum.Value,
            Mean(answered.Select(r => r.Regret!.Value)), answered.Select(r => r.Regret!.Value).DefaultIfEmpty(double.NaN).Max(),
            Mean(runs.Where(r => r.BestTestedRegret is not null).Select(r => r.BestTestedRegret!.Value)),
            runs.Where(r => r.BestTestedRegret is not null).Select(r => r.BestTestedRegret!.Value).DefaultIfEmpty(double.NaN).Max(),
            oracle.Count == 0 ? null : oracle.Average(),
            Mean(answered.Select(r => r.Covered == true ? 1.0 : 0.0)), Mean(answered.Select(r => r.Confidence!.Value)),
            Mean(answered.Select(r => r.TrulyBeats!.Value)), answered.Count(r => r.Confidence >= 0.9 && r.TrulyBeats == 0),
            [.. answered.GroupBy(r => r.Recommended!.Value).OrderBy(g => g.Key).Select(g => (g.Key, g.Count()))]);
    }

    /// <summary>
    /// One line over many backtests (a suite, or a group of them): mean and worst regret of the advice, the naive rule and
    /// the true family over all their runs, how many runs lost more than 2%, in how many backtests the advice's mean
    /// regret was at most half the naive rule's, coverage and calibration.
    /// </summary>
    public static string Overall(string label, IReadOnlyList<(BacktestSettings Settings, IReadOnlyList<BacktestRun> Runs)> backtests)
    {
        var runs = backtests.SelectMany(b => b.Runs).ToList();
        var answered = runs.Where(r => r.Status == "ok").ToList();
        var naive = runs.Where(r => r.BestTestedRegret is not null).Select(r => r.BestTestedRegret!.Value).ToList();
        var oracle = runs.Where(r => r.OracleRegret is not null).Select(r => r.OracleRegret!.Value).ToList();
        var halved = backtests.Select(b => Summarize(b.Settings, b.Runs)).Count(s => s.MeanRegret <= s.MeanBestTestedRegret / 2);
        string P(IReadOnlyCollection<double> values, Func<IEnumerable<double>, double> of) =>
            values.Count == 0 ? "—" : (of(values) * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
        var ours = answered.Select(r => r.Regret!.Value).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"{label}: {backtests.Count} backtests, {runs.Count} runs ({answered.Count} answered); regret mean / worst: recommendation " +
                $"{P(ours, v => v.Average())} / {P(ours, v => v.Max())}, best tested {P(naive, v => v.Average())} / {P(naive, v => v.Max())}, true " +
                $"family {P(oracle, v => v.Average())} / {P(oracle, v => v.Max())}; runs losing over 2%: {ours.Count(v => v > 0.02)}, " +
                $"{naive.Count(v => v > 0.02)}, {oracle.Count(v => v > 0.02)}; backtests where the recommendation's mean regret is at most half " +
                $"the best tested price's: {halved} of {backtests.Count}; coverage " +
                $"{P([.. answered.Select(r => r.Covered == true ? 1.0 : 0.0)], v => v.Average())}; mean confidence " +
                $"{P([.. answered.Select(r => r.Confidence!.Value)], v => v.Average())}, truly beats the control " +
                $"{P([.. answered.Select(r => r.TrulyBeats!.Value)], v => v.Average())}; confidence ≥ 90% yet losing: " +
                $"{answered.Count(r => r.Confidence >= 0.9 && r.TrulyBeats == 0)}");
    }

    /// <summary>The summary as the plain-text table <c>po backtest</c> prints.</summary>
    public static string Table(BacktestSettings settings, BacktestSummary s)
    {
        var text = new StringBuilder();
        string P(double v) => double.IsNaN(v) ? "—" : (v * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
        text.AppendLine(CultureInfo.InvariantCulture,
            $"curve {settings.Curve}{(settings.Buyers.Kind == "one" ? "" : "; units " + settings.Buyers)}; prices " +
                $"{string.Join(", ", settings.Prices.Select(p => p.ToString("0.00", CultureInfo.InvariantCulture)))} × {settings.UsersPerPrice:N0} " +
                $"users; goal {Json.Wire.Name(settings.Request.Goal)}{(settings.Request.UnitCost is { } c ? string.Create(CultureInfo.InvariantCulture, $" (unit cost {c:0.00})") : "")}; control {settings.Prices[settings.ControlIndex]:0.00}; {s.Runs} runs from seed {settings.Seed}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"true optimum over the tested range: {s.TrueOptimalPrice:0.00} (value {s.TrueOptimalValue:0.0000} per user)");
        text.AppendLine(CultureInfo.InvariantCulture, $"answered                 {s.Answered} of {s.Runs} runs (the rest: insufficient_data)");
        text.AppendLine(CultureInfo.InvariantCulture, $"regret, recommendation   mean {P(s.MeanRegret)}, worst {P(s.WorstRegret)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"regret, best tested      mean {P(s.MeanBestTestedRegret)}, worst {P(s.WorstBestTestedRegret)}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"regret, true family ML   {(s.MeanOracleRegret is { } o ? "mean " + P(o) : "— (a table has no family to refit)")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"95% interval coverage    {P(s.Coverage)}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"calibration              mean confidence {P(s.MeanConfidence)}, truly beats the control {P(s.ShareTrulyBeating)}; confidence ≥ 90% " +
                $"yet losing: {s.ConfidentLosses}");
        text.AppendLine("recommended prices       " + string.Join(", ",
            s.Recommended.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Price:0.00} ×{r.Times}"))));
        return text.ToString();
    }
}
