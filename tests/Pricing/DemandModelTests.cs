using Microsoft.ML;
using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;
using PricingOptimizer.Tests.Fixtures;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Pricing;

public sealed class DemandModelTests : IDisposable
{
    private static readonly DateTimeOffset End = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory folder = new();

    private static List<DemandObservation> Users(int perPrice, int seed = 5) =>
        DemandSimulator.Users(new SimulationSettings { UsersPerPrice = perPrice, Seed = seed }, End);

    [Fact]
    public void The_model_recovers_the_simulated_curve_within_its_own_standard_errors()
    {
        var model = MlDemandModel.Train(Users(4000), [], 1);
        var scale = model.Spec.PriceScale;
        // Truth: logit = 0.2 − 0.12 · price, i.e. bias 0.2 and weight −0.12 · scale on price/scale.
        var biasSe = Math.Sqrt(model.Covariance[0, 0]);
        var priceSe = Math.Sqrt(model.Covariance[1, 1]);
        Assert.InRange(model.Coefficients[0], 0.2 - (4 * biasSe), 0.2 + (4 * biasSe));
        Assert.InRange(model.Coefficients[1], (-0.12 * scale) - (4 * priceSe), (-0.12 * scale) + (4 * priceSe));
        Assert.InRange(priceSe / Math.Abs(model.Coefficients[1]), 0.01, 0.2); // a real, finite uncertainty
        Assert.False(model.Spec.Time); // hour and weekday carry nothing here, so the test drops them
    }

    [Fact]
    public void Hour_of_day_is_kept_when_it_matters_and_a_marked_property_is_learned()
    {
        var random = new Random(3);
        var users = new List<DemandObservation>();
        for (var i = 0; i < 20_000; i++)
        {
            var price = new[] { 8m, 10m, 12m }[i % 3];
            var seen = End.AddHours(-random.Next(24 * 14));
            var mobile = random.NextDouble() < 0.5;
            // Evenings buy more, mobile buys less.
            var logit = 0.3 - (0.12 * (double)price) + (seen.Hour >= 18 ? 0.8 : 0) + (mobile ? -0.6 : 0);
            users.Add(new DemandObservation($"u{i}", "v" + (i % 3), price, seen, new Dictionary<string, string> { ["device"] = mobile ? "mobile" : "desktop" },
                random.NextDouble() < 1 / (1 + Math.Exp(-logit))));
        }

        var model = MlDemandModel.Train(users, ["device"], 1);
        Assert.True(model.Spec.Time);
        var names = model.Spec.Names.ToList();
        var device = names.IndexOf("device=mobile");
        Assert.True(device > 0, string.Join(",", names));
        Assert.InRange(model.Coefficients[device + 1], -0.8, -0.4);

        var without = MlDemandModel.Train(users, [], 1);
        var test = users.Take(5000).ToList();
        var labels = test.Select(u => u.Converted).ToList();
        Assert.True(ModelMetrics.Evaluate("with", labels, model.Score(test)).LogLoss < ModelMetrics.Evaluate("without", labels, without.Score(test)).LogLoss);
    }

    [Fact]
    public void The_ml_net_artifact_scores_like_the_coefficients_and_survives_save_and_load()
    {
        var users = Users(1000);
        var model = MlDemandModel.Train(users, [], 9);
        var scored = model.Score(users);
        for (var i = 0; i < users.Count; i += 97)
        {
            Assert.Equal(model.Probability(users[i]), scored[i], 5);
        }

        var directory = Path.Combine(folder.Path, "model");
        model.Save(directory, new ModelReport { TenantId = "t", ExperimentId = "e", Seed = 9, Properties = [] });
        var (loaded, report) = MlDemandModel.Load(directory);
        Assert.Equal("e", report.ExperimentId);
        Assert.Equal(model.Coefficients, loaded.Coefficients);
        Assert.Equal(scored, loaded.Score(users));
        Assert.Equal(model.Covariance[1, 1], loaded.Covariance[1, 1]);
    }

    [Fact]
    public void Loading_a_missing_or_mismatched_model_says_what_is_wrong()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => MlDemandModel.Load(Path.Combine(folder.Path, "none")));
        Assert.Contains("po model train", missing.Message, StringComparison.Ordinal);

        var directory = Path.Combine(folder.Path, "broken");
        MlDemandModel.Train(Users(300), [], 1).Save(directory, new ModelReport { Seed = 1 });
        var metadata = Path.Combine(directory, "demand.json");
        File.WriteAllText(metadata, File.ReadAllText(metadata).Replace("\"time\": false", "\"time\": true", StringComparison.Ordinal));
        Assert.Throws<InvalidDataException>(() => MlDemandModel.Load(directory));
    }

    [Fact]
    public void Training_without_buyers_or_without_non_buyers_is_refused_with_the_reason()
    {
        var users = Users(50).Select(u => u with { Converted = false }).ToList();
        var e = Assert.Throws<InsufficientDemandDataException>(() => MlDemandModel.Train(users, [], 1));
        Assert.Contains("did not buy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Log_loss_and_auc_agree_with_ml_net_s_own_evaluator()
    {
        var users = Users(2000);
        var model = MlDemandModel.Train(users, [], 2);
        var predictions = model.Score(users);
        var labels = users.Select(u => u.Converted).ToList();
        var ours = ModelMetrics.Evaluate("ml.net", labels, predictions);

        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(users.Select((u, i) => new Scored { Label = u.Converted,
            Score = (float)Math.Log(predictions[i] / (1 - predictions[i])), Probability = (float)predictions[i], PredictedLabel = predictions[i] > 0.5 }));
        var theirs = ml.BinaryClassification.Evaluate(data);
        Assert.Equal(theirs.AreaUnderRocCurve, ours.Auc!.Value, 4);
        Assert.Equal(theirs.LogLoss, ours.LogLoss / Math.Log(2), 4); // ML.NET reports bits, we report nats
        Assert.InRange(ours.CalibrationError, 0, 0.02);
        Assert.Equal(users.Count, ours.Calibration.Sum(b => b.Users));
    }

    [Fact]
    public void Auc_counts_ties_as_half_and_log_loss_matches_a_hand_computation()
    {
        var result = ModelMetrics.Evaluate("m", [true, false, true, false], [0.8, 0.8, 0.6, 0.2]);
        // Positive/negative pairs: (0.8,0.8) tie ½, (0.8,0.2) 1, (0.6,0.8) 0, (0.6,0.2) 1 → 2.5 / 4.
        Assert.Equal(0.625, result.Auc!.Value, 12);
        var expected = -(Math.Log(0.8) + Math.Log(0.2) + Math.Log(0.6) + Math.Log(0.8)) / 4;
        Assert.Equal(expected, result.LogLoss, 12);
        Assert.Null(ModelMetrics.Evaluate("m", [true, true], [0.5, 0.6]).Auc);
    }

    private sealed class Scored
    {
        public bool Label { get; set; }
        public float Score { get; set; }
        public float Probability { get; set; }
        public bool PredictedLabel { get; set; }
    }

    public void Dispose() => folder.Dispose();
}
