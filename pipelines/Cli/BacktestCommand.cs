using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>
/// <c>po backtest</c>: seeded simulated experiments on a curve the user believes in, through the real import → lake →
/// recommendation path, scored against the curve's true optimum — regret, interval coverage, calibration, and how often
/// each price was recommended. <c>--suite</c> runs the project's own simulation suite.
/// </summary>
public static class BacktestCommand
{
    private static readonly DateTimeOffset End = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Command Create()
    {
        var curve = new Option<string?>("--curve")
        {
            Description = $"The true curve, kind:name=value,… — kinds: {string.Join(", ", DemandShape.Kinds)} (e.g. lognormal:median=20,sigma=0.6,reach=0.4)",
        };
        var curveCsv = new Option<FileInfo?>("--curve-csv") { Description = "The true curve as a CSV of price,rate rows (interpolated linearly between them)" };
        var suite = new Option<bool>("--suite") { Description = "Run the project's simulation suite (eight shapes × revenue and profit) instead of one curve" };
        var randomCurves = new Option<int?>("--random-curves")
        {
            Description = "Run N random curves of the seven shapes (seeded by --seed), each tested at five prices around a random current price, " +
                "for revenue and profit",
        };
        var units = new Option<string?>("--units")
        {
            Description = $"What a buyer pays, kind:name=value,… — kinds: {string.Join(", ", BuyerShape.Kinds)} (e.g. " +
                $"extra:mean=0.8,elasticity=-1,ref=12,spread=0.5; default one unit at the price)",
        };
        var randomUnits = new Option<bool>("--random-units") { Description = "With --random-curves: each curve's buyers pay a random basket " +
            "(units, renewals, heavy tails)" };
        var prices = new Option<string?>("--prices") { Description = "The prices to test, comma-separated (e.g. 9.99,11.99,13.99,15.99,17.99)" };
        var users = new Option<int>("--users") { Description = "Users per price", DefaultValueFactory = _ => BacktestSuite.UsersPerPrice };
        var goal = new Option<string>("--goal") { Description = "revenue | profit | conversions", DefaultValueFactory = _ => "revenue" };
        goal.AcceptOnlyFromAmong("revenue", "profit", "conversions");
        var unitCost = new Option<decimal?>("--unit-cost") { Description = "Cost of one sale (--goal profit)" };
        var priceFloor = new Option<decimal?>("--price-floor") { Description = "Lowest price allowed (--goal conversions)" };
        var revenueFloor = new Option<decimal?>("--revenue-floor") { Description = "Least revenue per user allowed (--goal conversions)" };
        var control = new Option<decimal?>("--control") { Description = "The control's price, one of --prices (default: the lowest)" };
        var runs = new Option<int>("--runs") { Description = "Seeded experiments to run", DefaultValueFactory = _ => 20 };
        var seed = new Option<int>("--seed") { Description = "First seed", DefaultValueFactory = _ => 1 };
        var inMemory = new Option<bool>("--in-memory") { Description = "Hand the simulated counts straight to the recommender (no CSV, no lake): " +
            "faster, for sizing a test" };
        var adaptive = new Option<bool>("--adaptive")
        {
            Description = "Simulate adaptive allocation day by day against an equal split on the same customers, over the adaptive suite " +
                "(3, 5 and 8 prices; logistic, willingness-to-pay and step demand; weekly cycles and drift)",
        };
        var scenario = new Option<string?>("--scenario") { Description = "With --adaptive: only the scenarios whose name contains this text" };
        var command = new Command("backtest",
            "Check the recommendation against a demand curve you believe in: N seeded simulated experiments, scored against the curve's true optimum.")
        {
            curve, curveCsv, units, suite, randomCurves, randomUnits, prices, users, goal, unitCost, priceFloor, revenueFloor, control, runs, seed, inMemory,
            adaptive, scenario,
        };
        command.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(runs);
            if (count < 1)
            {
                throw new CliException("--runs must be at least 1");
            }

            if (parse.GetValue(adaptive))
            {
                if (parse.GetValue(suite) || parse.GetValue(randomCurves) is not null || parse.GetValue(curve) is not null || parse.GetValue(curveCsv) is not null)
                {
                    throw new CliException("--adaptive runs its own suite of scenarios: leave out --suite, --random-curves and --curve (narrow it with --scenario)");
                }

                AdaptiveBacktestTable.Run(count, parse.GetValue(seed), parse.GetValue(scenario), Console.Out, ct);
                return 0;
            }

            if (parse.GetValue(scenario) is not null)
            {
                throw new CliException("--scenario: applies to --adaptive only");
            }

            var isSuite = parse.GetValue(suite);
            var random = parse.GetValue(randomCurves);
            if (random is < 1)
            {
                throw new CliException("--random-curves must be at least 1");
            }

            if ((isSuite ? 1 : 0) + (random is null ? 0 : 1) + (parse.GetValue(curve) is null && parse.GetValue(curveCsv) is null ? 0 : 1) > 1)
            {
                throw new CliException("give one of --suite, --random-curves or a curve (--curve, --curve-csv)");
            }

            if (random is null && parse.GetResult(randomUnits) is { Implicit: false })
            {
                throw new CliException("--random-units: applies to --random-curves only");
            }

            if (isSuite || random is not null)
            {
                var mode = isSuite ? "--suite" : "--random-curves";
                Option[] oneCurve = isSuite ? [prices, goal, unitCost, priceFloor, revenueFloor, control, users, units, randomUnits]
                    : [prices, goal, unitCost, priceFloor, revenueFloor, control, units];
                if (oneCurve.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } given)
                {
                    throw new CliException($"{given.Name}: applies to one curve, not to {mode} (which sets its own prices, goals and " +
                        $"controls{(isSuite ? ", and 5,000 users a price" : "")})");
                }
            }

            List<BacktestSettings> settings = isSuite ? [.. BacktestSuite.Settings(count, parse.GetValue(seed))]
                : random is { } n ? [.. RandomCurves.Settings(n, parse.GetValue(seed), count, parse.GetValue(users), parse.GetValue(randomUnits))]
                : [One(parse, curve, curveCsv, units, prices, users, goal, unitCost, priceFloor, revenueFloor, control, count, seed)];
            var done = new List<(BacktestSettings Settings, IReadOnlyList<BacktestRun> Runs)>();
            foreach (var s in settings)
            {
                var result = parse.GetValue(inMemory)
                    ? Backtest.RunInMemory(s, new Recommender(new RecommendationOptions(), new CharmPricing(new CharmOptions())))
                    : await ThroughLakeAsync(s, ct);
                Console.WriteLine(Backtest.Table(s, Backtest.Summarize(s, result)));
                done.Add((s, result));
            }

            if (done.Count > 1)
            {
                foreach (var group in done.GroupBy(d => random is null ? Json.Wire.Name(d.Settings.Request.Goal) : d.Settings.Curve.Kind))
                {
                    Console.WriteLine(Backtest.Overall(group.Key, [.. group]));
                }

                Console.WriteLine(Backtest.Overall("all", done));
            }

            return 0;
        });
        return command;
    }

    private static BacktestSettings One(ParseResult parse, Option<string?> curve, Option<FileInfo?> curveCsv, Option<string?> units,
        Option<string?> prices, Option<int> users,
        Option<string> goal, Option<decimal?> unitCost, Option<decimal?> priceFloor, Option<decimal?> revenueFloor, Option<decimal?> control, int runs,
        Option<int> seed)
    {
        DemandShape shape;
        try
        {
            shape = (parse.GetValue(curve), parse.GetValue(curveCsv)) switch
            {
                ({ } spec, null) => DemandShape.Parse(spec),
                (null, { } file) => file.Exists ? DemandShape.ReadCsv(file.FullName) : throw new CliException($"--curve-csv: {file.FullName} does not exist"),
                (null, null) => throw new CliException("give the true curve with --curve or --curve-csv (or run --suite)"),
                _ => throw new CliException("give either --curve or --curve-csv, not both"),
            };
        }
        catch (FormatException e)
        {
            throw new CliException((parse.GetValue(curve) is null ? "--curve-csv: " : "--curve: ") + e.Message);
        }

        BuyerShape? buyers;
        try
        {
            buyers = parse.GetValue(units) is { } spec ? BuyerShape.Parse(spec) : null;
        }
        catch (FormatException e)
        {
            throw new CliException("--units: " + e.Message);
        }

        var text = parse.GetValue(prices) ?? throw new CliException("--prices: give the prices to test, e.g. --prices 9.99,11.99,13.99");
        var tested = new List<decimal>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            tested.Add(decimal.TryParse(item, NumberStyles.Number, CultureInfo.InvariantCulture, out var p) && p > 0
                ? p
                : throw new CliException($"--prices: '{item}' is not a positive price"));
        }

        tested.Sort();
        var controlPrice = parse.GetValue(control) ?? (tested.Count > 0 ? tested[0] : 0);
        var controlIndex = tested.IndexOf(controlPrice);
        if (controlIndex < 0)
        {
            throw new CliException($"--control: {controlPrice} is not one of --prices");
        }

        Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(parse.GetValue(goal), out var parsedGoal);
        var request = new RecommendationRequest(parsedGoal, parse.GetValue(unitCost), PriceFloor: parse.GetValue(priceFloor),
            RevenueFloor: parse.GetValue(revenueFloor));
        if (request.Problem() is { } problem)
        {
            throw new CliException($"--{problem.Field.Replace('_', '-')}: {problem.Message}");
        }

        var settings = new BacktestSettings(shape, tested, parse.GetValue(users), request, runs, parse.GetValue(seed), controlIndex, buyers);
        return settings.Problem() is { } wrong ? throw new CliException(wrong) : settings;
    }

    /// <summary>Each run: seeded events as CSV, <c>po import</c>'s importer into a scratch lake, then the recommendation service.</summary>
    private static async Task<List<BacktestRun>> ThroughLakeAsync(BacktestSettings settings, CancellationToken cancellationToken)
    {
        var scratch = Directory.CreateTempSubdirectory("po-backtest-");
        try
        {
            await using var services = CommonOptions.Services(CommonOptions.Configuration(scratch.FullName, null));
            var importer = services.GetRequiredService<CsvImporter>();
            var lake = services.GetRequiredService<LakeQueries>();
            var pricing = services.GetRequiredService<PricingService>();
            var optimum = Backtest.TrueOptimum(settings);
            var results = new List<BacktestRun>();
            for (var run = 0; run < settings.Runs; run++)
            {
                var seed = settings.Seed + run;
                var experiment = string.Create(CultureInfo.InvariantCulture, $"backtest-{seed}");
                var simulation = new SimulationSettings { Prices = [.. settings.Prices], UsersPerPrice = settings.UsersPerPrice, Seed = seed };
                var events = DemandSimulator.Simulate(simulation, settings.Curve, experiment, End, settings.Buyers);
                var csv = Path.Combine(scratch.FullName, experiment + ".csv");
                await ImportExportCommands.WriteCsvAsync(csv, events, cancellationToken);
                var imported = await importer.ImportAsync("backtest", csv, cancellationToken);
                if (imported.Errors.Count > 0)
                {
                    throw new CliException($"backtest: the simulated events were refused: {imported.Errors[0].Field} {imported.Errors[0].Reason}");
                }

                File.Delete(csv);
                var request = settings.Request with { ControlVariantId = BacktestSettings.VariantId(settings.ControlIndex) };
                var recommendation = await pricing.RecommendAsync("backtest", experiment, request, cancellationToken);
                var (variants, _) = await lake.ExperimentStatsAsync("backtest", experiment, cancellationToken);
                var buyers = await lake.ExperimentBuyersAsync("backtest", experiment, null, cancellationToken);
                results.Add(Backtest.Score(settings, optimum, recommendation, variants, buyers, seed));
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rrun {run + 1}/{settings.Runs}"));
            }

            Console.Error.WriteLine();
            return results;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}
