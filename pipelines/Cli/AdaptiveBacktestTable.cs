using System.Globalization;
using System.Text;
using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po backtest --adaptive</c>: the adaptive suite, adaptive against an equal split, one table row per scenario.</summary>
public static class AdaptiveBacktestTable
{
    public static void Run(int runs, int seed, string? only, TextWriter output, CancellationToken cancellationToken)
    {
        var scenarios = AdaptiveBacktest.Suite.Where(s => only is null || s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
        if (scenarios.Count == 0)
        {
            throw new CliException($"--scenario '{only}' matches none of: {string.Join("; ", AdaptiveBacktest.Suite.Select(s => s.Name))}");
        }

        var options = AdaptiveBacktest.SimulationFit;
        var charm = new CharmPricing(new CharmOptions());
        output.WriteLine(Header);
        foreach (var scenario in scenarios)
        {
            var started = DateTime.UtcNow;
            var result = AdaptiveBacktest.RunMany(scenario, runs, seed, AdaptiveBacktest.DefaultAllocation(scenario), options, charm, cancellationToken);
            output.WriteLine(Row(AdaptiveSummary.Of(scenario, result)));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{scenario.Name}: {runs} runs in {(DateTime.UtcNow - started).TotalSeconds:0} s"));
            if (scenario.UsersPerDay >= 20_000)
            {
                var faulty = scenario with { AllocationBug = 0.02 };
                var caught = AdaptiveBacktest.RunMany(faulty, runs, seed, AdaptiveBacktest.DefaultAllocation(faulty), options, charm, cancellationToken);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  with a 2-point allocation fault: caught by the sample-ratio check in {caught.Count(r => r.Adaptive.SampleRatioAlarm) / (double)runs:P1} " +
                    $"of adaptive runs, {caught.Count(r => r.Equal.SampleRatioAlarm) / (double)runs:P1} of equal-split runs"));
            }
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{runs} seeded runs per scenario from seed {seed}; buyers buy up to {AdaptiveBacktest.Suite[0].DelayDays} days after the first assign; demand fits of {options.Draws} draws over {options.Folds} folds."));
        output.WriteLine("lost = revenue lost during the test against charging the best price to everyone, adaptive ÷ equal split; regret in points of the best value; " +
                         "coverage = 95% intervals (stratified by allocation period) covering the truth, per price and for chosen − control; " +
                         "model diff = the demand model's interval of chosen − control (quantiles of the posterior draws); " +
                         "winner-corrected = the stratified chosen − control interval corrected for picking the best-looking price (hybrid interval); " +
                         "naive = pooled intervals of the adaptive runs; SRM = sample-ratio false alarms (p < 0.001).");
    }

    private const string Header =
        "| scenario | days | gap | lost ratio | regret adaptive | regret equal | coverage adaptive (price / diff) | coverage equal (price / diff) | model diff coverage (adaptive / equal) | winner-corrected diff coverage (adaptive / equal) | naive coverage | SRM alarms (adaptive / equal) | updates | stopped |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// <summary>The chosen − control coverage with the runs it stands on (a run that keeps the control has no such interval).</summary>
    private static string Difference(double coverage, int runs) =>
        runs == 0 ? "— (n=0)" : string.Create(CultureInfo.InvariantCulture, $"{coverage:P1} (n={runs})");

    private static string Share(double share) => double.IsNaN(share) ? "—" : string.Create(CultureInfo.InvariantCulture, $"{share:P1}");

    private static string Row(AdaptiveSummary s) => string.Create(CultureInfo.InvariantCulture,
        $"| {s.Scenario.Name} | {s.Scenario.Days} | {s.Scenario.Gap:P1} | {s.LostRatio:0.00} | {s.RegretAdaptive:0.00} | {s.RegretEqual:0.00} | " +
        $"{s.CoverageAdaptive:P1} / {Difference(s.DifferenceCoverageAdaptive, s.DifferenceRuns.Adaptive)} | " +
        $"{s.CoverageEqual:P1} / {Difference(s.DifferenceCoverageEqual, s.DifferenceRuns.Equal)} | " +
        $"{Share(s.ModelDifferenceCoverage.Adaptive)} / {Share(s.ModelDifferenceCoverage.Equal)} | " +
        $"{Share(s.WinnerDifferenceCoverage.Adaptive)} / {Share(s.WinnerDifferenceCoverage.Equal)} | {s.NaiveCoverageAdaptive:P1} | " +
        $"{s.SampleRatioAlarmsAdaptive:P1} / {s.SampleRatioAlarmsEqual:P1} | {s.MeanUpdates:0.0} | {s.StoppedAdaptive:P0} |");
}
