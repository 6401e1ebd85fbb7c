using System.Globalization;
using PricingOptimizer.Adaptive;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Simulation;

/// <summary>
/// A scenario of <c>po backtest --adaptive</c>: the tested prices, the true demand, traffic per day, how long the test
/// runs, how long a buyer may take to buy after the first assign (uniform from 0 to <see cref="DelayDays"/>; the update
/// counts a user once that window has closed), a weekly cycle of conversion (±<see cref="WeeklyAmplitude"/>, a random
/// phase per run), a linear drift (conversion changes by <see cref="Drift"/> of itself from the first day to the last,
/// every price alike), and an allocation fault (<see cref="AllocationBug"/>: the first price really gets that much more
/// traffic than its weight, taken from the last).
/// </summary>
public sealed record AdaptiveScenario(string Name, decimal[] Prices, DemandShape Demand, int UsersPerDay, int Days = 14, int DelayDays = 1,
    double WeeklyAmplitude = 0, double Drift = 0, int Control = 0, double AllocationBug = 0)
{
    /// <summary>The true revenue per user at a price on the average day.</summary>
    public double Value(int price) => (double)Prices[price] * Demand.Rate((double)Prices[price]);

    /// <summary>The best price's lead over the second, as a share of the best value.</summary>
    public double Gap
    {
        get
        {
            var values = Enumerable.Range(0, Prices.Length).Select(Value).OrderDescending().ToArray();
            return (values[0] - values[1]) / values[0];
        }
    }

    public int Best => Enumerable.Range(0, Prices.Length).MaxBy(Value);
}

/// <summary>What one policy did in one run.</summary>
/// <param name="Lost">Expected revenue lost during the test against charging the best price to every user.</param>
/// <param name="Chosen">The price index the final analysis chooses (the best posterior mean of the demand model's value).</param>
/// <param name="RegretPoints">100 × (best value − chosen value) / best value, on the true curve.</param>
/// <param name="Covered">Per price, whether the stratified 95% interval of revenue per user covered the truth.</param>
/// <param name="DifferenceCovered">Whether the interval of chosen − control covered the truth (null when the control was chosen).</param>
/// <param name="NaiveCovered">Per price, whether a pooled interval (every user of the price together) covered the truth.</param>
/// <param name="SampleRatioAlarm">The final sample-ratio check failed (p &lt; 0.001).</param>
/// <param name="Updates">Weight versions stored.</param>
/// <param name="Stopped">The stopping rule said stop at the end of the test.</param>
public sealed record PolicyOutcome(double Lost, int Chosen, double RegretPoints, bool[] Covered, bool? DifferenceCovered, bool[] NaiveCovered,
    bool SampleRatioAlarm, int Updates, bool Stopped)
{
    /// <summary>
    /// Whether the demand model's 95% interval of chosen − control (the 2.5% and 97.5% quantiles of the posterior draws'
    /// differences, which pool every price through the curves) covered the truth; null when the control was chosen.
    /// </summary>
    public bool? ModelDifferenceCovered { get; init; }

    /// <summary>
    /// Whether the stratified chosen − control interval corrected for the winner's curse covered the truth: the hybrid
    /// interval of <see cref="Statistics.WinnerInterval"/> when the chosen price has the best stratified estimate (it was
    /// picked, in part, because its noise was high), the ordinary one otherwise (a price that did not look best carries
    /// little of the curse: the simultaneous interval there over-covered, 98% in the five-price near tie); null when the
    /// control was chosen.
    /// </summary>
    public bool? WinnerDifferenceCovered { get; init; }
}

/// <summary>One seeded run: the adaptive policy and the equal split on the same simulated customers.</summary>
public sealed record AdaptiveRun(int Seed, PolicyOutcome Adaptive, PolicyOutcome Equal);

/// <summary>The figures of a scenario over its runs.</summary>
public sealed record AdaptiveSummary(AdaptiveScenario Scenario, int Runs, double LostRatio, double RegretAdaptive, double RegretEqual, double CoverageAdaptive,
    double DifferenceCoverageAdaptive, double CoverageEqual, double DifferenceCoverageEqual, double NaiveCoverageAdaptive, double SampleRatioAlarmsAdaptive,
    double SampleRatioAlarmsEqual, double MeanUpdates, double StoppedAdaptive)
{
    /// <summary>Runs whose chosen price was not the control (the chosen − control interval exists), adaptive and equal split.</summary>
    public (int Adaptive, int Equal) DifferenceRuns { get; init; }

    /// <summary>Coverage of the demand model's chosen − control interval, adaptive and equal split.</summary>
    public (double Adaptive, double Equal) ModelDifferenceCoverage { get; init; }

    /// <summary>Coverage of the winner-corrected chosen − control interval, adaptive and equal split.</summary>
    public (double Adaptive, double Equal) WinnerDifferenceCoverage { get; init; }

    public static AdaptiveSummary Of(AdaptiveScenario scenario, IReadOnlyList<AdaptiveRun> runs)
    {
        static double Share(IEnumerable<bool> xs)
        {
            var list = xs.ToList();
            return list.Count == 0 ? double.NaN : list.Count(x => x) / (double)list.Count;
        }

        var equalLost = runs.Sum(r => r.Equal.Lost);
        return new AdaptiveSummary(scenario, runs.Count, equalLost > 0 ? runs.Sum(r => r.Adaptive.Lost) / equalLost : double.NaN,
            runs.Average(r => r.Adaptive.RegretPoints), runs.Average(r => r.Equal.RegretPoints),
            Share(runs.SelectMany(r => r.Adaptive.Covered)), Share(runs.Select(r => r.Adaptive.DifferenceCovered).OfType<bool>()),
            Share(runs.SelectMany(r => r.Equal.Covered)), Share(runs.Select(r => r.Equal.DifferenceCovered).OfType<bool>()),
            Share(runs.SelectMany(r => r.Adaptive.NaiveCovered)), Share(runs.Select(r => r.Adaptive.SampleRatioAlarm)),
            Share(runs.Select(r => r.Equal.SampleRatioAlarm)), runs.Average(r => r.Adaptive.Updates), Share(runs.Select(r => r.Adaptive.Stopped)))
        {
            DifferenceRuns = (runs.Count(r => r.Adaptive.DifferenceCovered is not null), runs.Count(r => r.Equal.DifferenceCovered is not null)),
            ModelDifferenceCoverage = (Share(runs.Select(r => r.Adaptive.ModelDifferenceCovered).OfType<bool>()),
                Share(runs.Select(r => r.Equal.ModelDifferenceCovered).OfType<bool>())),
            WinnerDifferenceCoverage = (Share(runs.Select(r => r.Adaptive.WinnerDifferenceCovered).OfType<bool>()),
                Share(runs.Select(r => r.Equal.WinnerDifferenceCovered).OfType<bool>())),
        };
    }
}

/// <summary>
/// The adaptive loop simulated day by day, against an equal split on the same customers (common random numbers: each
/// simulated customer has one arrival day, one uniform that decides the arm, one willingness to buy and one delay,
/// whatever the policy). The adaptive policy runs the product's own code: <see cref="AllocationPlanner"/> (burn-in,
/// the sample-ratio and drift safeguards, top-two Thompson weights) on <see cref="Recommender.ValueDraws"/> of the
/// stratified counts of users whose window has closed, one update per day. At the end both policies wait for the last
/// window to close and are read out alike: stratified intervals per price, the chosen price (the best posterior mean),
/// the sample-ratio check and the stopping rule.
/// </summary>
public static class AdaptiveBacktest
{
    /// <summary>The suite of <c>po backtest --adaptive</c>: 3, 5 and 8 prices; logistic, willingness-to-pay and step-shaped
    /// demand; clear and near-tie best prices; 500 to 20,000 users a day; stationary, ±30% weekly and drifting.</summary>
    public static IReadOnlyList<AdaptiveScenario> Suite { get; } =
    [
        new("logit 5 clear, 2k/day, stationary", [4m, 6m, 8m, 10m, 12m], DemandShape.Parse("logit:a=1.5,b=-0.3"), 2_000),
        new("logit 5 near tie, 2k/day, weekly ±30%", [6m, 7m, 8m, 9m, 10m], DemandShape.Parse("logit:a=0.9,b=-0.16"), 2_000, WeeklyAmplitude: 0.3),
        // A shop with 500 users a day runs a test for four weeks, not two.
        new("wtp 3 clear, 500/day, stationary", [10m, 15m, 20m], DemandShape.Parse("lognormal:median=14,sigma=0.5,reach=0.5"), 500, Days: 28),
        new("wtp 8 clear, 20k/day, drift −30%", [6m, 8m, 10m, 12m, 14m, 16m, 18m, 20m], DemandShape.Parse("lognormal:median=16,sigma=0.3,reach=0.4"),
            20_000, Drift: -0.3),
        new("step 5 clear, 5k/day, weekly ±30%", [8m, 10m, 12m, 14m, 16m],
            DemandShape.FromTable([(8, 0.30), (9.99, 0.30), (10, 0.29), (11.99, 0.29), (12, 0.20), (13.99, 0.20), (14, 0.19), (15.99, 0.19), (16, 0.12)]),
            5_000, WeeklyAmplitude: 0.3),
        new("wtp 8 near tie, 5k/day, weekly ±30%", [10m, 11m, 12m, 13m, 14m, 15m, 16m, 17m], DemandShape.Parse("lognormal:median=16,sigma=0.6,reach=0.4"),
            5_000, WeeklyAmplitude: 0.3, Control: 3),
    ];

    /// <summary>
    /// The demand fit the simulation uses: 200 posterior draws over 2 folds (the product's default is 500 over 5), so that
    /// 200 seeded runs of a scenario, each with an update a day, take minutes on two cores.
    /// </summary>
    public static RecommendationOptions SimulationFit => new() { Draws = 200, Folds = 2 };

    /// <summary>The allocation the simulation adapts with: the product's defaults, on revenue, with the scenario's window.</summary>
    public static Allocation DefaultAllocation(AdaptiveScenario scenario) =>
        new() { Mode = AllocationMode.Adaptive, Goal = Goal.Revenue, AttributionDays = scenario.DelayDays + 1 };

    /// <summary>Runs <paramref name="runs"/> seeds (from <paramref name="seed"/>) of a scenario, two at a time.</summary>
    public static IReadOnlyList<AdaptiveRun> RunMany(AdaptiveScenario scenario, int runs, int seed, Allocation allocation, RecommendationOptions options,
        CharmPricing charm, CancellationToken cancellationToken = default)
    {
        var results = new AdaptiveRun[runs];
        Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            i => results[i] = Run(scenario, seed + i, allocation, options, charm));
        return results;
    }

    /// <summary>One seeded run of both policies.</summary>
    public static AdaptiveRun Run(AdaptiveScenario scenario, int seed, Allocation allocation, RecommendationOptions options, CharmPricing charm)
    {
        var customers = Customers(scenario, seed, out var phase);
        var rate = Rates(scenario, phase);
        var recommender = new Recommender(options, charm);
        var adaptive = Simulate(scenario, customers, rate, allocation, recommender);
        var equal = Simulate(scenario, customers, rate, null, recommender);
        return new AdaptiveRun(seed, adaptive, equal);
    }

    private readonly record struct Customer(int Day, double Arm, double Buy, int Delay);

    private static Customer[] Customers(AdaptiveScenario s, int seed, out double phase)
    {
        var random = new Random(seed);
        phase = random.NextDouble() * 7;
        var customers = new Customer[s.UsersPerDay * s.Days];
        for (var i = 0; i < customers.Length; i++)
        {
            customers[i] = new Customer(i / s.UsersPerDay, random.NextDouble(), random.NextDouble(), random.Next(s.DelayDays + 1));
        }

        return customers;
    }

    /// <summary>The true conversion rate of price index a on day t.</summary>
    private static Func<int, int, double> Rates(AdaptiveScenario s, double phase)
    {
        var baseRates = s.Prices.Select(p => s.Demand.Rate((double)p)).ToArray();
        var day = Enumerable.Range(0, s.Days).Select(t => (1 + (s.WeeklyAmplitude * Math.Sin(2 * Math.PI * (t + phase) / 7)))
                                                              * (1 + (s.Drift * t / Math.Max(1, s.Days - 1)))).ToArray();
        return (a, t) => Math.Clamp(baseRates[a] * day[t], 0, 1);
    }

    private static PolicyOutcome Simulate(AdaptiveScenario s, Customer[] customers, Func<int, int, double> rate, Allocation? allocation,
        Recommender recommender)
    {
        var k = s.Prices.Length;
        var ids = Enumerable.Range(0, k).Select(a => "p" + a.ToString(CultureInfo.InvariantCulture)).ToList();
        var experiment = new Experiment("sim", "sim", "sim", "USD", ExperimentStatus.Active,
            [.. s.Prices.Select((p, a) => new Variant(ids[a], p, 1, a == s.Control))], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)
        {
            Allocation = allocation ?? Allocation.Fixed,
        };
        var request = new RecommendationRequest(Goal.Revenue, ControlVariantId: ids[s.Control]);
        var weights = Enumerable.Repeat(1.0 / k, k).ToArray();
        var versionOfDay = new int[s.Days];
        var versions = new List<WeightVersion>();
        // Per day and arm: users, buyers.
        var users = new long[s.Days, k];
        var buyers = new long[s.Days, k];
        var lost = 0.0;
        var start = DateTimeOffset.UnixEpoch;
        var index = 0;
        for (var t = 0; t < s.Days; t++)
        {
            versionOfDay[t] = versions.Count;
            var actual = Actual(weights, s.AllocationBug);
            var best = Enumerable.Range(0, k).Max(a => (double)s.Prices[a] * rate(a, t));
            for (; index < customers.Length && customers[index].Day == t; index++)
            {
                var c = customers[index];
                var arm = Pick(actual, c.Arm);
                users[t, arm]++;
                buyers[t, arm] += c.Buy < rate(arm, t) ? 1 : 0;
            }

            for (var a = 0; a < k; a++)
            {
                lost += users[t, a] * (best - ((double)s.Prices[a] * rate(a, t)));
            }

            if (allocation is null)
            {
                continue;
            }

            // End of day t: users first seen on days up to t − delay have bought all they will; they feed the update.
            var now = start.AddDays(t + 1);
            var mature = t - s.DelayDays;
            var cells = Cells(s, ids, users, buyers, versionOfDay, mature);
            var pooled = Pooled(s, ids, cells);
            var current = ids.Select((id, a) => (id, weights[a])).ToDictionary(x => x.id, x => x.Item2, StringComparer.Ordinal);
            var safeguards = new Safeguards(
                Stratified.SampleRatio(cells, ids, (p, id) => WeightVersion.Probability(experiment, p == 0 ? null : versions[p - 1], id)),
                Stratified.Drift(cells, ids));
            var proposal = AllocationPlanner.Plan(experiment, pooled, mature >= 0 ? start : null, now, versions.Count == 0 ? null : current,
                () => pooled.Count == k ? recommender.ValueDraws(Stratified.Effective(Stratified.Estimate(cells, ids)), request) : null, safeguards);
            if (proposal.State == "update")
            {
                versions.Add(new WeightVersion("sim", "sim", versions.Count + 1, now, proposal.Weights, proposal.Reasons));
                weights = [.. ids.Select(id => proposal.Weights[id])];
            }
        }

        // The end: every window has closed.
        var all = Cells(s, ids, users, buyers, versionOfDay, s.Days - 1);
        return Read(s, experiment, ids, versions, all, users, rate, recommender, request, lost, allocation is not null);
    }

    /// <summary>The assignment probabilities really in force: the weights, with the fault moving traffic from the last price to the first.</summary>
    private static double[] Actual(double[] weights, double bug)
    {
        var actual = (double[])weights.Clone();
        var moved = Math.Min(bug, actual[^1]);
        actual[0] += moved;
        actual[^1] -= moved;
        return actual;
    }

    private static int Pick(double[] weights, double u)
    {
        var sum = 0.0;
        for (var a = 0; a < weights.Length - 1; a++)
        {
            sum += weights[a];
            if (u < sum)
            {
                return a;
            }
        }

        return weights.Length - 1;
    }

    /// <summary>The users first seen on days up to <paramref name="lastDay"/>, as period cells (one unit per buyer, so revenue = price).</summary>
    private static List<PeriodStats> Cells(AdaptiveScenario s, List<string> ids, long[,] users, long[,] buyers, int[] versionOfDay, int lastDay)
    {
        var cells = new Dictionary<(int, int), (long Users, long Buyers)>();
        for (var t = 0; t <= lastDay; t++)
        {
            for (var a = 0; a < ids.Count; a++)
            {
                var key = (versionOfDay[t], a);
                var (u, b) = cells.GetValueOrDefault(key);
                cells[key] = (u + users[t, a], b + buyers[t, a]);
            }
        }

        return [.. cells.Where(c => c.Value.Users > 0).Select(c =>
        {
            var price = (double)s.Prices[c.Key.Item2];
            return new PeriodStats(c.Key.Item1, ids[c.Key.Item2], s.Prices[c.Key.Item2], c.Value.Users, c.Value.Buyers, c.Value.Buyers * price,
                c.Value.Buyers * price * price);
        })];
    }

    private static List<VariantStats> Pooled(AdaptiveScenario s, List<string> ids, List<PeriodStats> cells) =>
    [
        .. ids.Select((id, a) => (id, a, mine: cells.Where(c => c.VariantId == id).ToList())).Where(x => x.mine.Sum(c => c.Users) > 0)
            .Select(x => new VariantStats(x.id, s.Prices[x.a], x.mine.Sum(c => c.Users), x.mine.Sum(c => c.Conversions), (decimal)x.mine.Sum(c => c.Revenue),
                x.mine.Sum(c => c.RevenueSquares))),
    ];

    private static PolicyOutcome Read(AdaptiveScenario s, Experiment experiment, List<string> ids, List<WeightVersion> versions, List<PeriodStats> cells,
        long[,] users, Func<int, int, double> rate, Recommender recommender, RecommendationRequest request, double lost, bool adaptive)
    {
        var k = ids.Count;
        // The estimand: each price's revenue per user over the test's traffic mix (every day by its share of all users).
        var dayUsers = Enumerable.Range(0, s.Days).Select(t => Enumerable.Range(0, k).Sum(a => (double)users[t, a])).ToArray();
        var total = dayUsers.Sum();
        var truth = Enumerable.Range(0, k).Select(a => Enumerable.Range(0, s.Days).Sum(t => dayUsers[t] / total * (double)s.Prices[a] * rate(a, t))).ToArray();
        var estimates = Stratified.Estimate(cells, ids).ToDictionary(e => e.VariantId);
        var covered = new bool[k];
        var naive = new bool[k];
        for (var a = 0; a < k; a++)
        {
            var e = estimates[ids[a]];
            covered[a] = Math.Abs(e.RevenuePerUser - truth[a]) <= ReadoutCalculator.Z * Math.Sqrt(e.RevenueVariance);
            var mine = cells.Where(c => c.VariantId == ids[a]).ToList();
            var (n, sum, squares) = (mine.Sum(c => c.Users), mine.Sum(c => c.Revenue), mine.Sum(c => c.RevenueSquares));
            var mean = sum / n;
            var variance = (squares - (n * mean * mean)) / (n - 1) / n;
            naive[a] = Math.Abs(mean - truth[a]) <= ReadoutCalculator.Z * Math.Sqrt(variance);
        }

        var effective = Stratified.Effective([.. ids.Select(id => estimates[id])]);
        var draws = recommender.ValueDraws(effective, request);
        var chosen = draws is null
            ? Enumerable.Range(0, k).MaxBy(a => estimates[ids[a]].RevenuePerUser)
            : Enumerable.Range(0, k).MaxBy(a => draws[a].Average());
        var best = s.Value(s.Best);
        bool? difference = null;
        bool? model = null;
        if (chosen != s.Control && draws is not null)
        {
            var d = draws[chosen].Zip(draws[s.Control], (x, c) => x - c).Order().ToArray();
            var truthDifference = truth[chosen] - truth[s.Control];
            model = truthDifference >= d[(int)Math.Floor(0.025 * (d.Length - 1))] && truthDifference <= d[(int)Math.Ceiling(0.975 * (d.Length - 1))];
        }

        bool? winner = null;
        if (chosen != s.Control)
        {
            var (c, x) = (estimates[ids[s.Control]], estimates[ids[chosen]]);
            var d = x.RevenuePerUser - c.RevenuePerUser;
            var truthDifference = truth[chosen] - truth[s.Control];
            difference = Math.Abs(d - truthDifference) <= ReadoutCalculator.Z * Math.Sqrt(x.RevenueVariance + c.RevenueVariance);
            var means = ids.Select(id => estimates[id].RevenuePerUser).ToArray();
            var variances = ids.Select(id => estimates[id].RevenueVariance).ToArray();
            winner = means[chosen] >= means.Max() && Statistics.WinnerInterval.Hybrid(means, variances, chosen, s.Control) is { } interval
                ? interval.Low <= truthDifference && truthDifference <= interval.High
                : difference;
        }

        var srm = Stratified.SampleRatio(cells, ids, (p, id) => WeightVersion.Probability(experiment, p == 0 ? null : versions[p - 1], id));
        var stopped = adaptive && draws is not null
                      && StoppingRule.Decide([.. experiment.Variants.Select(v => (v.VariantId, v.Price))], draws, s.Days, experiment.Allocation.MinDays).Stop;
        return new PolicyOutcome(lost, chosen, 100 * (best - s.Value(chosen)) / best, covered, difference, naive, srm is < Safeguards.Alarm, versions.Count,
            stopped) { ModelDifferenceCovered = model, WinnerDifferenceCovered = winner };
    }
}
