using PricingOptimizer.Errors;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Pricing;

/// <summary>The folder demand models are saved in, per tenant and experiment (the host sets it from <c>Storage:ModelsDirectory</c>).</summary>
public sealed record DemandModelFolder(string Root);

/// <summary>
/// Demand models and recommendations for an experiment from the lake: <c>po model train|evaluate</c>,
/// <c>po recommend</c> and <c>GET /v1/experiments/{id}/recommendation</c> all come here.
/// </summary>
public sealed class PricingService(LakeQueries lake, IExperimentStore store, DemandModelFolder models,
    IOptions<RecommendationOptions> recommendation, IOptions<Statistics.StatisticsOptions> statistics, CharmPricing charm, TimeProvider time)
{
    private RecommendationOptions Options => recommendation.Value;

    /// <summary>Where the experiment's demand model is saved.</summary>
    public string ModelDirectory(string tenantId, string experimentId)
    {
        LakeLayout.EnsureTenantId(tenantId);
        return Path.Combine(models.Root, "tenant=" + tenantId, "experiment=" + Uri.EscapeDataString(experimentId));
    }

    /// <exception cref="Errors.ProblemException">Unknown experiment, unknown control, or a request that cannot be answered as asked.</exception>
    public async Task<Recommendation> RecommendAsync(string tenantId, string experimentId, RecommendationRequest request, CancellationToken cancellationToken)
    {
        if (request.Problem() is { } problem)
        {
            throw new InvalidInputException(problem.Message, problem.Field);
        }

        var definition = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken);
        var (variants, _) = await lake.ExperimentStatsAsync(tenantId, experimentId, request.Window, cancellationToken);
        if (definition is null && variants.Count == 0)
        {
            throw new NotFoundException($"no experiment '{experimentId}' (neither defined nor in the lake)", "experiment_id");
        }

        var control = request.ControlVariantId ?? definition?.ControlVariant.VariantId
            ?? throw new InvalidInputException(
                $"experiment '{experimentId}' is not defined in the control plane, so name the control variant", "control");
        if (variants.Count > 0 && variants.All(v => v.VariantId != control))
        {
            throw new InvalidInputException(
                $"control '{control}' has no users; variants with users: {string.Join(", ", variants.Select(v => v.VariantId))}", "control");
        }

        var currency = definition?.Currency ?? await lake.ExperimentCurrencyAsync(tenantId, experimentId, cancellationToken);
        var cap = request.CapPercentile ?? statistics.Value.RevenueCapPercentile;
        var buyers = await lake.ExperimentBuyersAsync(tenantId, experimentId, cap, cancellationToken, request.Window);
        var split = await Statistics.PeriodSplit.LoadAsync(lake, store as IAllocationStore, definition, cap, request.Window, cancellationToken);
        if (split is { Stratify: true })
        {
            // Weights changed while users arrived: each price's counts are its stratified estimate (README "Adaptive allocation").
            variants = Statistics.Stratified.Effective(split.Estimates);
            buyers = Statistics.Stratified.EffectiveBuyers(buyers, variants);
        }

        var recommender = new Recommender(Options, charm);
        var recommendation = recommender.Recommend(tenantId, experimentId, variants, control, request with { CapPercentile = cap }, currency, buyers);
        if (split is not null && definition is not null)
        {
            var start = await lake.ExperimentStartAsync(tenantId, experimentId, cancellationToken);
            var days = start is { } at ? (time.GetUtcNow() - at).TotalDays : 0;
            recommendation = recommendation with
            {
                AllocationPeriods = split.Periods, Stopping = Stop(recommender, definition, variants, days, currency),
            };
            if (split.Stratify)
            {
                recommendation = recommendation with
                {
                    Reasoning = [.. recommendation.Reasoning, $"The weights changed over {split.Periods.Count} allocation periods: each price's conversion is "
                        + "estimated per period and combined with each period's share of users, so no price gains from the periods it was favoured in."],
                };
            }

            if (recommendation.Stopping is { } stop)
            {
                recommendation = recommendation with { NextSteps = [char.ToUpperInvariant(stop.Message[0]) + stop.Message[1..] + ".", .. recommendation.NextSteps] };
            }
        }
        var quarantined = Statistics.ReadoutService.QuarantineNotes(lake.QuarantinedFiles(tenantId)).ToList();
        return quarantined.Count == 0 ? recommendation : recommendation with { Reasoning = [.. recommendation.Reasoning, .. quarantined] };
    }

    /// <summary>
    /// The stopping rule over the tested prices' posterior value draws, from the curves the recommendation just fitted;
    /// null when they could not be fitted.
    /// </summary>
    private static StopVerdict? Stop(Recommender recommender, Experiments.Experiment definition, IReadOnlyList<VariantStats> variants, double days,
        string? currency)
    {
        var tested = definition.Variants.Where(v => variants.Any(s => s.VariantId == v.VariantId && s.Users > 0)).ToList();
        return tested.Count < 2 || recommender.LastValueDraws([.. tested.Select(v => v.Price)]) is not { } draws
            ? null
            : StoppingRule.Decide([.. tested.Select(v => (v.VariantId, v.Price))], draws, days, definition.Allocation.MinDays, currency);
    }

    /// <summary>
    /// Trains the ML.NET model (price, time and marked properties) on the seeded training split (the held-out users are
    /// never seen), evaluates it and the price-only demand families (fitted on the same training users) on the held-out
    /// users, and saves the model with that report.
    /// </summary>
    /// <exception cref="Errors.ProblemException">Unknown experiment.</exception>
    /// <exception cref="InsufficientDemandDataException">Too little data to train or to evaluate.</exception>
    public async Task<ModelReport> TrainAsync(string tenantId, string experimentId, IReadOnlyList<string> properties, CancellationToken cancellationToken)
    {
        var (_, users) = await LoadAsync(tenantId, experimentId, cancellationToken);
        var (train, test) = DemandData.Split(users, Options.Seed, TestFraction);
        var model = MlDemandModel.Train(train, properties, Options.Seed);
        var report = new ModelReport
        {
            TenantId = tenantId,
            ExperimentId = experimentId,
            TrainedAt = time.GetUtcNow(),
            Seed = Options.Seed,
            TestFraction = TestFraction,
            Properties = [.. properties],
            FeatureNames = [.. model.Spec.Names],
            Coefficients = [.. model.Coefficients],
            TrainingUsers = train.Count,
        };
        Evaluate(report, model, train, test);
        model.Save(ModelDirectory(tenantId, experimentId), report);
        return report;
    }

    /// <summary>The saved model (scored by its ML.NET artifact) and the price-only families on today's held-out users of the same seeded split.</summary>
    /// <exception cref="FileNotFoundException">No model saved for the experiment.</exception>
    public async Task<ModelReport> EvaluateAsync(string tenantId, string experimentId, CancellationToken cancellationToken)
    {
        var (model, report) = MlDemandModel.Load(ModelDirectory(tenantId, experimentId));
        var (_, users) = await LoadAsync(tenantId, experimentId, cancellationToken);
        var (train, test) = DemandData.Split(users, report.Seed, report.TestFraction);
        Evaluate(report, model, train, test);
        return report;
    }

    /// <summary>Share of users the model never trains on.</summary>
    public const double TestFraction = 0.2;

    private static void Evaluate(ModelReport report, MlDemandModel model, List<DemandObservation> train, List<DemandObservation> test)
    {
        if (test.Count == 0)
        {
            throw new InsufficientDemandDataException("the held-out split has no users; the experiment needs more users before a model can be evaluated");
        }

        var labels = test.Select(u => u.Converted).ToList();
        report.HeldOut = [ModelMetrics.Evaluate(MlDemandModel.Name, labels, model.Score(test))];
        var points = Demand.PricePoint.From(DemandData.ByVariant(train));
        foreach (var family in Demand.DemandFamilies.Default)
        {
            if (family.Fit(points) is { } curve)
            {
                report.HeldOut.Add(ModelMetrics.Evaluate(family.Name, labels, [.. test.Select(u => Math.Clamp(curve.Rate((double)u.Price), 1e-9, 1 - 1e-9))]));
            }
        }

        report.BetterModel = report.HeldOut.MinBy(e => e.LogLoss)?.Model;
    }

    private async Task<(Experiments.Experiment? Definition, IReadOnlyList<DemandObservation> Users)> LoadAsync(string tenantId, string experimentId,
        CancellationToken cancellationToken)
    {
        var definition = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken);
        var users = await lake.DemandRowsAsync(tenantId, experimentId, cancellationToken);
        if (definition is null && users.Count == 0)
        {
            throw new NotFoundException($"no experiment '{experimentId}' (neither defined nor in the lake)", "experiment_id");
        }

        return (definition, users);
    }
}
