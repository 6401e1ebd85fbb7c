using System.CommandLine;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po power</c>: how many users each variant needs.</summary>
public static class PowerCommand
{
    public static Command Create()
    {
        var baseline = new Option<double>("--baseline-rate") { Description = "Control conversion rate, e.g. 0.1", Required = true };
        var mde = new Option<double>("--mde") { Description = "Smallest relative change worth detecting, e.g. 0.1 for +10%", Required = true };
        var alpha = new Option<double>("--alpha") { Description = "Two-sided significance level", DefaultValueFactory = _ => 0.05 };
        var power = new Option<double>("--power") { Description = "Probability of detecting the change", DefaultValueFactory = _ => 0.8 };
        var variants = new Option<int>("--variants") { Description = "Variants including the control (level split across comparisons)", DefaultValueFactory = _ => 2 };
        var command = new Command("power", "Users per variant for a two-proportion test to detect a relative change in conversion rate.")
        {
            baseline, mde, alpha, power, variants,
        };
        command.SetAction(parse =>
        {
            var p1 = parse.GetValue(baseline);
            var change = parse.GetValue(mde);
            var p2 = p1 * (1 + change);
            long users;
            try
            {
                users = Power.UsersPerVariant(p1, p2, parse.GetValue(alpha), parse.GetValue(power), parse.GetValue(variants));
            }
            catch (ArgumentOutOfRangeException)
            {
                throw new CliException($"need 0 < --baseline-rate < 1, --mde != 0 with 0 < rate × (1 + mde) < 1 (here {p2:0.####}), 0 < --alpha, --power < 1, --variants >= 2");
            }

            var k = parse.GetValue(variants);
            Console.WriteLine($"{users:N0} users per variant ({users * k:N0} in all for {k} variants) to detect {p1:0.####} → {p2:0.####} ({change:+0.#%;-0.#%}) at alpha {parse.GetValue(alpha)} with power {parse.GetValue(power)}");
            return 0;
        });
        return command;
    }
}
