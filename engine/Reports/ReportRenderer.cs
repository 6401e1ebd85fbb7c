using System.Globalization;
using System.Text;
using CsvHelper;
using PricingOptimizer.Pricing;

namespace PricingOptimizer.Reports;

/// <summary>A rendered report: the HTML page, the CSV of every number it shows, and how many charts and numbers.</summary>
public sealed record RenderedReport(string Html, string Csv, int Charts, int Numbers);

/// <summary>
/// Renders gathered report figures (<see cref="MonthlyReportData"/>) as one self-contained HTML page (charts embedded as
/// PNG, inline CSS) and a CSV (written with CsvHelper) that holds every number the page shows, unrounded.
/// </summary>
public static class ReportRenderer
{
    public static RenderedReport Render(MonthlyReportData data)
    {
        Charts.EnsureFonts();
        var page = new Page(data.TenantName);
        page.Heading(1, $"Pricing report — {data.TenantName} — {data.Month}");
        page.Paragraph($"Tenant {data.TenantId}{(data.Plan is null ? "" : ", plan " + data.Plan)}. Generated {data.GeneratedAt:yyyy-MM-dd HH:mm} UTC. " +
                       $"Usage and bill cover {data.From:yyyy-MM-dd} to {data.To:yyyy-MM-dd}; readouts and recommendations use every event of each " +
                           $"experiment up to now. " +
                       $"Every number here is also in {MonthlyReport.CsvFile}.");
        UsageSection(page, data);
        page.Heading(2, "Experiments");
        if (data.Experiments.Count == 0)
        {
            page.Paragraph("No experiment had events this month.");
        }

        foreach (var experiment in data.Experiments)
        {
            ExperimentSection(page, experiment, data.Settings, data.GeneratedAt);
        }

        return new RenderedReport(page.Html(), page.Csv(), page.ChartCount, page.NumberCount);
    }

    private static void UsageSection(Page page, MonthlyReportData data)
    {
        page.Heading(2, "Usage and bill");
        if (data.Usage is not { Usage: var monthly, Bill: var bill })
        {
            page.Paragraph($"The control plane does not know this tenant (its data was imported, or the lake is read alone), so there is no plan " +
                $"to measure against and no bill. " +
                           $"Events this month: {page.Number("usage", data.TenantId, "events", data.LakeEvents, "N0")}.");
            return;
        }

        page.Table(["", "this month"],
        [
            ["events (each event_id once)", page.Number("usage", data.TenantId, "events", monthly.Events, "N0")],
            ["included in plan " + monthly.Plan, page.Number("usage", data.TenantId, "included_events", monthly.IncludedEvents, "N0")],
            ["share of included events used", page.Number("usage", data.TenantId, "percent_of_included", monthly.PercentOfIncludedEvents, "0.0") + "%"],
            ["API calls", page.Number("usage", data.TenantId, "api_calls", monthly.ApiCalls, "N0")],
            ["busiest minute (requests)", page.Number("usage", data.TenantId, "peak_requests_per_minute", monthly.PeakRequestsPerMinute, "N0")],
            ["base price (" + bill.Currency + ")", page.Number("bill", data.TenantId, "base_price", bill.BasePrice, "0.00")],
            ["overage events", page.Number("bill", data.TenantId, "overage_events", bill.OverageEvents, "N0")],
            ["overage charge (" + bill.Currency + ")", page.Number("bill", data.TenantId, "overage_charge", bill.OverageCharge, "0.00")],
            ["total (" + bill.Currency + ")", page.Number("bill", data.TenantId, "total", bill.Total, "0.00")],
        ]);
        foreach (var warning in monthly.Warnings)
        {
            page.Paragraph("Warning: " + warning);
        }

        page.Paragraph($"Plan advice: {bill.Recommendation.Reason}");
        page.Image("Usage this month", Charts.UsageTrend([.. monthly.Days.Where(d => d.Events > 0).Select(d => (d.Date, d.Events))], monthly.IncludedEvents,
            data.TenantName, monthly.Plan, data.From, data.To));
    }

    private static void ExperimentSection(Page page, ExperimentReport experiment, ReportSettings settings, DateTimeOffset generatedAt)
    {
        page.Heading(3, "Experiment " + experiment.ExperimentId);
        if (experiment.Readout is not { } readout)
        {
            page.Paragraph("No readout: " + experiment.NoReadout);
            return;
        }

        // The decision first, in the same words as po readout, po recommend and the dashboard.
        if (experiment.Recommendation is { } decided)
        {
            page.Paragraph("Decision: " + decided.Headline);
        }

        // The chance to beat the control is on the experiment's goal: revenue per user for a price test, unless it is decided on conversions.
        var onConversions = experiment.Goal == Goal.Conversions;
        page.Paragraph("Readout: " + Statistics.ReadoutHeadline.For(readout, onConversions));
        var currency = experiment.Currency;
        var s = "readout:" + experiment.ExperimentId;
        page.Table(["variant", "price", "users", "buyers", "conversion rate", "95% interval", "revenue per user", "lift vs control",
            "lift 95% interval", "p (Holm)", "sequential p",
                onConversions ? "chance to beat control (conversions)" : "chance to beat control (revenue per user)"],
            [.. readout.Variants.OrderBy(v => v.Price).Select(v => new[]
            {
                v.VariantId + (v.VariantId == readout.ControlVariantId ? " (control)" : ""),
                page.Number(s, v.VariantId, "price", v.Price, "0.00") + " " + currency,
                page.Number(s, v.VariantId, "users", v.Users, "N0"),
                page.Number(s, v.VariantId, "conversions", v.Conversions, "N0"),
                page.Percent(s, v.VariantId, "conversion_rate", v.ConversionRate),
                page.Interval(s, v.VariantId, "conversion_rate_ci", v.ConversionRateCi),
                page.Number(s, v.VariantId, "revenue_per_user", v.RevenuePerUser, "0.000"),
                page.Percent(s, v.VariantId, "lift", v.Lift),
                page.Interval(s, v.VariantId, "lift_ci", v.LiftCi),
                page.Number(s, v.VariantId, "p_value_holm", v.PValueAdjusted, "0.0000"),
                page.Number(s, v.VariantId, "sequential_p_value", v.SequentialPValue, "0.0000"),
                onConversions
                    ? page.Percent(s, v.VariantId, "chance_to_beat_control", v.ChanceToBeatControl)
                    : page.Percent(s, v.VariantId, "revenue_chance_to_beat_control", v.RevenueChanceToBeatControl),
            })]);
        // Statistics contract v2: revenue, the figures a price test is decided on.
        page.Paragraph("Revenue per user" +
                       (readout.RevenueCap is { } cap ? $", each user's revenue capped at {page.Number(s, "all", "revenue_cap", cap, "0.00")} " +
                           $"{currency}" : "") +
                       (readout.CupedTheta is not null
                           ? $"; CUPED (each user's revenue before the test) removes " +
                               $"{page.Percent(s, "all", "cuped_variance_reduction", readout.CupedVarianceReduction)} of its variance, narrowing the intervals"
                           : "; CUPED off (no revenue before the test)") +
                       ". The always-valid intervals hold however often the results are looked at; revenue p (BH) controls the false discovery " +
                           "rate across variants.");
        page.Table(["variant", "revenue lift", "95% interval", "revenue lift, CUPED", "95% interval", "p, CUPED", "revenue p (BH)",
            "conversion difference, always valid", "revenue per user difference, always valid"],
            [.. readout.Variants.OrderBy(v => v.Price).Select(v => new[]
            {
                v.VariantId + (v.VariantId == readout.ControlVariantId ? " (control)" : ""),
                page.Percent(s, v.VariantId, "revenue_lift", v.RevenueLift),
                page.Interval(s, v.VariantId, "revenue_lift_ci", v.RevenueLiftCi),
                page.Percent(s, v.VariantId, "revenue_lift_cuped", v.RevenueLiftCuped),
                page.Interval(s, v.VariantId, "revenue_lift_cuped_ci", v.RevenueLiftCupedCi),
                page.Number(s, v.VariantId, "revenue_per_user_cuped_p_value", v.RevenuePerUserCupedPValue, "0.0000"),
                page.Number(s, v.VariantId, "revenue_p_value_adjusted_bh", v.RevenuePValueAdjustedBh, "0.0000"),
                page.Interval(s, v.VariantId, "difference_cs", v.DifferenceCs),
                page.Range(s, v.VariantId, "revenue_difference_cs", v.RevenueDifferenceCs, "+0.000;-0.000;0.000"),
            })]);
        page.Paragraph($"Sample ratio check p = {page.Number(s, "all", "srm_p_value", readout.SrmPValue, "0.0000")}" +
                       (readout.SrmPValue < 0.001 ? " — users are not split as configured; check the assignment before trusting the comparison." : " (no sign of a broken split).") +
                       $" Users in more than one variant (left out): {page.Number(s, "all", "multiple_exposure_users", readout.MultipleExposureUsers, "N0")}.");
        foreach (var note in readout.Notes)
        {
            page.Paragraph("Note: " + note);
        }

        page.Image("Conversion rate by price", Charts.ConversionRates(readout, currency));
        if (readout.AllocationPeriods is { Count: > 0 } periods && experiment.FirstAssignAt is { } first)
        {
            page.Image("Adaptive weights over time", Charts.AllocationWeights(readout, first, generatedAt, currency));
            page.Paragraph($"Adaptive allocation: {page.Number(s, "all", "weight_versions", periods.Count - 1, "N0")} weight version(s) after the burn-in; " +
                           (periods.Count(p => p.Users > 0) >= 2
                               ? "rates and comparisons are estimated per allocation period and combined with each period's share of users."
                               : "users so far arrived under one split, so pooled figures are exact."));
        }
        if (readout.Variants.Any(v => v.Lift is not null))
        {
            page.Image("Lift over the control", Charts.Lift(readout, currency));
        }

        if (experiment.PriceResponse is { } fit)
        {
            page.Image("Price response", Charts.PriceResponseCurve(fit, experiment.Stats, experiment.ExperimentId, currency));
            page.Paragraph($"Elasticity (log-log fit): {page.Number(s, "all", "elasticity", fit.Slope, "0.000")}, 95% interval " +
                           $"{page.Number(s, "all", "elasticity_low", fit.SlopeCi[0], "0.000")} to " +
                               $"{page.Number(s, "all", "elasticity_high", fit.SlopeCi[1], "0.000")}.");
        }
        else
        {
            page.Paragraph("No price-response curve: " + experiment.NoPriceResponse + ".");
        }

        if (experiment.Recommendation is not { } recommendation)
        {
            page.Paragraph("No recommendation: " + experiment.NoRecommendation);
            return;
        }

        RecommendationSection(page, experiment, recommendation, settings);
    }

    private static void RecommendationSection(Page page, ExperimentReport experiment, Recommendation recommendation, ReportSettings settings)
    {
        var r = "recommendation:" + experiment.ExperimentId;
        page.Heading(4, $"Recommendation ({Json.Wire.Name(recommendation.Goal)})");
        if (recommendation.Status == "ok")
        {
            var goal = Json.Wire.Name(recommendation.Goal);
            string V(string metric, double? value) => goal == "conversions" ? page.Percent(r, goal, metric, value) : page.Number(r, goal, metric,
                value, "0.000");
            page.Table(["", "price", $"expected {goal} per assigned user", "95% interval"],
            [
                ["recommended" + (recommendation.CharmApplied ? " (charm ending)" : "") + (recommendation.Extrapolated ? " (extrapolated)" : ""),
                    page.Number(r, goal, "recommended_price", recommendation.RecommendedPrice, "0.00"),
                    V("expected_value", recommendation.ExpectedValue),
                    $"{V("expected_value_low", recommendation.ExpectedValueCi![0])} to {V("expected_value_high", recommendation.ExpectedValueCi[1])}"],
                ["optimum (before charm)", page.Number(r, goal, "optimal_price", recommendation.OptimalPrice, "0.00"),
                    V("optimal_expected_value", recommendation.OptimalExpectedValue), ""],
                ["best tested price (observed)", page.Number(r, goal, "best_tested_price", recommendation.BestTestedPrice, "0.00"),
                    V("best_tested_expected_value", recommendation.BestTestedExpectedValue), ""],
                ["control " + recommendation.ControlVariantId, page.Number(r, goal, "control_price", recommendation.ControlPrice, "0.00"),
                    V("control_expected_value", recommendation.ControlExpectedValue), ""],
            ]);
            page.Paragraph($"Confidence that the recommended price beats the control: {page.Percent(r, goal, "confidence", recommendation.Confidence)}. " +
                           $"Searched {page.Number(r, goal, "searched_low", recommendation.AllowedPriceRange![0], "0.00")} to " +
                           $"{page.Number(r, goal, "searched_high", recommendation.AllowedPriceRange[1], "0.00")}" +
                           (recommendation.Extrapolated
                               ? $"; the recommended price lies outside the tested prices (extrapolation margin " +
                                   $"{page.Percent(r, goal, "extrapolation_margin", recommendation.ExtrapolationMargin)})."
                               : "; no extrapolation beyond the tested prices."));
            // What buyers actually paid at each tested price, as the readout counts it (the recommendation's own observed values).
            var observed = recommendation.ValueCurve.Where(p => p.ObservedValue is not null).Select(p => (p.Price, p.ObservedValue!.Value)).ToList();
            page.Image($"Expected {goal} by price", Charts.GoalValueCurve(recommendation, observed));
        }

        if (recommendation.Models.Count > 0)
        {
            page.Table(["demand family", "stacking weight", "held-out log-loss", "fits the observed rates"],
                [.. recommendation.Models.OrderByDescending(m => m.Weight).Select(m => new[]
                {
                    m.Name, page.Percent(r, m.Name, "weight", m.Weight), page.Number(r, m.Name, "held_out_log_loss", m.HeldOutLogLoss,
                        "0.00000"), m.FitsData ? "yes" : "no (dropped)",
                })]);
        }

        page.List("Reasoning", recommendation.Reasoning);
        page.List("Next steps", recommendation.NextSteps);
    }

    /// <summary>One number of the CSV: where it is shown, what it measures, its unrounded value.</summary>
    private sealed record CsvNumber(string Section, string Subject, string Metric, string Value);

    /// <summary>The HTML being written, and every number put into it.</summary>
    private sealed class Page(string title)
    {
        private readonly StringBuilder body = new();
        private readonly List<CsvNumber> numbers = [];

        public int ChartCount { get; private set; }

        public int NumberCount => numbers.Count;

        public void Heading(int level, string text) => body.Append(CultureInfo.InvariantCulture, $"<h{level}>{E(text)}</h{level}>\n");

        /// <summary>A paragraph of text; its numbers were formatted (and recorded) by the number helpers.</summary>
        public void Paragraph(string text) => body.Append(CultureInfo.InvariantCulture, $"<p>{E(text)}</p>\n");

        public void List(string heading, IEnumerable<string> items)
        {
            body.Append(CultureInfo.InvariantCulture, $"<p><b>{E(heading)}</b></p><ul>\n");
            foreach (var item in items)
            {
                body.Append(CultureInfo.InvariantCulture, $"<li>{E(item)}</li>\n");
            }

            body.Append("</ul>\n");
        }

        public void Table(string[] header, IReadOnlyList<string[]> rows) => body.Append(Reports.Html.Table(header, rows));

        public void Image(string caption, byte[] png)
        {
            ChartCount++;
            body.Append(Reports.Html.Image(png, caption));
        }

        /// <summary>Formats a number for the page and records it, unrounded, for the CSV.</summary>
        public string Number<T>(string section, string subject, string metric, T? value, string format) where T : struct, IFormattable
        {
            if (value is null)
            {
                return "—";
            }

            // A decimal divided by 1.000… drops its trailing zeros (12.50 → 12.5), as a double prints.
            var raw = value.Value is decimal d ? (d / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture)
                : value.Value.ToString(null, CultureInfo.InvariantCulture);
            numbers.Add(new CsvNumber(section, subject, metric, raw));
            return value.Value.ToString(format, CultureInfo.InvariantCulture);
        }

        public string Number<T>(string section, string subject, string metric, T value, string format) where T : struct, IFormattable =>
            Number(section, subject, metric, (T?)value, format);

        /// <summary>A fraction shown as a percentage; the CSV keeps the fraction.</summary>
        public string Percent(string section, string subject, string metric, double? fraction)
        {
            if (fraction is null)
            {
                return "—";
            }

            Number(section, subject, metric, fraction, "0.000");
            return (fraction.Value * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
        }

        public string Interval(string section, string subject, string metric, double[]? ci) =>
            ci is null ? "—" : $"{Percent(section, subject, metric + "_low", ci[0])} to {Percent(section, subject, metric + "_high", ci[1])}";

        /// <summary>An interval of amounts (not fractions), e.g. a difference in revenue per user.</summary>
        public string Range(string section, string subject, string metric, double[]? ci, string format) =>
            ci is null ? "—" : $"{Number(section, subject, metric + "_low", ci[0], format)} to {Number(section, subject, metric + "_high", ci[1], format)}";

        public string Html() =>
            $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{{E(title)}} — PricingOptimizer report</title>
            <style>
            body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 1000px; margin: 2em auto; color: #222; line-height: 1.45; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
            th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            th { background: #f0f4f8; }
            figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #ddd; }
            figcaption { color: #555; font-size: 0.85em; }
            h2 { border-bottom: 2px solid #2a6; padding-bottom: 4px; margin-top: 2em; }
            </style></head><body>
            {{body}}</body></html>
            """;

        /// <summary>The numbers as CSV (header <c>section,subject,metric,value</c>), quoted where a field needs it.</summary>
        public string Csv()
        {
            using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            using (var csv = new CsvWriter(text, new CsvHelper.Configuration.CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\n" }))
            {
                foreach (var field in (string[])["section", "subject", "metric", "value"])
                {
                    csv.WriteField(field);
                }

                foreach (var number in numbers)
                {
                    csv.NextRecord();
                    csv.WriteField(number.Section);
                    csv.WriteField(number.Subject);
                    csv.WriteField(number.Metric);
                    csv.WriteField(number.Value);
                }

                csv.NextRecord();
            }

            return text.ToString();
        }

        private static string E(string text) => Reports.Html.Encode(text);
    }
}
