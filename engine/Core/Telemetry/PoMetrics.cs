using System.Diagnostics;
using System.Diagnostics.Metrics;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;

namespace PricingOptimizer.Telemetry;

/// <summary>
/// The service's own measurements (System.Diagnostics.Metrics, meter <see cref="MeterName"/>), exported by the API at
/// <c>/metrics</c> in Prometheus text format through OpenTelemetry. Instruments are named as OpenTelemetry names them;
/// Prometheus sees <c>po_events_accepted_total</c>, <c>po_event_log_append_duration_seconds</c>, and so on.
/// </summary>
public sealed class PoMetrics
{
    public const string MeterName = "PricingOptimizer";

    public PoMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        EventsAccepted = Meter.CreateCounter<long>("po.events.accepted", "{event}", "Events accepted into the event log");
        EventsRejected = Meter.CreateCounter<long>("po.events.rejected", "{event}", "Events rejected, by the field whose rule they broke");
        LogAppend = Meter.CreateHistogram("po.event_log.append.duration", "s", "Time until an append to the event log is durable", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                2.5, 5, 10] });
        RateLimited = Meter.CreateCounter<long>("po.requests.rate_limited", "{request}", "Requests refused with 429 by a plan's or the token endpoint's limit");
        Compactions = Meter.CreateCounter<long>("po.lake.compactions", "{merge}", "Merges of small lake files into one");
        CompactedFiles = Meter.CreateCounter<long>("po.lake.compacted_files", "{file}", "Small lake files merged away");
        QuarantinedFiles = Meter.CreateCounter<long>("po.lake.quarantined_files", "{file}", "Lake files that could not be read and were moved to quarantine");
    }

    /// <summary>The meter, for gauges observed elsewhere (the backlog monitor).</summary>
    public Meter Meter { get; }

    public Counter<long> EventsAccepted { get; }

    public Counter<long> EventsRejected { get; }

    public Histogram<double> LogAppend { get; }

    public Counter<long> RateLimited { get; }

    public Counter<long> Compactions { get; }

    public Counter<long> CompactedFiles { get; }

    public Counter<long> QuarantinedFiles { get; }

    /// <summary>Appends to <paramref name="log"/>, timing the append and counting the events once they are durable.</summary>
    public async Task AppendAsync(IEventLog log, IReadOnlyList<TenantEvent> events, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await log.AppendAsync(events, cancellationToken);
        LogAppend.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("log", log.Kind));
        EventsAccepted.Add(events.Count);
    }

    /// <summary>Counts one rejected event under the field whose rule it broke.</summary>
    public void Rejected(string field) => EventsRejected.Add(1, new KeyValuePair<string, object?>("field", field));
}
