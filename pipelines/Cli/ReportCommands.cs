using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PricingOptimizer.Hosting;
using PricingOptimizer.Pricing;
using PricingOptimizer.Reports;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po report</c> (one monthly report now) and <c>po schedule</c> (the configured report jobs on their cron schedules).</summary>
public static class ReportCommands
{
    public static Command Report()
    {
        var tenant = CommonOptions.Tenant();
        var month = new Option<string>("--month") { Description = "The month, yyyy-MM", Required = true };
        var output = new Option<string>("--out") { Description = "Reports folder; the report goes to {out}/{tenant}/{month}/", Required = true };
        var goal = new Option<string>("--goal") { Description = "Goal of the recommendations: revenue | profit | conversions",
            DefaultValueFactory = _ => "revenue" };
        goal.AcceptOnlyFromAmong("revenue", "profit", "conversions");
        var unitCost = new Option<decimal?>("--unit-cost") { Description = "Cost of one sale (for --goal profit)" };
        var priceFloor = new Option<decimal?>("--price-floor") { Description = "Lowest price allowed (--goal conversions needs this or --revenue-floor)" };
        var revenueFloor = new Option<decimal?>("--revenue-floor") { Description = "Least revenue per assigned user allowed (--goal conversions)" };
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("report",
            "Write a tenant's monthly report: self-contained HTML with charts, plus numbers.csv of every number in it. Exits 3 when an " +
                "experiment's recommendation could not be made.")
        {
            tenant, month, output, goal, unitCost, priceFloor, revenueFloor, data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            var tenantId = CommonOptions.CheckTenant(parse.GetValue(tenant)!);
            Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(parse.GetValue(goal), out var parsedGoal);
            var settings = new ReportSettings(parsedGoal, parse.GetValue(unitCost), parse.GetValue(priceFloor), parse.GetValue(revenueFloor));
            if (settings.Request().Problem() is { } problem)
            {
                throw new CliException($"--{problem.Field.Replace('_', '-')}: {problem.Message}");
            }

            await using var services = CommonOptions.Services(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            ReportResult result;
            try
            {
                result = await services.GetRequiredService<MonthlyReport>().WriteAsync(tenantId, parse.GetValue(month)!, parse.GetValue(output)!, settings, ct);
            }
            catch (MissingFontException e)
            {
                throw new CliException(e.Message);
            }

            Console.WriteLine($"report written: {Path.GetFullPath(result.HtmlPath)}");
            Console.WriteLine($"numbers:        {Path.GetFullPath(result.CsvPath)} ({result.Numbers:N0} numbers, {result.Charts} charts, " +
                $"{result.Experiments} experiments)");
            foreach (var reason in result.Unrecommended)
            {
                await Console.Error.WriteLineAsync($"po: no recommendation for experiment {reason}");
            }

            return result.Unrecommended.Count == 0 ? 0 : 3;
        });
        return command;
    }

    public static Command Schedule()
    {
        var data = CommonOptions.Data();
        var lake = CommonOptions.Lake();
        var command = new Command("schedule",
            "Run the report jobs of Reports:Jobs:{i} (Tenant, Cron in UTC, Out, Goal, UnitCost, PriceFloor, RevenueFloor) until stopped; a month " +
                "already reported is skipped.")
        {
            data, lake,
        };
        command.SetAction(async (parse, ct) =>
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddConfiguration(CommonOptions.Configuration(parse.GetValue(data), parse.GetValue(lake)));
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
                o.UseUtcTimestamp = true;
            });
            builder.Services.AddPricingOptimizerEngine();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportScheduler>());
            using var host = builder.Build();
            try
            {
                if (host.Services.GetRequiredService<IOptions<ReportScheduleOptions>>().Value.Jobs.Count == 0)
                {
                    throw new CliException("no report jobs configured: add Reports:Jobs:0:Tenant, Reports:Jobs:0:Cron and Reports:Jobs:0:Out to " +
                        "appsettings.json (see README)");
                }
            }
            catch (OptionsValidationException e)
            {
                // DataAnnotations wraps each rule in "… with the error: '<rule>'."; the rule alone is the message.
                throw new CliException(string.Join("; ", e.Failures.Select(f =>
                    f.IndexOf("with the error: '", StringComparison.Ordinal) is var at and >= 0 ? f[(at + 17)..].TrimEnd('.').TrimEnd('\'') : f)));
            }

            await host.RunAsync(ct);
            return 0;
        });
        return command;
    }
}
