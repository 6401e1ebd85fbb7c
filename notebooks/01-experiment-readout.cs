#!/usr/bin/env dotnet
// The maintained form of notebooks/01-experiment-readout.ipynb: a file-based app (dotnet run notebooks/01-experiment-readout.cs), no notebook kernel.
// Tables print aligned in the console; charts are saved as PNG files under ./figures (or $PO_FIGURES).
#:project ../engine/Workbench/Workbench.csproj
#:property PublishAot=false
using Microsoft.Data.Analysis;
using PricingOptimizer.Analytics;
using PricingOptimizer.Pricing;
using PricingOptimizer.Reports;
using PricingOptimizer.Statistics;
using System.IO;
using static PricingOptimizer.Analytics.ConsoleView;

// This file's folder (notebooks/): the app runs from any directory.
var here = AppContext.GetData("EntryPointFileDirectoryPath") as string ?? Directory.GetCurrentDirectory();

// # Experiment readout
//
// Acme's checkout price test from the sample lake (`data-samples/lake`, made by the seeded demand generator): five
// prices from 7.99 to 15.99 USD, today's price 7.99 (`p0`) as the control. The readout follows the statistics
// contract: conversion rates with Wilson intervals, lift with delta-method intervals, Holm-adjusted p-values, the
// always-valid sequential p-value and the sample-ratio check; revenue per user capped, CUPED-adjusted and always valid.
//

// The sample lake made by data-samples/make-samples.sh, read alone (no control plane), found beside this file.
var bench = LakeWorkbench.Open(Path.Combine(here, "..", "data-samples", "lake"));
Show(bench.Layout.Root);

// The readout is the same object `GET /v1/experiments/{id}/readout` returns; Show prints its headline and table.
var readout = await bench.ReadoutAsync("acme", "checkout-price", "p0");
if (readout.Variants.Count != 5) throw new InvalidOperationException($"expected 5 variants, found {readout.Variants.Count}");
Show(readout);

// ## From the events up
//
// The readout is computed from per-user summaries in DuckDB. Here the same figures from the raw events as a DataFrame:
// each user's variant from their assigns, their revenue from their converts, then grouped by variant. A user assigned
// to more than one variant is left out, as the readout does.
var events = await bench.EventsAsync("acme", "checkout-price");
var assigns = events.Filter(events["event_type"].ElementwiseEquals("assign"));
var converts = events.Filter(events["event_type"].ElementwiseEquals("convert"));
Show($"{events.Rows.Count:N0} events: {assigns.Rows.Count:N0} assigns, {converts.Rows.Count:N0} converts");
Show(events.Head(5));
// Each user's variant from the assigns; a user seen in more than one variant is left out, as the readout does.
var variantsOf = assigns["user_id"].Cast<string>().Zip(assigns["variant_id"].Cast<string>())
    .Distinct().GroupBy(p => p.First).ToDictionary(g => g.Key, g => g.Select(p => p.Second).ToList());
var single = variantsOf.Where(kv => kv.Value.Count == 1).ToList();
var users = new DataFrame(
    new StringDataFrameColumn("user_id", single.Select(kv => kv.Key)),
    new StringDataFrameColumn("variant_id", single.Select(kv => kv.Value[0])));
// Each buyer's revenue from the converts, joined onto the users (a left join: non-buyers get null, counted as 0).
var spent = converts.GroupBy("user_id").Sum("revenue");
var joined = users.Merge<string>(spent, "user_id", "user_id");
joined.Columns.Add(new Int64DataFrameColumn("users", Enumerable.Repeat<long?>(1, (int)joined.Rows.Count)));
joined.Columns.Add(new Int64DataFrameColumn("buyers", joined["user_id_right"].Cast<string>().Select(u => (long?)(u is null ? 0 : 1))));
joined["revenue"].FillNulls(0m, inPlace: true);
var fromEvents = joined.GroupBy("variant_id").Sum("users", "buyers", "revenue").OrderBy("variant_id");
// The readout's own figures must agree with this independent count.
var readoutFrame = readout.ToDataFrame().OrderBy("variant_id");
for (var i = 0; i < fromEvents.Rows.Count; i++)
    if (Convert.ToDecimal(fromEvents["users"][i]) != Convert.ToDecimal(readoutFrame["users"][i])
        || Convert.ToDecimal(fromEvents["buyers"][i]) != Convert.ToDecimal(readoutFrame["conversions"][i])
        || Convert.ToDecimal(fromEvents["revenue"][i]) != Convert.ToDecimal(readoutFrame["revenue"][i]))
        throw new InvalidOperationException($"events and readout disagree on {fromEvents["variant_id"][i]}");
Show(fromEvents);
Show(new Figure("Conversion rate by price, with 95% Wilson intervals", Charts.ConversionRates(readout, "USD")));
Show(new Figure("Lift over the control, with 95% intervals", Charts.Lift(readout, "USD")));

// ## Revenue: capped, CUPED-adjusted, always valid
//
// A price test is decided on revenue per assigned user (README "Revenue-grade figures"). Each user's revenue is capped
// at the 99th percentile of buyers' revenues so one huge basket cannot decide the test; the revenue lift has a
// delta-method interval; CUPED subtracts what each user's revenue before the test predicts (when the tenant has such
// revenue), which narrows the interval without moving the effect; the always-valid intervals may be read any day; p (BH)
// controls the false discovery rate across the four challengers.
var revenue = await bench.ReadoutAsync("acme", "checkout-price", "p0", new ReadoutOptions(CapPercentile: 0.99));
var frame = revenue.ToDataFrame();
var columns = new[] { "variant_id", "price", "revenue_per_user", "revenue_lift", "revenue_lift_low", "revenue_lift_high", "revenue_lift_cuped", "p_value_bh", "revenue_difference_cs_low", "revenue_difference_cs_high" };
var revenueView = new DataFrame(columns.Select(c => frame[c].Clone()));
if (revenue.Variants.Count(v => v.RevenueLift is not null) != 4) throw new InvalidOperationException("expected a revenue lift for each of the four challengers");
Show($"revenue capped at {revenue.RevenueCap:0.00} USD; CUPED: {(revenue.CupedTheta is null ? "off" : $"variance removed {revenue.CupedVarianceReduction:P1}")}");
Show(revenueView);

// ## Is the effect stable?
//
// The timeseries is `GET /v1/analytics/experiments/{id}/timeseries`: each variant's cumulative conversion rate at the end
// of each UTC day, with the lift and the always-valid interval. Its last day equals the readout.
var series = await bench.TimeseriesAsync("acme", "checkout-price");
var days = series.ToDataFrame();
var last = days["date"].Cast<DateTime>().Max();
var lastDay = days.Filter(new BooleanDataFrameColumn("last", days["date"].Cast<DateTime>().Select(d => (bool?)(d == last))));
var p4 = days.Filter(days["variant_id"].ElementwiseEquals("p4"));
Show(p4, "p4 (15.99) against the control, day by day");
Show(lastDay);

// ## Verdicts
//
// The sample-ratio check asks whether users were split as configured (equal weights); a p-value under 0.001 means the
// assignment is broken and no comparison should be trusted. The sequential p-value may be read on any day of the
// test; the fixed-horizon p-value only once, at the planned end.
Console.WriteLine($"Sample ratio: p = {readout.SrmPValue:0.0000} → {(readout.SrmPValue < 0.001 ? "users are NOT split as configured: check the assignment" : "no sign of a broken split")}");
foreach (var v in readout.Variants.Where(v => v.SequentialPValue is not null).OrderBy(v => v.Price))
{
    var verdict = v.SequentialPValue < 0.05
        ? $"differs from the control ({(v.Lift > 0 ? "more" : "fewer")} buyers), valid at any look"
        : "no difference established yet; keep the test running";
    Console.WriteLine($"{v.VariantId} at {v.Price:0.00}: lift {v.Lift:P1}, sequential p {v.SequentialPValue:0.0000} → {verdict}");
}
