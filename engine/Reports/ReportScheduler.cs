using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Cronos;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PricingOptimizer.Pricing;

namespace PricingOptimizer.Reports;

/// <summary>One scheduled report: a tenant, a cron expression (UTC, five fields), where reports go, and the goal.</summary>
public sealed class ReportJob
{
    [Required] public string Tenant { get; set; } = "";

    /// <summary>Five-field cron expression in UTC, e.g. <c>0 6 1 * *</c> (06:00 on the 1st).</summary>
    [Required] public string Cron { get; set; } = "0 6 1 * *";

    [Required] public string Out { get; set; } = "./reports";

    public string Goal { get; set; } = "revenue";

    public decimal? UnitCost { get; set; }

    /// <summary>Lowest price allowed: the conversions goal needs this or <see cref="RevenueFloor"/>.</summary>
    public decimal? PriceFloor { get; set; }

    /// <summary>Least revenue per assigned user allowed (conversions goal).</summary>
    public decimal? RevenueFloor { get; set; }

    public ReportSettings Settings()
    {
        Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(Goal, out var goal);
        return new ReportSettings(goal, UnitCost, PriceFloor, RevenueFloor);
    }
}

/// <summary>Configuration section <c>Reports</c>: <c>Reports:Jobs:{i}:Tenant</c>, <c>…:Cron</c>, <c>…:Out</c>,
/// <c>…:Goal</c>, <c>…:UnitCost</c>, <c>…:PriceFloor</c>, <c>…:RevenueFloor</c>.</summary>
public sealed class ReportScheduleOptions : IValidatableObject
{
    public const string Section = "Reports";

    public List<ReportJob> Jobs { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Jobs.Count; i++)
        {
            var job = Jobs[i];
            if (!Lake.LakeLayout.IsValidTenantId(job.Tenant))
            {
                yield return new ValidationResult($"Reports:Jobs:{i}:Tenant '{job.Tenant}' is not a tenant id");
            }

            if (!CronExpression.TryParse(job.Cron, CronFormat.Standard, out _))
            {
                yield return new ValidationResult($"Reports:Jobs:{i}:Cron '{job.Cron}' is not a five-field cron expression (minute hour day month weekday)");
            }

            if (!Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(job.Goal, out _))
            {
                yield return new ValidationResult($"Reports:Jobs:{i}:Goal '{job.Goal}' is not revenue, profit or conversions");
            }
            else if (job.Settings().Request().Problem() is { } problem)
            {
                var key = string.Concat(problem.Field.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
                yield return new ValidationResult($"Reports:Jobs:{i}:{key}: {problem.Message}");
            }
        }
    }
}

/// <summary>
/// Runs the configured report jobs on their cron schedules: at each occurrence, the report of the last complete
/// month, unless that month's report already exists (so a restart, or a job that fires daily, never repeats one).
/// One log line per run.
/// </summary>
public sealed class ReportScheduler(IOptions<ReportScheduleOptions> options, MonthlyReport reports, TimeProvider time, ILogger<ReportScheduler> logger)
    : BackgroundService
{
    /// <summary>The month a run at <paramref name="at"/> reports: the last complete one.</summary>
    public static string PeriodAt(DateTimeOffset at) => at.UtcDateTime.AddMonths(-1).ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Runs one job for the period of <paramref name="at"/>; returns what it did.</summary>
    public async Task<string> RunAsync(ReportJob job, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var month = PeriodAt(at);
        if (MonthlyReport.Exists(job.Out, job.Tenant, month))
        {
            var skipped = $"report {job.Tenant} {month}: skipped, already written to {MonthlyReport.Folder(Path.GetFullPath(job.Out), job.Tenant, month)}";
            logger.LogInformation("{Line}", skipped);
            return skipped;
        }

        try
        {
            var result = await reports.WriteAsync(job.Tenant, month, job.Out, job.Settings(), cancellationToken);
            var line = $"report {job.Tenant} {month}: written to {Path.GetFullPath(result.HtmlPath)} ({result.Experiments} experiments, " +
                $"{result.Charts} charts, {result.Numbers} numbers)";
            if (result.Unrecommended.Count > 0)
            {
                line += $"; no recommendation for {string.Join("; ", result.Unrecommended)}";
                logger.LogError("{Line}", line);
            }
            else
            {
                logger.LogInformation("{Line}", line);
            }

            return line;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var line = $"report {job.Tenant} {month}: failed: {e.Message}";
            logger.LogError("{Line}", line);
            return line;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var jobs = options.Value.Jobs.Select(j => (Job: j, Cron: CronExpression.Parse(j.Cron, CronFormat.Standard))).ToList();
        if (jobs.Count == 0)
        {
            logger.LogWarning("no report jobs configured (Reports:Jobs:0:Tenant, …:Cron, …:Out); nothing to schedule");
            return;
        }

        foreach (var (job, cron) in jobs)
        {
            logger.LogInformation("report {Tenant}: scheduled '{Cron}' (UTC), next run {Next:yyyy-MM-dd HH:mm} UTC, reports into {Out}", job.Tenant, job.Cron,
                cron.GetNextOccurrence(time.GetUtcNow().UtcDateTime), Path.GetFullPath(job.Out));
        }

        var last = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var next = jobs.Select(j => (j.Job, Next: j.Cron.GetNextOccurrence(last.UtcDateTime))).Where(j => j.Next is not null)
                .OrderBy(j => j.Next).ToList();
            if (next.Count == 0)
            {
                return;
            }

            var due = new DateTimeOffset(next[0].Next!.Value, TimeSpan.Zero);
            var wait = due - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, stoppingToken);
            }

            foreach (var (job, _) in next.Where(j => j.Next == next[0].Next))
            {
                await RunAsync(job, due, stoppingToken);
            }

            last = due;
        }
    }
}
