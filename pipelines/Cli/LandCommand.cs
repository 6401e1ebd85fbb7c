using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PricingOptimizer.Hosting;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po land</c>: the lander as a long-running worker (a Kafka consumer group member, or the embedded log's consumer).</summary>
public static class LandCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("land", "Land events from the event log into the Parquet lake until stopped (Ctrl+C).") { data, lake };
        command.SetAction(async (parse, ct) =>
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddConfiguration(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            builder.Services.AddPricingOptimizerEngine();
            builder.Services.AddHostedService<LanderService>();
            using var host = builder.Build();
            await host.RunAsync(ct);
            return 0;
        });
        return command;
    }
}
