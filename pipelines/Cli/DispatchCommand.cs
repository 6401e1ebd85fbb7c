using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PricingOptimizer.Hosting;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po dispatch</c>: the billing dispatcher as a long-running worker (its own consumer group on the event log).</summary>
public static class DispatchCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var command = new Command("dispatch", "Deliver events to each tenant's billing adapter (Stripe, Paid.ai, manual) until stopped (Ctrl+C).") { data };
        command.SetAction(async (parse, ct) =>
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddConfiguration(CommonOptions.Configuration(parse.GetValue(data), null));
            builder.Services.AddPricingOptimizerEngine();
            builder.Services.AddHostedService<Billing.BillingDispatcherService>();
            using var host = builder.Build();
            await host.RunAsync(ct);
            return 0;
        });
        return command;
    }
}
