using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Pricing;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po recommend</c> and <c>po model train|evaluate</c>: the pricing science over the lake.</summary>
public static class PricingCommands
{
    public static Command Recommend()
    {
        var tenant = CommonOptions.Tenant();
        var experiment = new Option<string>("--experiment") { Description = "Experiment id", Required = true };
        var goal = new Option<string>("--goal") { Description = "revenue | profit | conversions", Required = true };
        goal.AcceptOnlyFromAmong("revenue", "profit", "conversions");
        var unitCost = new Option<decimal?>("--unit-cost") { Description = "Cost of one sale (needed for --goal profit)" };
        var control = new Option<string?>("--control") { Description = "Control variant (default: the experiment's)" };
        var priceFloor = new Option<decimal?>("--price-floor") { Description = "Lowest price allowed (conversions goal: one floor is needed)" };
        var revenueFloor = new Option<decimal?>("--revenue-floor") { Description = "Least revenue per assigned user allowed (conversions goal)" };
        var margin = new Option<double?>("--extrapolation-margin")
        {
            Description = "Allow prices this fraction beyond the tested ones (e.g. 0.1); off by default, and an answer outside the tested prices is flagged",
        };
        var cap = new Option<double?>("--cap-percentile")
        {
            Description = "Cap each buyer's revenue at this quantile of buyers' revenues, as the readout does, e.g. 0.99 (default: " +
                "Statistics:RevenueCapPercentile, none)",
        };
        var (days, mature) = CommonOptions.Attribution();
        var json = new Option<bool>("--json") { Description = "Print the recommendation contract's JSON" };
        var wide = new Option<bool>("--wide") { Description = "Lines as long as they are (by default the text fits 100 columns)" };
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("recommend", "Recommend a price for a goal, with confidence, reasoning and next steps.")
        {
            tenant, experiment, goal, unitCost, control, priceFloor, revenueFloor, margin, cap, days, mature, json, wide, data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(parse.GetValue(goal), out var parsedGoal);
            var request = new RecommendationRequest(parsedGoal, parse.GetValue(unitCost), parse.GetValue(control), parse.GetValue(priceFloor),
                parse.GetValue(revenueFloor), parse.GetValue(margin), parse.GetValue(cap), parse.GetValue(days), parse.GetValue(mature));
            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            var recommendation = await Run(() => services.GetRequiredService<PricingService>().RecommendAsync(tenantId, parse.GetValue(experiment)!,
                request, ct));
            Console.Write(parse.GetValue(json) ? JsonSerializer.Serialize(recommendation, PricingOptimizer.Json.Wire.Indented) + Environment.NewLine
                : parse.GetValue(wide) ? Text(recommendation) : TextLayout.Wrap(Text(recommendation)));
            return recommendation.Status == "ok" ? 0 : 3;
        });
        return command;
    }

    public static Command Model()
    {
        var command = new Command("model", "Train and evaluate the ML.NET demand model of an experiment.");
        var tenant = CommonOptions.Tenant();
        var experiment = new Option<string>("--experiment") { Description = "Experiment id", Required = true };
        var features = new Option<string[]>("--features")
        {
            Description = "Event properties to use as features (comma-separated or repeated); price, hour and weekday are always candidates",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var train = new Command("train", "Train on the seeded training split, report held-out log-loss, AUC and calibration, and save the model.")
        {
            tenant, experiment, features, json, data, lake,
        };
        train.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            var properties = (parse.GetValue(features) ?? []).SelectMany(f => f.Split(',',
                StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Distinct(StringComparer.Ordinal).ToList();
            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            var pricing = services.GetRequiredService<PricingService>();
            var report = await Run(() => pricing.TrainAsync(tenantId, parse.GetValue(experiment)!, properties, ct));
            Console.Write(parse.GetValue(json) ? JsonSerializer.Serialize(report, PricingOptimizer.Json.Wire.Indented) + Environment.NewLine
                : Text(report, "trained and saved to " + pricing.ModelDirectory(tenantId, report.ExperimentId)));
            return 0;
        });

        var evaluateJson = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var evaluate = new Command("evaluate", "Score the saved model and the log-log curve on today's held-out users.")
        {
            tenant, experiment, evaluateJson, data, lake,
        };
        evaluate.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            var report = await Run(() => services.GetRequiredService<PricingService>().EvaluateAsync(tenantId, parse.GetValue(experiment)!, ct));
            Console.Write(parse.GetValue(evaluateJson) ? JsonSerializer.Serialize(report, PricingOptimizer.Json.Wire.Indented) + Environment.NewLine
                : Text(report, string.Create(CultureInfo.InvariantCulture,
                    $"saved model of {report.TrainedAt:yyyy-MM-dd HH:mm} UTC, evaluated on today's data")));
            return 0;
        });
        command.Subcommands.Add(train);
        command.Subcommands.Add(evaluate);
        return command;
    }

    /// <summary>Runs a pricing call, turning the errors a user can fix into one-line CLI errors.</summary>
    private static async Task<T> Run<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (InsufficientDemandDataException e)
        {
            throw new CliException("insufficient data: " + e.Message, 3);
        }
        catch (FileNotFoundException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>A goal value as the table shows it: a percentage for conversions, else three decimals.</summary>
    private static string V(string goal, double v) =>
        goal == "conversions" ? (v * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%" : v.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Text(Recommendation r)
    {
        var goal = Json.Wire.Name(r.Goal);
        var text = new StringBuilder();
        var unit = r.Currency is null ? "" : " " + r.Currency;
        text.AppendLine(r.Headline);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Recommendation for {r.ExperimentId} of {r.TenantId} — goal: {goal}, status: {r.Status}");
        if (r.AttributionDays is { } days)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  attribution window {days} days after each user's first assign{(r.MatureOnly ? ", mature users only" : "")}");
        }

        if (r.Status == "ok")
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  recommended price  {r.RecommendedPrice:0.00}{unit}{(r.CharmApplied ? "  (charm ending)" : "")}");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  optimal price      {r.OptimalPrice:0.00}{unit}  (the model's optimum before charm endings; expects " +
                    $"{V(goal, r.OptimalExpectedValue!.Value)})");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  expected {goal,-9} {V(goal, r.ExpectedValue!.Value)} per assigned user, 95% interval [{V(goal, r.ExpectedValueCi![0])}, " +
                    $"{V(goal, r.ExpectedValueCi[1])}]");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  control            {r.ControlVariantId} at {r.ControlPrice:0.00}{unit}: {V(goal, r.ControlExpectedValue!.Value)}");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  best tested price  {r.BestTestedPrice:0.00}{unit}: observed {(r.BestTestedExpectedValue is { } b ? V(goal, b) : "—")} (the naive rule)");
            text.AppendLine(CultureInfo.InvariantCulture, $"  confidence         {r.Confidence * 100:0.0}% that the recommended price beats the control");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  searched           {r.AllowedPriceRange![0]:0.00}–{r.AllowedPriceRange[1]:0.00} (tested " +
                    $"{r.TestedPriceRange![0]:0.00}–{r.TestedPriceRange[1]:0.00}){(r.Extrapolated ? $"; EXTRAPOLATED beyond the tested prices (margin {r.ExtrapolationMargin * 100:0.#}%)" : "")}");
        }

        if (r.Models.Count > 0)
        {
            text.AppendLine("  demand families    weight   held-out log-loss   fits the data");
            foreach (var m in r.Models.OrderByDescending(m => m.Weight))
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"    {m.Name,-22} {m.Weight * 100,5:0.0}%   " +
                        $"{(m.HeldOutLogLoss is { } l ? l.ToString("0.000000", CultureInfo.InvariantCulture) : "—"),-17}   " +
                        $"{(m.FitsData ? "yes" : "no (dropped)")}");
            }
        }

        if (r.RevenueModels.Count > 0)
        {
            text.AppendLine($"  {goal} per buyer   weight   held-out error      fits the data");
            foreach (var m in r.RevenueModels.OrderByDescending(m => m.Weight))
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"    {m.Name,-22} {m.Weight * 100,5:0.0}%   " +
                        $"{(m.HeldOutError is { } e ? e.ToString("0.0000", CultureInfo.InvariantCulture) + unit : "—"),-17}   " +
                        $"{(m.FitsData ? "yes" : "no (dropped)")}");
            }
        }

        var tested = r.ValueCurve.Where(p => p.ObservedValue is not null).ToList();
        if (tested.Count > 0)
        {
            text.AppendLine($"  at tested prices   observed {goal} per user (as the readout counts it) beside the fit");
            foreach (var p in tested)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"    {p.Price,8:0.00}{unit}   observed {V(goal, p.ObservedValue!.Value)}   fitted {V(goal, p.ExpectedValue)} " +
                        $"[{V(goal, p.Lower)}, {V(goal, p.Upper)}]");
            }
        }

        text.AppendLine();
        text.AppendLine("Reasoning:");
        foreach (var sentence in r.Reasoning)
        {
            text.AppendLine("  - " + sentence);
        }

        text.AppendLine("Next steps:");
        foreach (var sentence in r.NextSteps)
        {
            text.AppendLine("  - " + sentence);
        }

        return text.ToString();
    }

    private static string Text(ModelReport report, string heading)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Demand model of {report.ExperimentId} ({report.TenantId}): {heading}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  split: seed {report.Seed}, {report.TestFraction * 100:0}% of users held out; trained on {report.TrainingUsers:N0} users");
        text.AppendLine("  coefficients: " + string.Join(", ", report.FeatureNames.Prepend("bias").Zip(report.Coefficients,
            (n, c) => string.Create(CultureInfo.InvariantCulture, $"{n} {c:0.0000}"))));
        foreach (var e in report.HeldOut)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  held-out {e.Model,-8} log-loss {e.LogLoss:0.00000}  AUC {e.Auc:0.0000}  calibration error {e.CalibrationError:0.0000}  " +
                    $"({e.Users:N0} users, {e.Conversions:N0} bought)");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  better on held-out log-loss: {report.BetterModel}");
        var ml = report.HeldOut.FirstOrDefault(e => e.Model == MlDemandModel.Name);
        if (ml is not null)
        {
            text.AppendLine("  calibration (ml.net, held out): predicted → observed");
            foreach (var bin in ml.Calibration)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"    {bin.PredictedLow * 100,6:0.00}%–{bin.PredictedHigh * 100,6:0.00}%  mean {bin.MeanPredicted * 100,6:0.00}% → " +
                        $"{bin.ObservedRate * 100,6:0.00}%  ({bin.Users:N0} users)");
            }
        }

        return text.ToString();
    }
}
