#!/usr/bin/env dotnet
// The maintained form of notebooks/02-elasticity-and-demand.ipynb: a file-based app (dotnet run notebooks/02-elasticity-and-demand.cs), no notebook kernel.
// Tables print aligned in the console; charts are saved as PNG files under ./figures (or $PO_FIGURES).
#:project ../engine/Workbench/Workbench.csproj
#:property PublishAot=false
using Microsoft.Data.Analysis;
using PricingOptimizer.Analytics;
using PricingOptimizer.Pricing;
using PricingOptimizer.Reports;
using PricingOptimizer.Simulation;
using PricingOptimizer.Statistics;
using System.IO;
using static PricingOptimizer.Analytics.ConsoleView;

// This file's folder (notebooks/): the app runs from any directory.
var here = AppContext.GetData("EntryPointFileDirectoryPath") as string ?? Directory.GetCurrentDirectory();

// # Elasticity and demand
//
// How Acme's checkout conversion responds to price, what each goal recommends, and which demand model predicts best.
// The sample was simulated from a known logit curve (`data-samples/demand.json`), so the true optimum is printed next
// to the engine's.
//

// The sample lake made by data-samples/make-samples.sh, read alone (no control plane), found beside this file.
var bench = LakeWorkbench.Open(Path.Combine(here, "..", "data-samples", "lake"));
var simulated = SimulationSettings.Load(Path.Combine(here, "..", "data-samples", "demand.json"));
var truth = simulated.Shape;
Show(bench.Layout.Root);

// ## Price response
//
// The per-price counts the readout and the recommendation both read, as a DataFrame, and the log-log fit of conversion
// on price: the elasticity the readout reports.
var (stats, _) = await bench.Lake.ExperimentStatsAsync("acme", "checkout-price", default);
var fit = PriceResponse.Fit(stats, out var reason) ?? throw new InvalidOperationException(reason);
Show(new Figure("Price-response curve (log-log fit) with its 95% band", Charts.PriceResponseCurve(fit, stats, "checkout-price", "USD")));
Show($"Elasticity of conversion: {fit.Slope:0.000} (95% interval {fit.SlopeCi[0]:0.000} to {fit.SlopeCi[1]:0.000}): a 1% higher price, about {-fit.Slope:0.00}% fewer buyers.");
var counts = stats.ToDataFrame();
// Arc elasticity between neighbouring prices, from the frame's columns.
var rate = counts["conversion_rate"].Cast<double?>().ToArray();
var price = counts["price"].Cast<decimal?>().Select(p => (double?)p).ToArray();
counts.Columns.Add(new DoubleDataFrameColumn("arc_elasticity_from_previous", rate.Select((r, i) => i == 0 ? null
    : (r - rate[i - 1]) / ((r + rate[i - 1]) / 2) / ((price[i] - price[i - 1]) / ((price[i] + price[i - 1]) / 2)))));
Show(counts);

// ## Recommendations by goal
//
// Revenue, profit at a unit cost of 4.00 USD, and conversions with a revenue floor of 2.50 USD per user, from the
// per-price counts. Each recommendation carries the expected value with its 95% band (bootstrap draws that refit every
// demand family), the best tested price, and the control (7.99). The search stays within the tested prices.
var requests = new[] {
    new RecommendationRequest(Goal.Revenue, ControlVariantId: "p0"),
    new RecommendationRequest(Goal.Profit, UnitCost: 4m, ControlVariantId: "p0"),
    new RecommendationRequest(Goal.Conversions, ControlVariantId: "p0", RevenueFloor: 2.5m) };
var recommendations = new List<Recommendation>();
foreach (var request in requests) recommendations.Add(await bench.RecommendAsync("acme", "checkout-price", request));
foreach (var r in recommendations)
    if (r.Status != "ok") throw new InvalidOperationException($"{PricingOptimizer.Json.Wire.Name(r.Goal)}: {string.Join(" ", r.Reasoning)}");
Show($"True optimum of the simulated curve in the tested range: revenue {truth.Optimum(7.99, 15.99, (p, r) => p * r).Price:0.00}, profit at cost 4 {truth.Optimum(7.99, 15.99, (p, r) => (p - 4) * r).Price:0.00}");
Show(recommendations.ToDataFrame());

// Each goal's value curve with its band, the observed value at each tested price, and the optimum, the recommended
// (charm) price, the best tested price and the control marked; then the recommendation itself, with its reasoning and
// next steps.
foreach (var (r, request) in recommendations.Zip(requests))
{
    var observed = stats.Select(v => (v.Price, request.Value((double)v.Price, (double)v.Conversions / v.Users))).ToList();
    Show(new Figure($"Expected {PricingOptimizer.Json.Wire.Name(r.Goal)} per assigned user by price", Charts.GoalValueCurve(r, observed)));
    Show(r);
}

// ## Demand families
//
// Every family the recommendation fits to the per-price counts: its stacking weight (chosen to predict users held out
// in 5 folds best), its held-out log-loss (lower is better), and whether it fits the observed rate at every tested
// price (a family that misses them is dropped). Below, the revenue curve's band width where the families disagree most,
// the revenue-per-buyer families (what buyers pay as a function of price), and the observed beside the fitted value at
// each tested price.
var families = recommendations[0].ModelsFrame();
var kept = families.Filter(families["fits_data"].ElementwiseEquals(true));
Show($"{kept.Rows.Count} of {families.Rows.Count} families fit the observed rates; the three heaviest carry {kept["weight"].Cast<double?>().OrderByDescending(w => w).Take(3).Sum():P0} of the weight");
var curve = recommendations[0].ValueCurveFrame();
var width = curve["upper"] - curve["lower"];
width.SetName("band_width");
curve.Columns.Add(width);
Show(curve.OrderByDescending("band_width").Head(3));
// What a buyer pays as a function of price (baskets, renewals), modelled beside demand, and at each tested price the
// observed revenue per user as the readout counts it beside the fitted value.
Show(recommendations[0].RevenueModelsFrame());
Show(recommendations[0].ValueCurve.Where(p => p.ObservedValue is not null)
    .Select(p => new { price = p.Price, observed = Math.Round(p.ObservedValue!.Value, 4), fitted = Math.Round(p.ExpectedValue, 4) }).ToList());
Show(families);
// The ML.NET model is the one that can use time and event properties (po model train --features); here on price, hour and weekday,
// trained on 80% of the users and checked on the other 20% against two price-only families fitted on the same users.
var users = await bench.Lake.DemandRowsAsync("acme", "checkout-price", default);
var (train, test) = DemandData.Split(users, 42, 0.2);
var model = MlDemandModel.Train(train, [], 42);
Show(new DataFrame(
    new StringDataFrameColumn("feature", model.Spec.Names.Prepend("bias")),
    new DoubleDataFrameColumn("coefficient", model.Coefficients.Select(c => (double?)c))));
Show($"ML.NET logistic model: price coefficient per 1 USD = {model.Coefficients[1] / model.Spec.PriceScale:0.0000} (truth {simulated.Slope:0.0000}); hour and weekday kept: {model.Spec.Time}");
var labels = test.Select(u => u.Converted).ToList();
var evaluations = new List<ModelEvaluation> { ModelMetrics.Evaluate(MlDemandModel.Name, labels, model.Score(test)) };
var trainingPoints = PricingOptimizer.Pricing.Demand.PricePoint.From(DemandData.ByVariant(train));
foreach (var family in PricingOptimizer.Pricing.Demand.DemandFamilies.Default.Where(f => f.Name is "logit-price" or "isotonic"))
{
    var fitted = family.Fit(trainingPoints) ?? throw new InvalidOperationException($"{family.Name} did not fit the training users");
    evaluations.Add(ModelMetrics.Evaluate(family.Name, labels, test.Select(u => Math.Clamp(fitted.Rate((double)u.Price), 1e-9, 1 - 1e-9)).ToList()));
}
Show(new Figure("Calibration on held-out users", Charts.Calibration(evaluations, "checkout-price")));
Show(new DataFrame(
    new StringDataFrameColumn("model", evaluations.Select(e => e.Model)),
    new Int64DataFrameColumn("held_out_users", evaluations.Select(e => (long?)e.Users)),
    new DoubleDataFrameColumn("log_loss", evaluations.Select(e => (double?)e.LogLoss)),
    new DoubleDataFrameColumn("auc", evaluations.Select(e => e.Auc)),
    new DoubleDataFrameColumn("calibration_error", evaluations.Select(e => (double?)e.CalibrationError))));
