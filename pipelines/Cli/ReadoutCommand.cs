using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po readout</c>: the statistics contract for one experiment, as a table or JSON.</summary>
public static class ReadoutCommand
{

    public static Command Create()
    {
        var tenant = CommonOptions.Tenant();
        var experiment = new Option<string>("--experiment") { Description = "Experiment id", Required = true };
        var control = new Option<string?>("--control") { Description = "Control variant (default: the configured one, else 'control', else the first)" };
        var json = new Option<bool>("--json") { Description = "Print the contract's JSON" };
        var wide = new Option<bool>("--wide") { Description = "Every column (p-values, CUPED, always-valid intervals, elasticities), wider than 100" };
        var cap = new Option<double?>("--cap-percentile") { Description = "Cap each user's revenue at this quantile of positive per-user revenues, " +
            "e.g. 0.99 (default: Statistics:RevenueCapPercentile, none)" };
        var tuning = new Option<double?>("--sequential-tuning") { Description = "N* of the always-valid confidence sequences (default: " +
            "Statistics:SequentialTuning, 5000)" };
        var cuped = new Option<bool?>("--cuped") { Description = "true or false: force CUPED on or off (default: on when any user has pre-period revenue)" };
        var (days, mature) = CommonOptions.Attribution();
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("readout", "Per-variant conversion, revenue and comparisons against the control.")
        {
            tenant, experiment, control, json, wide, cap, tuning, cuped, days, mature, data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            var readouts = services.GetRequiredService<ReadoutService>();
            var options = new ReadoutOptions(parse.GetValue(cap) ?? readouts.Defaults.CapPercentile,
                parse.GetValue(tuning) ?? readouts.Defaults.SequentialTuning,
                parse.GetValue(cuped), parse.GetValue(days), parse.GetValue(mature));
            var readout = await readouts.GetAsync(tenantId, parse.GetValue(experiment)!, parse.GetValue(control), options, ct);

            Console.Write(parse.GetValue(json) ? JsonSerializer.Serialize(readout, PricingOptimizer.Json.Wire.Indented) + Environment.NewLine
                : parse.GetValue(wide) ? Table(readout) : Summary(readout));
            return 0;
        });
        return command;
    }

    private static string F(double? v, string format) => v is null ? "—" : v.Value.ToString(format, CultureInfo.InvariantCulture);

    private static string Ci(double[]? ci, string format) => ci is null ? "—" : $"[{F(ci[0], format)}, {F(ci[1], format)}]";

    /// <summary>
    /// The default view, within 100 columns: the headline, then per variant the figures a decision rests on —
    /// users, buyers, conversion rate, revenue per user, its lift over the control with the 95% interval, and the
    /// chance to beat the control on revenue per user. <c>--wide</c> shows <see cref="Table"/>.
    /// </summary>
    public static string Summary(Readout r)
    {
        var text = new StringBuilder();
        text.AppendLine(TextLayout.Wrap(r.Headline));
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Experiment {r.ExperimentId} of {r.TenantId}; control {r.ControlVariantId ?? "—"}; " +
            $"sample ratio p {F(r.SrmPValue, "0.000")}{(r.SrmPValue < 0.001 ? " (!)" : "")}");
        if (r.AttributionDays is { } days)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Converts within {days} days of each user's first assign{(r.MatureOnly ? "; users whose window has closed" : "")}");
        }

        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{"variant",-12} {"price",8} {"users",8} {"buyers",7} {"conv.",7} {"rev/user",8} {"rev lift",8} {"95% interval",17} {"P(better)",9}"));
        foreach (var v in r.Variants)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{Clip(v.VariantId, 12),-12} {v.Price,8:0.00} {v.Users,8:N0} {v.Conversions,7:N0} {F(v.ConversionRate * 100, "0.0") + (v.ConversionRate is null ? "" : "%"),7} " +
                    $"{F(v.RevenuePerUser, "0.000"),8} {F(v.RevenueLift * 100, "+0.0;-0.0;0.0") + (v.RevenueLift is null ? "" : "%"),8} " +
                    $"{Ci(v.RevenueLiftCi?.Select(x => x * 100).ToArray(), "+0.0;-0.0;0.0"),17} " +
                    $"{F(v.RevenueChanceToBeatControl * 100, "0") + (v.RevenueChanceToBeatControl is null ? "" : "%"),9}"));
        }

        text.AppendLine();
        text.AppendLine(TextLayout.Wrap("rev lift: revenue per user against the control, with its 95% interval (fixed horizon); P(better): chance its " +
            "revenue per user beats the control's. --wide shows every column; --json the whole contract."));
        foreach (var note in r.Notes)
        {
            text.AppendLine(TextLayout.Wrap("note: " + note));
        }

        return text.ToString();
    }

    private static string Clip(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    /// <summary>Every column of the contract (<c>--wide</c>): p-values and their corrections, CUPED, the always-valid intervals, elasticities.</summary>
    public static string Table(Readout r)
    {
        var text = new StringBuilder();
        text.AppendLine(r.Headline);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Experiment {r.ExperimentId} of {r.TenantId} — control: {r.ControlVariantId ?? "—"}");
        if (r.AttributionDays is { } days)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Attribution window: converts within {days} days of each user's first assign{(r.MatureOnly ? "; only users whose window has closed" : "")}");
        }

        text.AppendLine(CultureInfo.InvariantCulture,
            $"Sample ratio p = {F(r.SrmPValue, "0.0000")}{(r.SrmPValue < 0.001 ? "  (!) users are not split as configured: check the assignment" : "")}; users in more than one variant (excluded): {r.MultipleExposureUsers:N0}");
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{"variant",-12} {"price",9} {"users",8} {"buyers",7} {"conv.rate",9} {"95% CI",19} {"revenue",11} {"rev/user",9} {"lift",8} " +
                $"{"lift 95% CI",19} {"p",7} {"p (Holm)",8} {"p (BH)",7} {"seq. p",7} {"rev p",7} {"P(beat)",7} {"exp.loss",9} {"arc el.",7}"));
        foreach (var v in r.Variants)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{v.VariantId,-12} {v.Price,9:0.00} {v.Users,8:N0} {v.Conversions,7:N0} {F(v.ConversionRate * 100, "0.00") + "%",9} " +
                    $"{Ci(v.ConversionRateCi?.Select(x => x * 100).ToArray(), "0.00"),19} {v.Revenue,11:N2} {F(v.RevenuePerUser, "0.000"),9} " +
                    $"{F(v.Lift * 100, "+0.0;-0.0;0.0") + (v.Lift is null ? "" : "%"),8} " +
                    $"{Ci(v.LiftCi?.Select(x => x * 100).ToArray(), "+0.0;-0.0;0.0"),19} {F(v.PValue, "0.0000"),7} " +
                    $"{F(v.PValueAdjusted, "0.0000"),8} {F(v.PValueAdjustedBh, "0.0000"),7} {F(v.SequentialPValue, "0.0000"),7} " +
                    $"{F(v.RevenuePerUserPValue, "0.0000"),7} " +
                    $"{F(v.ChanceToBeatControl * 100, "0.0") + (v.ChanceToBeatControl is null ? "" : "%"),7} {F(v.ExpectedLoss, "0.00000"),9} " +
                    $"{F(v.ArcElasticity, "0.00"),7}"));
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Revenue per user{(r.RevenueCap is { } capped ? string.Create(CultureInfo.InvariantCulture, $", each user capped at {capped:0.00}") : "")}{(r.CupedTheta is { } th ? string.Create(CultureInfo.InvariantCulture, $"; CUPED θ = {th:0.0000}, variance removed {r.CupedVarianceReduction * 100:0.0}%") : "; CUPED off")}:");
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{"variant",-12} {"rev lift",9} {"95% CI",19} {"CUPED rpu",10} {"CUPED lift",10} {"95% CI",19} {"CUPED p",8} {"rev p (BH)",10} " +
                $"{"rate diff, always valid",25} {"rpu diff, always valid",25}"));
        foreach (var v in r.Variants)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{v.VariantId,-12} {F(v.RevenueLift * 100, "+0.0;-0.0;0.0") + (v.RevenueLift is null ? "" : "%"),9} " +
                    $"{Ci(v.RevenueLiftCi?.Select(x => x * 100).ToArray(), "+0.0;-0.0;0.0"),19} {F(v.RevenuePerUserCuped, "0.000"),10} " +
                    $"{F(v.RevenueLiftCuped * 100, "+0.0;-0.0;0.0") + (v.RevenueLiftCuped is null ? "" : "%"),10} " +
                    $"{Ci(v.RevenueLiftCupedCi?.Select(x => x * 100).ToArray(), "+0.0;-0.0;0.0"),19} {F(v.RevenuePerUserCupedPValue, "0.0000"),8} " +
                    $"{F(v.RevenuePValueAdjustedBh, "0.0000"),10} {Ci(v.DifferenceCs, "+0.0000;-0.0000;0.0000"),25} " +
                    $"{Ci(v.RevenueDifferenceCs, "+0.000;-0.000;0.000"),25}"));
        }

        if (r.BestVsControl is { } best)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Best revenue per user: {best.VariantId} ({best.Price:0.00}), {best.RevenueDifference:+0.000;-0.000} per user against the control, " +
                $"95% CI [{best.RevenueDifferenceCi[0]:0.000}, {best.RevenueDifferenceCi[1]:0.000}]; corrected for picking the best-looking variant " +
                $"[{best.RevenueDifferenceCorrectedCi[0]:0.000}, {best.RevenueDifferenceCorrectedCi[1]:0.000}]");
        }

        if (r.Elasticity is { } e)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Price elasticity of conversion (log-log fit): {e.Slope:0.000}, 95% CI [{e.SlopeCi[0]:0.000}, {e.SlopeCi[1]:0.000}]");
        }

        text.AppendLine();
        text.AppendLine("p: fixed-horizon z-test, valid at one planned look; seq. p and the 'always valid' intervals may be read any day.");
        text.AppendLine("CUPED: revenue adjusted by each user's revenue before the test; same effect, narrower interval.");
        text.AppendLine("p (BH), rev p (BH): false discovery rate across variants, on the conversion p and on the revenue p (CUPED's when on).");
        foreach (var note in r.Notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"note: {note}");
        }

        return text.ToString();
    }
}
