using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PricingOptimizer.Hosting;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>The long-running workers: <c>po land</c> (the lander) and <c>po dispatch</c> (the billing dispatcher), each until Ctrl+C.</summary>
public static class WorkerCommands
{
    /// <summary><c>po land</c>: a Kafka consumer-group member, or the embedded log's consumer.</summary>
    public static Command Land() =>
        Worker<LanderService>("land", "Land events from the event log into the Parquet lake until stopped (Ctrl+C).", withLake: true);

    /// <summary><c>po dispatch</c>: its own consumer group on the event log.</summary>
    public static Command Dispatch() =>
        Worker<Billing.BillingDispatcherService>("dispatch",
            "Deliver events to each tenant's billing adapter (Stripe, Paid.ai, manual) until stopped (Ctrl+C).",
            withLake: false);

    private static Command Worker<TService>(string name, string description, bool withLake)
        where TService : class, IHostedService
    {
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command(name, description) { data };
        if (withLake)
        {
            command.Options.Add(lake);
        }

        command.SetAction(async (parse, ct) =>
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddConfiguration(CommonOptions.Configuration(parse.GetValue(data), withLake ? parse.GetValue(lake) : null));
            builder.Services.AddPricingOptimizerEngine();
            builder.Services.AddHostedService<TService>();
            if (withLake)
            {
                builder.Services.AddHostedService<CompactorService>();
            }

            using var host = builder.Build();
            await host.RunAsync(ct);
            return 0;
        });
        return command;
    }
}
