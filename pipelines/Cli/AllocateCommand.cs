using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Adaptive;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po allocate</c>: what an adaptive update would do for an experiment now, and why.</summary>
public static class AllocateCommand
{
    public static Command Create()
    {
        var tenant = CommonOptions.Tenant();
        var experiment = new Option<string>("--experiment") { Description = "Experiment id", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the proposal as JSON" };
        var apply = new Option<bool>("--apply")
        {
            Description = "Store the update as the next weight version (users seen from then on are assigned by it); not before one cadence after the last",
        };
        var force = new Option<bool>("--force") { Description = "With --apply: store it even if the last version is younger than one cadence" };
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("allocate",
            "Propose the next weights of an adaptive experiment from its counted users (burn-in, or top-two Thompson sampling on the demand model).")
        {
            tenant, experiment, json, apply, force, data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            if (parse.GetValue(force) && !parse.GetValue(apply))
            {
                throw new CliException("--force: only with --apply");
            }

            var allocator = services.GetRequiredService<AllocationService>();
            AllocationService.UpdateResult? update = null;
            var proposal = parse.GetValue(apply)
                ? (update = await allocator.UpdateAsync(tenantId, parse.GetValue(experiment)!, parse.GetValue(force), ct)).Proposal
                : await allocator.ProposeAsync(tenantId, parse.GetValue(experiment)!, ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(update is null ? JsonSerializer.Serialize(proposal, Json.Wire.Indented) : JsonSerializer.Serialize(update, Json.Wire.Indented));
                return 0;
            }

            Console.WriteLine($"allocation of {parse.GetValue(experiment)}: {proposal.State}");
            foreach (var (variant, weight) in proposal.Weights)
            {
                var detail = proposal.Details.FirstOrDefault(d => d.VariantId == variant);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {variant,-16} {weight,7:P1}") + (detail is null ? "" : string.Create(
                    CultureInfo.InvariantCulture, $"   best or second in {detail.TopTwoShare:P1} of draws, worse than the best with {detail.ChanceWorseThanBest:P1}")));
            }

            foreach (var reason in proposal.Reasons)
            {
                Console.WriteLine("  - " + reason);
            }

            if (update is not null)
            {
                Console.WriteLine(update.Outcome);
            }

            return 0;
        });
        return command;
    }
}
