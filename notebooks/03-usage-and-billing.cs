#!/usr/bin/env dotnet
// The maintained form of notebooks/03-usage-and-billing.ipynb: a file-based app (dotnet run notebooks/03-usage-and-billing.cs), no notebook kernel.
// Tables print aligned in the console; charts are saved as PNG files under ./figures (or $PO_FIGURES).
#:project ../engine/Workbench/Workbench.csproj
#:property PublishAot=false
using Microsoft.Data.Analysis;
using PricingOptimizer.Analytics;
using PricingOptimizer.Pricing;
using PricingOptimizer.Reports;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tenancy;
using PricingOptimizer.Usage;
using System.IO;
using static PricingOptimizer.Analytics.ConsoleView;

// This file's folder (notebooks/): the app runs from any directory.
var here = AppContext.GetData("EntryPointFileDirectoryPath") as string ?? Directory.GetCurrentDirectory();

// # Usage and billing
//
// Events per day of each sample tenant in October 2026 against its plan's included events, the month's charge and the
// cheapest plan for that usage; then Acme's experiments side by side, as the dashboard
// (`GET /v1/analytics/experiments`) and the comparison (`GET /v1/analytics/compare`) show them. The sample lake has no
// control plane, so the plans are set here (`tenantPlans` below) and API calls, which are not in the lake, are left out.
//

// The sample lake made by data-samples/make-samples.sh, read alone (no control plane), found beside this file.
var bench = LakeWorkbench.Open(Path.Combine(here, "..", "data-samples", "lake"));
var plans = new PlanOptions().Plans;
var tenantPlans = new Dictionary<string, string> { ["acme"] = "free", ["globex"] = "free" };
var (from, to) = (new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 31));
Show(bench.Layout.Root);

// ## Events per day and the bill
//
// Each tenant's events per day as a DataFrame (each event_id once), stacked into one frame with the tenant as a column,
// then summed per tenant: the month's usage the bill is computed from.
DataFrame? usage = null;
foreach (var tenant in tenantPlans.Keys)
{
    var days = await bench.EventsByDayAsync(tenant, from, to);
    if (days.Rows.Count == 0) throw new InvalidOperationException($"no events for {tenant} in October 2026");
    days.Columns.Insert(0, new StringDataFrameColumn("tenant", Enumerable.Repeat(tenant, (int)days.Rows.Count)));
    usage = usage is null ? days : usage.Append(days.Rows);
}
var monthly = (usage ?? throw new InvalidOperationException("no tenants")).GroupBy("tenant").Sum("events");
var bills = new List<PlanCost>();
foreach (var row in monthly.Rows)
{
    var (tenant, events) = ((string)row[0], Convert.ToInt64(row[1]));
    var plan = plans[tenantPlans[tenant]];
    bills.Add(PlanCosts.Of(tenantPlans[tenant], plan, events));
    var cheapest = plans.Select(p => PlanCosts.Of(p.Key, p.Value, events)).OrderBy(c => c.Total).ThenBy(c => c.BasePrice).First();
    var perDay = (await bench.Lake.EventsByDayAsync(tenant, from, to, default)).ToList();
    Show(new Figure($"{tenant}: events in October 2026 against the {tenantPlans[tenant]} plan", Charts.UsageTrend(perDay, plan.IncludedEventsPerMonth, tenant, tenantPlans[tenant], from, to)));
    Show($"{tenant}: {events:N0} events, {(double)events / plan.IncludedEventsPerMonth:P0} of the {tenantPlans[tenant]} plan's {plan.IncludedEventsPerMonth:N0}; cheapest plan for this usage: {cheapest.Plan} ({cheapest.Total:0.00} USD)");
}
Show(new DataFrame(
    monthly["tenant"].Clone(),
    monthly["events"].Clone(),
    new StringDataFrameColumn("plan", bills.Select(b => b.Plan)),
    new DecimalDataFrameColumn("base_price", bills.Select(b => (decimal?)b.BasePrice)),
    new Int64DataFrameColumn("overage_events", bills.Select(b => (long?)b.OverageEvents)),
    new DecimalDataFrameColumn("overage_charge", bills.Select(b => (decimal?)b.OverageCharge)),
    new DecimalDataFrameColumn("total", bills.Select(b => (decimal?)b.Total))));

// ## Acme's experiments side by side
//
// The dashboard: every experiment of the tenant with users, conversion and revenue per user per variant, the leading
// variant and the users still needed for 80% power — one row per experiment and variant.
var dashboard = await bench.DashboardAsync("acme");
if (dashboard.Experiments.Count < 2) throw new InvalidOperationException("expected Acme's two experiments");
Show(dashboard);

// The revenue recommendation of each experiment joined onto its dashboard row (a DataFrame join on `experiment_id`): how
// much each would gain over its control, and how sure it is.
var recommendations = new List<Recommendation>();
foreach (var experiment in dashboard.Experiments)
    recommendations.Add(await bench.RecommendAsync("acme", experiment.ExperimentId, new RecommendationRequest(Goal.Revenue, ControlVariantId: experiment.ControlVariantId)));
var perExperiment = new DataFrame(
    new StringDataFrameColumn("experiment_id", dashboard.Experiments.Select(e => e.ExperimentId)),
    new Int64DataFrameColumn("users", dashboard.Experiments.Select(e => (long?)e.Users)),
    new StringDataFrameColumn("leading_variant", dashboard.Experiments.Select(e => e.LeadingVariantId)),
    new Int64DataFrameColumn("users_still_needed", dashboard.Experiments.Select(e => e.UsersStillNeeded)));
var side = perExperiment.Merge<string>(recommendations.ToDataFrame(), "experiment_id", "experiment_id");
var gain = side["expected_value"] / side["control_expected_value"] - 1;
gain.SetName("gain_over_control");
side.Columns.Add(gain);
foreach (var r in recommendations) Console.WriteLine($"{r.ExperimentId}: {string.Join(" ", r.NextSteps)}");
Show(new DataFrame(new[] { "experiment_id_left", "users", "leading_variant", "status", "recommended_price", "expected_value", "control_expected_value", "gain_over_control", "confidence", "best_tested_price" }
    .Select(c => side[c].Clone())));
