using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PricingOptimizer.Billing;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.EventLog;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Telemetry;

/// <summary>
/// How far behind the lander and the billing dispatcher are (events their consumer groups have not committed, and the
/// age of the oldest), and how many dead letters wait: refreshed every <see cref="RefreshInterval"/> (each refresh
/// asks the log and the store, too slow for a scrape), observed as gauges <c>po_lander_lag_events</c>,
/// <c>po_lander_lag_oldest_age_seconds</c>, <c>po_dispatcher_lag_events</c>, <c>po_dispatcher_lag_oldest_age_seconds</c>,
/// <c>po_billing_dead_letters</c>.
/// </summary>
public sealed class BacklogMonitor : Microsoft.Extensions.Hosting.BackgroundService
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private readonly IEventLog log;
    private readonly IBillingStore store;
    private readonly TimeProvider time;
    private readonly ILogger<BacklogMonitor> logger;
    private readonly string landerGroup;
    private readonly string dispatcherGroup;
    private volatile Snapshot? last;

    /// <summary>What one refresh saw.</summary>
    public sealed record Snapshot(ConsumerLag Lander, ConsumerLag Dispatcher, long DeadLetters, DateTimeOffset At);

    public BacklogMonitor(IEventLog log, IBillingStore store, PoMetrics metrics, IOptions<LanderOptions> lander, IOptions<BillingOptions> billing,
        TimeProvider time, ILogger<BacklogMonitor> logger)
    {
        this.log = log;
        this.store = store;
        this.time = time;
        this.logger = logger;
        landerGroup = lander.Value.GroupId;
        dispatcherGroup = billing.Value.GroupId;
        var meter = metrics.Meter;
        Gauge(meter, "po.lander.lag.events", "{event}", "Events in the log the lander has not landed", s => s.Lander.Pending);
        Gauge(meter, "po.lander.lag.oldest_age", "s", "Age of the oldest event the lander has not landed (0 when none)", s => Age(s.Lander, s.At));
        Gauge(meter, "po.dispatcher.lag.events", "{event}", "Events in the log the billing dispatcher has not delivered", s => s.Dispatcher.Pending);
        Gauge(meter, "po.dispatcher.lag.oldest_age", "s", "Age of the oldest event the billing dispatcher has not delivered (0 when none)",
            s => Age(s.Dispatcher, s.At));
        Gauge(meter, "po.billing.dead_letters", "{event}", "Events billing gave up on, kept with their reason", s => s.DeadLetters);
    }

    /// <summary>The latest refresh; null before the first.</summary>
    public Snapshot? Last => last;

    private void Gauge(Meter meter, string name, string unit, string description, Func<Snapshot, double> read) =>
        meter.CreateObservableGauge(name, () => last is { } s ? [new Measurement<double>(read(s))] : Array.Empty<Measurement<double>>(), unit, description);

    private static double Age(ConsumerLag lag, DateTimeOffset now) =>
        lag.OldestAppendedAt is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : 0;

    /// <summary>Asks the log and the store now.</summary>
    public async Task<Snapshot> RefreshAsync(CancellationToken cancellationToken)
    {
        var snapshot = new Snapshot(await log.LagAsync(landerGroup, cancellationToken), await log.LagAsync(dispatcherGroup, cancellationToken),
            await store.CountDeadLettersAsync(cancellationToken), time.GetUtcNow());
        last = snapshot;
        return snapshot;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval, time);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                BacklogMonitorLog.RefreshFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

internal static partial class BacklogMonitorLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Measuring the lander's and dispatcher's backlog failed; the gauges keep the last figures")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);
}
