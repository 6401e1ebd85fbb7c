using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PricingOptimizer.Reports;
using PricingOptimizer.Simulation;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Pricing;

public sealed partial class ReportTests : IDisposable
{
    private readonly TempDirectory folder = new();

    private async Task<string> SimulatedLakeAsync()
    {
        var data = Path.Combine(folder.Path, "data");
        var csv = Path.Combine(folder.Path, "sim.csv");
        File.WriteAllText(Path.Combine(folder.Path, "demand.json"),
            """{"intercept":0.2,"slope":-0.12,"prices":[7.99,9.99,11.99,13.99],"users_per_price":600,"seed":5,"days":10}""");
        Assert.Equal(0, (await PoProcess.RunAsync(folder.Path, null, "simulate", "--settings", "demand.json", "--experiment", "price-test", "--csv",
            csv, "--end", "2026-10-20T00:00:00Z")).ExitCode);
        Assert.Equal(0, (await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "shop", "--csv", csv, "--data", data)).ExitCode);
        return data;
    }

    [Fact]
    public async Task Po_report_writes_html_with_embedded_charts_and_a_csv_holding_every_number_shown()
    {
        var data = await SimulatedLakeAsync();
        var result = await PoProcess.RunAsync(folder.Path, null, "report", "--tenant", "shop", "--month", "2026-10", "--out", "reports", "--data", data);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var html = File.ReadAllText(Path.Combine(folder.Path, "reports", "shop", "2026-10", "report.html"));
        var csv = File.ReadAllLines(Path.Combine(folder.Path, "reports", "shop", "2026-10", "numbers.csv"));

        Assert.Contains("<h1>Pricing report — shop — 2026-10</h1>", html, StringComparison.Ordinal);
        Assert.Equal(4, Regex.Matches(html, "src=\"data:image/png;base64,").Count); // conversion rates, lift, price response, goal value (no plan: no usage chart)
        Assert.DoesNotContain("src=\"http", html, StringComparison.Ordinal); // self-contained
        Assert.Contains("Reasoning", html, StringComparison.Ordinal);
        Assert.Equal("section,subject,metric,value", csv[0]);

        // Every number in a table cell of the HTML is in the CSV (compared after formatting both the same way).
        var values = csv.Skip(1).Select(l => l.Split(',')[^1]).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        foreach (Match cell in CellNumber().Matches(html))
        {
            var shown = cell.Groups[1].Value.Replace(",", "", StringComparison.Ordinal);
            var number = double.Parse(shown, CultureInfo.InvariantCulture);
            var decimals = shown.Contains('.', StringComparison.Ordinal) ? shown.Length - shown.IndexOf('.', StringComparison.Ordinal) - 1 : 0;
            var isPercent = cell.Groups[2].Success;
            Assert.True(values.Any(v => Math.Abs(Math.Round((isPercent ? v * 100 : v),
                decimals) - number) < 1e-9 || (decimals == 0 && Math.Abs(v - number) < 0.5)),
                $"{cell.Value} is shown but not in numbers.csv");
        }

        Assert.Contains(csv, l => l.StartsWith("readout:price-test,p0,users,", StringComparison.Ordinal));
        Assert.Contains(csv, l => l.StartsWith("recommendation:price-test,revenue,recommended_price,", StringComparison.Ordinal));
        // The recommendation v2 fields: the naive rule's price, the search range, and every family with its weight.
        Assert.Contains(csv, l => l.StartsWith("recommendation:price-test,revenue,best_tested_price,", StringComparison.Ordinal));
        Assert.Contains(csv, l => l.StartsWith("recommendation:price-test,isotonic,weight,", StringComparison.Ordinal));
        Assert.Contains("best tested price (observed)", html, StringComparison.Ordinal);
        Assert.Contains("demand family", html, StringComparison.Ordinal);
        Assert.Contains("no extrapolation beyond the tested prices", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_report_that_cannot_make_its_recommendation_says_why_on_stderr_and_exits_non_zero()
    {
        var data = await SimulatedLakeAsync();
        var noFloor = await PoProcess.RunAsync(folder.Path, null, "report", "--tenant", "shop", "--month", "2026-10", "--out", "reports", "--goal",
            "conversions", "--data", data);
        Assert.Equal(1, noFloor.ExitCode);
        Assert.Equal("po: --price-floor: the conversions goal needs a price floor or a revenue floor (conversions alone always favour the lowest " +
            "price)", noFloor.Stderr.Trim());

        var floor = await PoProcess.RunAsync(folder.Path, null, "report", "--tenant", "shop", "--month", "2026-10", "--out", "reports", "--goal", "conversions",
            "--price-floor", "9.50", "--data", data);
        Assert.True(floor.ExitCode == 0, floor.Stderr);
        var csv = File.ReadAllLines(Path.Combine(folder.Path, "reports", "shop", "2026-10", "numbers.csv"));
        var price = csv.Single(l => l.StartsWith("recommendation:price-test,conversions,recommended_price,", StringComparison.Ordinal));
        Assert.True(decimal.Parse(price.Split(',')[^1], CultureInfo.InvariantCulture) >= 9.50m, price);

        // A floor above every tested price: the report is written, but the recommendation cannot be made, and it says so.
        var tooHigh = await PoProcess.RunAsync(folder.Path, null, "report", "--tenant", "shop", "--month", "2026-10", "--out", "reports", "--goal",
            "conversions",
            "--price-floor", "40", "--data", data);
        Assert.Equal(3, tooHigh.ExitCode);
        var line = Assert.Single(tooHigh.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("po: no recommendation for experiment price-test: The price floor 40.00", line, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder.Path, "reports", "shop", "2026-10", "report.html")));
    }

    [Fact]
    public async Task A_scheduled_job_reports_the_last_complete_month_once_and_skips_it_after_a_restart()
    {
        var data = await SimulatedLakeAsync();
        var configuration = Pipelines.Cli.CommonOptions.Configuration(data, null);
        await using var services = Pipelines.Cli.CommonOptions.Services(configuration);
        var job = new ReportJob { Tenant = "shop", Cron = "0 6 1 * *", Out = Path.Combine(folder.Path, "scheduled") };
        var options = Options.Create(new ReportScheduleOptions { Jobs = [job] });
        var at = new DateTimeOffset(2026, 11, 1, 6, 0, 0, TimeSpan.Zero);

        var first = new ReportScheduler(options, services.GetRequiredService<MonthlyReport>(), TimeProvider.System, NullLogger<ReportScheduler>.Instance);
        var line = await first.RunAsync(job, at, CancellationToken.None);
        Assert.StartsWith("report shop 2026-10: written to", line, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(job.Out, "shop", "2026-10", "report.html")));

        var restarted = new ReportScheduler(options, services.GetRequiredService<MonthlyReport>(), TimeProvider.System, NullLogger<ReportScheduler>.Instance);
        Assert.StartsWith("report shop 2026-10: skipped, already written", await restarted.RunAsync(job, at.AddDays(1), CancellationToken.None),
            StringComparison.Ordinal);
        Assert.Equal("2026-10", ReportScheduler.PeriodAt(at));
        Assert.Equal("2026-12", ReportScheduler.PeriodAt(new DateTimeOffset(2027, 1, 31, 23, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Bad_schedules_are_refused_with_the_job_and_the_rule()
    {
        var options = new ReportScheduleOptions { Jobs = [new ReportJob { Tenant = "shop", Cron = "every day", Out = "x" },
            new ReportJob { Tenant = "shop", Goal = "profit", Out = "x" }] };
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();
        Assert.Contains(errors, e => e!.Contains("Reports:Jobs:0:Cron 'every day'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("Reports:Jobs:1:UnitCost: the profit goal needs a unit cost", StringComparison.Ordinal));

        var conversions = new ReportScheduleOptions { Jobs = [new ReportJob { Tenant = "shop", Goal = "conversions", Out = "x" }] };
        Assert.Contains(conversions.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(conversions)),
            e => e.ErrorMessage!.StartsWith("Reports:Jobs:0:PriceFloor: the conversions goal needs a price floor", StringComparison.Ordinal));
        var withFloor = new ReportScheduleOptions { Jobs = [new ReportJob { Tenant = "shop", Goal = "conversions", Out = "x", RevenueFloor = 1 }] };
        Assert.Empty(withFloor.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(withFloor)));
    }

    [Fact]
    public async Task Po_report_refuses_a_bad_month_in_one_line()
    {
        var result = await PoProcess.RunAsync(folder.Path, null, "report", "--tenant", "shop", "--month", "October", "--out", "r", "--data",
            Path.Combine(folder.Path, "d"));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("po: --month: month must be yyyy-MM, e.g. 2026-11", result.Stderr.Trim());
    }

    [GeneratedRegex(@"<td>([0-9][0-9,]*(?:\.[0-9]+)?)(%)?(?: [A-Z]{3})?</td>")]
    private static partial Regex CellNumber();

    public void Dispose() => folder.Dispose();
}
