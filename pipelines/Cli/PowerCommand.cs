using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Lake;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po power</c>: how many users each variant needs, for conversion rate or for revenue per user (with and without CUPED).</summary>
public static class PowerCommand
{
    public static Command Create()
    {
        var metric = new Option<string>("--metric") { Description = "conversion_rate or revenue_per_user", DefaultValueFactory = _ => "conversion_rate" };
        metric.AcceptOnlyFromAmong("conversion_rate", "revenue_per_user");
        var baseline = new Option<double?>("--baseline-rate") { Description = "Control conversion rate, e.g. 0.1 (conversion_rate)" };
        var mean = new Option<double?>("--baseline-mean") { Description = "Control revenue per user (revenue_per_user)" };
        var sd = new Option<double?>("--baseline-sd") { Description = "Standard deviation of revenue per user, zeros for non-buyers included " +
            "(revenue_per_user)" };
        var reduction = new Option<double?>("--cuped-reduction") { Description = "Share of the variance CUPED removes, e.g. 0.3 (the readout's " +
            "cuped_variance_reduction)" };
        var tenant = new Option<string?>("--tenant") { Description = "With --experiment: read the baseline mean, SD and CUPED reduction from a " +
            "running experiment's control" };
        var experiment = new Option<string?>("--experiment") { Description = "The experiment to read the baseline from" };
        var control = new Option<string?>("--control") { Description = "Its control variant (default: the configured one)" };
        var cap = new Option<double?>("--cap-percentile") { Description = "Cap revenue as the readout would, e.g. 0.99" };
        var mde = new Option<double>("--mde") { Description = "Smallest relative change worth detecting, e.g. 0.1 for +10%", Required = true };
        var alpha = new Option<double>("--alpha") { Description = "Two-sided significance level", DefaultValueFactory = _ => 0.05 };
        var power = new Option<double>("--power") { Description = "Probability of detecting the change", DefaultValueFactory = _ => 0.8 };
        var variants = new Option<int>("--variants") { Description = "Variants including the control (level split across comparisons)",
            DefaultValueFactory = _ => 2 };
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("power",
            "Users per variant to detect a relative change in conversion rate (two-proportion test) or in revenue per user (test of means, with " +
                "and without CUPED).")
        {
            metric, baseline, mean, sd, reduction, tenant, experiment, control, cap, mde, alpha, power, variants, data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(metric) == "conversion_rate")
            {
                Rate(parse.GetValue(baseline) ?? throw new CliException("--baseline-rate is required for --metric conversion_rate"), parse.GetValue(mde),
                    parse.GetValue(alpha), parse.GetValue(power), parse.GetValue(variants));
                return 0;
            }

            double m, variance, r;
            string source;
            if (parse.GetValue(tenant) is { } t)
            {
                var e = parse.GetValue(experiment) ?? throw new CliException("--tenant goes with --experiment");
                await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
                var readouts = services.GetRequiredService<ReadoutService>();
                var options = new ReadoutOptions(parse.GetValue(cap) ?? readouts.Defaults.CapPercentile, readouts.Defaults.SequentialTuning);
                var readout = await readouts.GetAsync(CommonOptions.CheckTenant(t), e, parse.GetValue(control), options, ct);
                var moments = (await services.GetRequiredService<LakeQueries>().ExperimentReadoutStatsAsync(t, e, options.CapPercentile, ct)).Moments;
                var baselineMoments = moments?.Variants.FirstOrDefault(v => v.VariantId == readout.ControlVariantId)
                                      ?? throw new CliException($"--experiment {e} has no counted users in its control yet");
                (m, variance, r) = (baselineMoments.MeanY, baselineMoments.VarianceY, parse.GetValue(reduction) ?? readout.CupedVarianceReduction ?? 0);
                source = string.Create(CultureInfo.InvariantCulture,
                    $"control '{readout.ControlVariantId}' of {e}: {baselineMoments.Users:N0} " +
                        $"users{(options.CapPercentile is { } q ? $", revenue capped at the {q:0.###} quantile" : "")}");
            }
            else
            {
                m = parse.GetValue(mean) ?? throw new CliException("give --baseline-mean and --baseline-sd, or --tenant and --experiment to read them");
                var s = parse.GetValue(sd) ?? throw new CliException("--baseline-sd is required with --baseline-mean");
                (variance, r, source) = (s * s, parse.GetValue(reduction) ?? 0, "given");
            }

            Revenue(m, variance, r, source, parse.GetValue(mde), parse.GetValue(alpha), parse.GetValue(power), parse.GetValue(variants));
            return 0;
        });
        return command;
    }

    private static void Rate(double p1, double change, double alpha, double power, int k)
    {
        var p2 = p1 * (1 + change);
        long users;
        try
        {
            users = Power.UsersPerVariant(p1, p2, alpha, power, k);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new CliException($"need 0 < --baseline-rate < 1, --mde != 0 with 0 < rate × (1 + mde) < 1 (here {p2:0.####}), 0 < --alpha, " +
                $"--power < 1, --variants >= 2");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{users:N0} users per variant ({users * k:N0} in all for {k} variants) to detect {p1:0.####} → {p2:0.####} ({change:+0.#%;-0.#%}) at " +
                $"alpha {alpha} with power {power}"));
    }

    private static void Revenue(double mean, double variance, double reduction, string source, double change, double alpha, double power, int k)
    {
        long plain, cuped;
        try
        {
            plain = Power.UsersPerVariantForMean(mean, variance, change, alpha, power, k);
            cuped = Power.UsersPerVariantForMean(mean, variance, change, alpha, power, k, reduction);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new CliException("need --baseline-mean > 0, --baseline-sd > 0, --mde != 0, 0 <= --cuped-reduction < 1, 0 < --alpha, --power < 1, " +
                "--variants >= 2");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"revenue per user {mean:0.00##} (SD {Math.Sqrt(variance):0.00}; {source}): to detect {change:+0.#%;-0.#%} at alpha {alpha} with power {power}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  without CUPED: {plain:N0} users per variant ({plain * k:N0} in all for {k} variants)"));
        Console.WriteLine(reduction > 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"  with CUPED removing {reduction:0.0%} of the variance: {cuped:N0} users per variant ({cuped * k:N0} in all)")
            : "  with CUPED: no pre-period revenue known (give --cuped-reduction to plan with one)");
    }
}
