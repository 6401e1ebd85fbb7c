using System.Net;
using System.Text.Json;
using PricingOptimizer.Simulation;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Pricing;

public sealed class RecommendationApiAndCliTests : IDisposable
{
    private readonly TempDirectory folder = new();

    [Fact]
    public async Task The_api_recommends_from_landed_events_and_answers_bad_queries_with_problem_json()
    {
        using var api = new IngestApiFactory(new Dictionary<string, string?> { ["Auth:AdminKey"] = "rec-admin" });
        var (tenantId, _, client) = await api.CreateTenantAsync("rec-admin", "Shop", "enterprise");
        var settings = new SimulationSettings { UsersPerPrice = 800, Seed = 4 };
        var variants = string.Join(",", settings.Prices.Select((p, i) =>
            $$"""{"variant_id":"p{{i}}","price":{{p.ToString(System.Globalization.CultureInfo.InvariantCulture)}}{{(i == 2 ? ",\"control\":true" : "")}}}"""));
        var created = await client.PostAsync("/v1/experiments",
            IngestApiFactory.Json($$"""{"experiment_id":"price-test","name":"five prices","currency":"USD","variants":[{{variants}}]}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var events = DemandSimulator.Simulate(settings, "price-test", DateTimeOffset.UtcNow.AddHours(-1));
        foreach (var batch in events.Chunk(1000))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(batch))).StatusCode);
        }

        await api.LandUntilAsync(tenantId, events.Count);

        var response = await client.GetAsync("/v1/experiments/price-test/recommendation?goal=profit&unit_cost=4");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            var root = json.RootElement;
            Assert.Equal("ok", root.GetProperty("status").GetString());
            Assert.Equal("profit", root.GetProperty("goal").GetString());
            Assert.Equal("p2", root.GetProperty("control_variant_id").GetString()); // the experiment's control
            Assert.Equal(11.99m, root.GetProperty("control_price").GetDecimal());
            Assert.Equal(4000, root.GetProperty("users").GetInt64());
            Assert.Equal("USD", root.GetProperty("currency").GetString());
            Assert.InRange(root.GetProperty("recommended_price").GetDecimal(), 7.99m * 0.9m, 15.99m * 1.1m);
            Assert.NotEmpty(root.GetProperty("reasoning").EnumerateArray());
        }

        async Task<JsonElement> Problem(string query, HttpStatusCode status)
        {
            var answer = await client.GetAsync("/v1/experiments/" + query);
            Assert.Equal(status, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            return JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.Clone();
        }

        Assert.Equal("goal", (await Problem("price-test/recommendation", HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("goal", (await Problem("price-test/recommendation?goal=happiness", HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("unit_cost", (await Problem("price-test/recommendation?goal=profit", HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("unit_cost", (await Problem("price-test/recommendation?goal=profit&unit_cost=abc",
            HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("price_floor", (await Problem("price-test/recommendation?goal=conversions", HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("control", (await Problem("price-test/recommendation?goal=revenue&control=zzz",
            HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        await Problem("nothing/recommendation?goal=revenue", HttpStatusCode.NotFound);

        var (_, _, other) = await api.CreateTenantAsync("rec-admin", "Other", "pro");
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/v1/experiments/price-test/recommendation?goal=revenue")).StatusCode);
    }

    [Fact]
    public async Task Po_simulate_import_model_train_evaluate_and_recommend_work_end_to_end()
    {
        var data = Path.Combine(folder.Path, "data");
        var csv = Path.Combine(folder.Path, "sim.csv");
        var settings = Path.Combine(folder.Path, "demand.json");
        File.WriteAllText(settings, """{"intercept":0.2,"slope":-0.12,"prices":[7.99,9.99,11.99,13.99,15.99],"users_per_price":1000,"seed":3,"days":7}""");

        var simulate = await PoProcess.RunAsync(folder.Path, null, "simulate", "--settings", settings, "--experiment", "exp", "--csv", csv, "--end",
            "2026-10-01T00:00:00Z");
        Assert.Equal(0, simulate.ExitCode);
        Assert.Contains("true revenue optimum 11.04", simulate.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "shop", "--csv", csv, "--data", data)).ExitCode);

        var noModel = await PoProcess.RunAsync(folder.Path, null, "model", "evaluate", "--tenant", "shop", "--experiment", "exp", "--data", data);
        Assert.Equal(1, noModel.ExitCode);
        Assert.Contains("po model train", noModel.Stderr, StringComparison.Ordinal);

        var train = await PoProcess.RunAsync(folder.Path, null, "model", "train", "--tenant", "shop", "--experiment", "exp", "--data", data, "--json");
        Assert.Equal(0, train.ExitCode);
        using (var report = JsonDocument.Parse(train.Stdout))
        {
            var heldOut = report.RootElement.GetProperty("held_out").EnumerateArray().ToDictionary(e => e.GetProperty("model").GetString()!);
            // The ML.NET feature model against every price-only family, on the same held-out users.
            Assert.Contains("ml.net", heldOut.Keys);
            Assert.Contains("logit-price", heldOut.Keys);
            Assert.Contains("isotonic", heldOut.Keys);
            Assert.InRange(heldOut["ml.net"].GetProperty("auc").GetDouble(), 0.5, 0.75);
            Assert.InRange(heldOut["ml.net"].GetProperty("log_loss").GetDouble(), 0.4, 0.7);
            Assert.NotEmpty(heldOut["ml.net"].GetProperty("calibration").EnumerateArray());
        }

        Assert.True(File.Exists(Path.Combine(data, "models", "tenant=shop", "experiment=exp", "demand.zip")));
        var evaluate = await PoProcess.RunAsync(folder.Path, null, "model", "evaluate", "--tenant", "shop", "--experiment", "exp", "--data", data);
        Assert.Equal(0, evaluate.ExitCode);
        Assert.Contains("held-out ml.net", evaluate.Stdout, StringComparison.Ordinal);
        Assert.Contains("better on held-out log-loss", evaluate.Stdout, StringComparison.Ordinal);

        var recommend = await PoProcess.RunAsync(folder.Path, null, "recommend", "--tenant", "shop", "--experiment", "exp", "--goal", "revenue",
            "--control", "p0", "--data", data, "--json");
        Assert.Equal(0, recommend.ExitCode);
        using (var json = JsonDocument.Parse(recommend.Stdout))
        {
            Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
            Assert.Equal(7.99m, json.RootElement.GetProperty("control_price").GetDecimal());
            Assert.False(json.RootElement.GetProperty("extrapolated").GetBoolean());
            Assert.InRange(json.RootElement.GetProperty("recommended_price").GetDecimal(), 7.99m, 15.99m);
        }

        var wider = await PoProcess.RunAsync(folder.Path, null, "recommend", "--tenant", "shop", "--experiment", "exp", "--goal", "revenue",
            "--control", "p0", "--extrapolation-margin", "0.2", "--data", data, "--json");
        using (var json = JsonDocument.Parse(wider.Stdout))
        {
            Assert.Equal(0.2, json.RootElement.GetProperty("extrapolation_margin").GetDouble());
            Assert.Equal(Math.Round(7.99m * 0.8m, 2, MidpointRounding.ToPositiveInfinity), json.RootElement.GetProperty("allowed_price_range")[0].GetDecimal());
        }

        var badMargin = await PoProcess.RunAsync(folder.Path, null, "recommend", "--tenant", "shop", "--experiment", "exp", "--goal", "revenue",
            "--control", "p0", "--extrapolation-margin", "2", "--data", data);
        Assert.Equal(1, badMargin.ExitCode);
        Assert.StartsWith("po: --extrapolation-margin: ", badMargin.Stderr.Trim(), StringComparison.Ordinal);

        var table = await PoProcess.RunAsync(folder.Path, null, "recommend", "--tenant", "shop", "--experiment", "exp", "--goal", "revenue",
            "--control", "p0", "--data", data);
        Assert.Contains("recommended price", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("Next steps:", table.Stdout, StringComparison.Ordinal);

        var noCost = await PoProcess.RunAsync(folder.Path, null, "recommend", "--tenant", "shop", "--experiment", "exp", "--goal", "profit",
            "--control", "p0", "--data", data);
        Assert.Equal(1, noCost.ExitCode);
        Assert.Equal("po: --unit-cost: the profit goal needs a unit cost", noCost.Stderr.Trim());

        var noControl = await PoProcess.RunAsync(folder.Path, null, "recommend", "--tenant", "shop", "--experiment", "exp", "--goal", "revenue",
            "--data", data);
        Assert.Equal(1, noControl.ExitCode);
        Assert.Contains("name the control variant", noControl.Stderr, StringComparison.Ordinal);

        var badGoal = await PoProcess.RunAsync(folder.Path, null, "recommend", "--tenant", "shop", "--experiment", "exp", "--goal", "fun", "--data", data);
        Assert.Equal(2, badGoal.ExitCode);
    }

    [Fact]
    public async Task Po_backtest_runs_seeded_experiments_through_the_lake_and_prints_regret_coverage_and_calibration()
    {
        var run = await PoProcess.RunAsync(folder.Path, null, "backtest", "--curve", "lognormal:median=20,sigma=0.6,reach=0.4", "--prices", "10,14,18,22,26",
            "--users", "2000", "--runs", "3", "--control", "18");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("true optimum over the tested range: 16.40", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("answered                 3 of 3 runs", run.Stdout, StringComparison.Ordinal);
        foreach (var row in new[] { "regret, recommendation", "regret, best tested", "regret, true family ML", "95% interval coverage", "calibration",
            "recommended prices" })
        {
            Assert.Contains(row, run.Stdout, StringComparison.Ordinal);
        }

        // A table of price → rate works the same way (no family to refit, and it says so).
        var table = Path.Combine(folder.Path, "curve.csv");
        File.WriteAllText(table, "price,rate\n5,0.5\n10,0.35\n15,0.2\n20,0.08\n");
        var fromCsv = await PoProcess.RunAsync(folder.Path, null, "backtest", "--curve-csv", table, "--prices", "6,9,12,15,18", "--users", "1000",
            "--runs", "2", "--in-memory");
        Assert.True(fromCsv.ExitCode == 0, fromCsv.Stderr);
        Assert.Contains("a table has no family to refit", fromCsv.Stdout, StringComparison.Ordinal);

        var bad = await PoProcess.RunAsync(folder.Path, null, "backtest", "--curve", "lognormal:median=20", "--prices", "10,14,18");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal("po: --curve: curve 'lognormal' needs sigma, reach (it takes median, sigma, reach: reach · P(willingness to pay ≥ p), " +
            "willingness to pay lognormal with that median and sigma of its log)", bad.Stderr.Trim());
        var noControl = await PoProcess.RunAsync(folder.Path, null, "backtest", "--curve", "logit:a=0.2,b=-0.12", "--prices", "10,14,18", "--control", "12");
        Assert.Equal("po: --control: 12 is not one of --prices", noControl.Stderr.Trim());
    }

    [Fact]
    public async Task Po_backtest_random_curves_prints_each_curve_and_a_line_per_shape_and_refuses_mixed_modes()
    {
        var run = await PoProcess.RunAsync(folder.Path, null, "backtest", "--random-curves", "2", "--runs", "2", "--users", "2000", "--seed", "5",
            "--in-memory");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stdout.Split('\n');
        // Two curves, each for revenue and profit: four tables, each naming a curve a user can rerun with --curve.
        var curves = lines.Where(l => l.StartsWith("curve ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, curves.Count);
        Assert.Equal(2, curves.Count(l => l.Contains("goal revenue", StringComparison.Ordinal)));
        Assert.Equal(2, curves.Count(l => l.Contains("goal profit", StringComparison.Ordinal)));
        var all = Assert.Single(lines, l => l.StartsWith("all: ", StringComparison.Ordinal));
        Assert.Contains("all: 4 backtests, 8 runs", all, StringComparison.Ordinal);
        foreach (var part in new[] { "recommendation", "best tested", "true family", "runs losing over 2%", "coverage", "mean confidence" })
        {
            Assert.Contains(part, all, StringComparison.Ordinal);
        }

        var spec = curves[0]["curve ".Length..curves[0].IndexOf(';', StringComparison.Ordinal)];
        Assert.Contains(lines, l => l.StartsWith(spec[..spec.IndexOf(':', StringComparison.Ordinal)] + ": ", StringComparison.Ordinal));
        var again = await PoProcess.RunAsync(folder.Path, null, "backtest", "--random-curves", "2", "--runs", "2", "--users", "2000", "--seed", "5",
            "--in-memory");
        Assert.Equal(run.Stdout, again.Stdout);

        var mixed = await PoProcess.RunAsync(folder.Path, null, "backtest", "--suite", "--random-curves", "3");
        Assert.Equal(1, mixed.ExitCode);
        Assert.Equal("po: give one of --suite, --random-curves or a curve (--curve, --curve-csv)", mixed.Stderr.Trim());
        var oneCurveOnly = await PoProcess.RunAsync(folder.Path, null, "backtest", "--random-curves", "3", "--goal", "profit");
        Assert.Equal(1, oneCurveOnly.ExitCode);
        Assert.Equal("po: --goal: applies to one curve, not to --random-curves (which sets its own prices, goals and controls)", oneCurveOnly.Stderr.Trim());
        var suiteUsers = await PoProcess.RunAsync(folder.Path, null, "backtest", "--suite", "--users", "100");
        Assert.Equal("po: --users: applies to one curve, not to --suite (which sets its own prices, goals and controls, and 5,000 users a price)",
            suiteUsers.Stderr.Trim());
        var none = await PoProcess.RunAsync(folder.Path, null, "backtest", "--random-curves", "0");
        Assert.Equal(1, none.ExitCode);
        Assert.Equal("po: --random-curves must be at least 1", none.Stderr.Trim());
    }

    public void Dispose() => folder.Dispose();
}
