using System.Text.Json;
using System.Text.Json.Serialization;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Pricing;

/// <summary>
/// P(convert | price and features) learned with ML.NET: L-BFGS logistic regression (single thread, so the same data
/// gives the same model) on the features of <see cref="DemandFeatureSpec"/>, hour and weekday kept only when they
/// improve the fit significantly. A logistic model's probabilities are
/// calibrated by construction — the fit makes predicted and observed buyers agree overall and along every feature —
/// and the held-out reliability table checks that they are. The coefficients' covariance (the inverse Fisher
/// information at the fit) gives the posterior draws the recommendation's confidence comes from.
/// </summary>
public sealed class MlDemandModel
{
    public const string Name = "ml.net";
    private const string ModelFile = "demand.zip";
    private const string MetadataFile = "demand.json";
    private const float L2 = 1e-4f;

    private readonly MLContext ml;
    private readonly ITransformer transformer;

    private MlDemandModel(MLContext ml, ITransformer transformer, DemandFeatureSpec spec, double[] coefficients, double[,] covariance)
    {
        this.ml = ml;
        this.transformer = transformer;
        Spec = spec;
        Coefficients = coefficients;
        Covariance = covariance;
    }

    public DemandFeatureSpec Spec { get; }

    /// <summary>Bias, then one weight per feature of <see cref="Spec"/>.</summary>
    public double[] Coefficients { get; }

    public double[,] Covariance { get; }

    /// <exception cref="InsufficientDemandDataException">No users, or every user bought, or none did.</exception>
    public static MlDemandModel Train(IReadOnlyList<DemandObservation> rows, IReadOnlyList<string> properties, int seed)
    {
        var buyers = rows.Count(r => r.Converted);
        if (buyers == 0 || buyers == rows.Count)
        {
            throw new InsufficientDemandDataException(rows.Count == 0
                ? "the demand model has no users to learn from"
                : $"the demand model needs buyers and non-buyers; all {rows.Count:N0} users {(buyers == 0 ? "did not buy" : "bought")}");
        }

        // Hour and weekday are candidates, not givens: they stay only when a likelihood-ratio test on their four
        // coefficients rejects "no effect" at 1% (deviance drop above 13.28), so they do not add noise when they carry none.
        var withoutTime = Fit(rows, properties, seed, time: false);
        var withTime = Fit(rows, properties, seed, time: true);
        return 2 * (withTime.LogLikelihood - withoutTime.LogLikelihood) > TimeFeaturesCriticalDeviance ? withTime.Model : withoutTime.Model;
    }

    /// <summary>χ²(4) at 0.99: the deviance drop that keeps the four time features.</summary>
    public const double TimeFeaturesCriticalDeviance = 13.2767;

    private static (MlDemandModel Model, double LogLikelihood) Fit(IReadOnlyList<DemandObservation> rows, IReadOnlyList<string> properties, int seed, bool time)
    {
        var spec = DemandFeatureSpec.Build(rows, properties, time);
        var ml = new MLContext(seed);
        var groups = Group(spec, rows);
        var data = Load(ml, spec, groups);
        var trainer = ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            ExampleWeightColumnName = nameof(TrainingRow.Weight),
            L1Regularization = 0,
            L2Regularization = L2,
            OptimizationTolerance = 1e-8f,
            MaximumNumberOfIterations = 1000,
            NumberOfThreads = 1,
        });
        var fitted = trainer.Fit(data);
        var coefficients = CoefficientsOf(fitted);
        var (covariance, logLikelihood) = CovarianceAt(groups, coefficients);
        return (new MlDemandModel(ml, fitted, spec, coefficients, covariance), logLikelihood);
    }

    /// <summary>The model's probability for one user, from its coefficients.</summary>
    public double Probability(DemandObservation row)
    {
        var x = Spec.Vector(row);
        var eta = Coefficients[0];
        for (var j = 0; j < x.Length; j++)
        {
            eta += Coefficients[j + 1] * x[j];
        }

        return 1 / (1 + Math.Exp(-eta));
    }

    /// <summary>Probabilities for <paramref name="rows"/> scored by the ML.NET transformer itself (the saved artifact).</summary>
    public double[] Score(IReadOnlyList<DemandObservation> rows)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var scored = transformer.Transform(Load(ml, Spec,
            [.. rows.Select(r => new TrainingRow { Label = r.Converted, Features = Spec.Vector(r), Weight = 1 })]));
        return [.. scored.GetColumn<float>("Probability").Select(p => (double)p)];
    }

    /// <summary>Saves the ML.NET model (<c>demand.zip</c>) and its feature encoding, covariance and <paramref name="report"/> (<c>demand.json</c>).</summary>
    public void Save(string directory, ModelReport report)
    {
        Directory.CreateDirectory(directory);
        var schema = Load(ml, Spec, []).Schema;
        var temporary = Path.Combine(directory, ModelFile + ".tmp");
        ml.Model.Save(transformer, schema, temporary);
        File.Move(temporary, Path.Combine(directory, ModelFile), overwrite: true);
        var metadata = new SavedMetadata
        {
            Spec = Spec,
            Covariance = [.. Enumerable.Range(0,
                Coefficients.Length).Select(i => Enumerable.Range(0, Coefficients.Length).Select(j => Covariance[i, j]).ToArray())],
            Report = report,
        };
        var json = Path.Combine(directory, MetadataFile + ".tmp");
        File.WriteAllText(json, JsonSerializer.Serialize(metadata, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(json, Path.Combine(directory, MetadataFile), overwrite: true);
    }

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, ModelFile)) && File.Exists(Path.Combine(directory, MetadataFile));

    /// <exception cref="FileNotFoundException">No model saved in <paramref name="directory"/>.</exception>
    /// <exception cref="InvalidDataException">The saved files do not hold a model of this kind.</exception>
    public static (MlDemandModel Model, ModelReport Report) Load(string directory)
    {
        if (!Exists(directory))
        {
            throw new FileNotFoundException($"no demand model saved in {directory}; train one with `po model train`");
        }

        var metadata = ReadMetadata(directory);
        var ml = new MLContext(metadata.Report.Seed);
        var transformer = ml.Model.Load(Path.Combine(directory, ModelFile), out _);
        var coefficients = CoefficientsOf(transformer);
        if (coefficients.Length != metadata.Spec.Length + 1 || metadata.Covariance.Length != coefficients.Length)
        {
            throw new InvalidDataException($"{directory}: the saved model has {coefficients.Length - 1} weights but its encoding describes " +
                $"{metadata.Spec.Length} features");
        }

        var covariance = new double[coefficients.Length, coefficients.Length];
        for (var i = 0; i < coefficients.Length; i++)
        {
            for (var j = 0; j < coefficients.Length; j++)
            {
                covariance[i, j] = metadata.Covariance[i][j];
            }
        }

        return (new MlDemandModel(ml, transformer, metadata.Spec, coefficients, covariance), metadata.Report);
    }

    private static SavedMetadata ReadMetadata(string directory) =>
        JsonSerializer.Deserialize<SavedMetadata>(File.ReadAllText(Path.Combine(directory, MetadataFile)))
        ?? throw new InvalidDataException($"{Path.Combine(directory, MetadataFile)} is empty");

    private static IDataView Load(MLContext ml, DemandFeatureSpec spec, IReadOnlyList<TrainingRow> rows)
    {
        var definition = SchemaDefinition.Create(typeof(TrainingRow));
        definition[nameof(TrainingRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, spec.Length);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>
    /// Users with the same features and outcome become one weighted row (the likelihood is the same): the features are
    /// price, hour and weekday and the marked properties, so a large experiment collapses to a few thousand rows.
    /// </summary>
    private static List<TrainingRow> Group(DemandFeatureSpec spec, IReadOnlyList<DemandObservation> rows)
    {
        var groups = new Dictionary<(bool, string), TrainingRow>();
        var features = new float[spec.Length];
        var key = new byte[spec.Length * sizeof(float)];
        foreach (var row in rows)
        {
            spec.Fill(row, features);
            Buffer.BlockCopy(features, 0, key, 0, key.Length);
            var id = (row.Converted, Convert.ToBase64String(key));
            if (groups.TryGetValue(id, out var group))
            {
                group.Weight++;
            }
            else
            {
                groups[id] = new TrainingRow { Label = row.Converted, Features = (float[])features.Clone(), Weight = 1 };
            }
        }

        return [.. groups.Values];
    }

    private static double[] CoefficientsOf(ITransformer transformer)
    {
        if (transformer is not ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>> predictor)
        {
            throw new InvalidDataException($"the saved model is a {transformer.GetType().Name}, not a calibrated linear model");
        }

        var linear = predictor.Model.SubModel;
        return [linear.Bias, .. linear.Weights.Select(w => (double)w)];
    }

    /// <summary>(XᵀWX + λI)⁻¹ at the fit, X with a leading column of ones, W = users · p(1 − p).</summary>
    private static (double[,] Covariance, double LogLikelihood) CovarianceAt(List<TrainingRow> rows, double[] beta)
    {
        var logLikelihood = 0.0;
        var k = beta.Length;
        var information = new double[k, k];
        var x = new double[k];
        x[0] = 1;
        foreach (var row in rows)
        {
            var features = row.Features;
            var eta = beta[0];
            for (var j = 0; j < features.Length; j++)
            {
                x[j + 1] = features[j];
                eta += beta[j + 1] * features[j];
            }

            var p = 1 / (1 + Math.Exp(-eta));
            logLikelihood += row.Weight * (row.Label ? Math.Log(Math.Max(p, 1e-300)) : Math.Log(Math.Max(1 - p, 1e-300)));
            var w = row.Weight * p * (1 - p);
            for (var i = 0; i < k; i++)
            {
                var wx = w * x[i];
                for (var j = 0; j <= i; j++)
                {
                    information[i, j] += wx * x[j];
                }
            }
        }

        for (var i = 0; i < k; i++)
        {
            information[i, i] += L2;
            for (var j = 0; j < i; j++)
            {
                information[j, i] = information[i, j];
            }
        }

        return (Matrix<double>.Build.DenseOfArray(information).Inverse().ToArray(), logLikelihood);
    }

    private sealed class TrainingRow
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = [];

        public float Weight { get; set; }
    }

    private sealed class SavedMetadata
    {
        [JsonPropertyName("features")] public DemandFeatureSpec Spec { get; set; } = new();
        [JsonPropertyName("covariance")] public double[][] Covariance { get; set; } = [];
        [JsonPropertyName("report")] public ModelReport Report { get; set; } = new();
    }
}

/// <summary>What was trained, on what, and how it did on held-out users; saved next to the model.</summary>
public sealed class ModelReport
{
    [JsonPropertyName("tenant_id")] public string TenantId { get; set; } = "";
    [JsonPropertyName("experiment_id")] public string ExperimentId { get; set; } = "";
    [JsonPropertyName("trained_at")] public DateTimeOffset TrainedAt { get; set; }
    [JsonPropertyName("seed")] public int Seed { get; set; }
    [JsonPropertyName("test_fraction")] public double TestFraction { get; set; }
    [JsonPropertyName("properties")] public List<string> Properties { get; set; } = [];
    [JsonPropertyName("feature_names")] public List<string> FeatureNames { get; set; } = [];
    [JsonPropertyName("coefficients")] public List<double> Coefficients { get; set; } = [];
    [JsonPropertyName("training_users")] public long TrainingUsers { get; set; }
    [JsonPropertyName("held_out")] public List<ModelEvaluation> HeldOut { get; set; } = [];
    [JsonPropertyName("better_model")] public string? BetterModel { get; set; }
}

/// <summary>The data cannot support a model or a recommendation; the message says why.</summary>
public sealed class InsufficientDemandDataException(string message) : Exception(message);
