namespace PricingOptimizer.Client;

/// <summary>Settings of <see cref="PricingOptimizerClient"/>.</summary>
public sealed class PricingOptimizerClientOptions
{
    /// <summary>The API's address, e.g. <c>https://pricing.example.com/</c>.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The tenant's API key (<c>po_…</c>); exchanged for a token, renewed before it expires.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>Most events per <c>POST /v1/events</c>.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long an event may wait for a batch to fill (on the machine's clock; <c>FlushAsync</c> sends at once).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest a fetched experiment definition is used before it is fetched again. The API's <c>Cache-Control:
    /// max-age</c> shortens it to the bound its own caches keep, so a paused experiment stops being assigned here
    /// no later than on the server.
    /// </summary>
    public TimeSpan ExperimentCacheTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most users of adaptive experiments whose variant the client remembers (0: none). Such a user's variant comes
    /// from the API (one <c>POST /v1/assign</c>, counted against the plan's requests a minute) and never changes, so
    /// later assigns and conversions of a remembered user make no round trip; the oldest is forgotten first.
    /// </summary>
    public int RememberedAssignments { get; set; } = 100_000;

    /// <summary>
    /// Longest <c>AssignAsync</c> waits for the experiment's definition (or, for an adaptive experiment, the API's
    /// answer) before it answers a fallback; the fetch goes on in the background and fills the cache.
    /// </summary>
    public TimeSpan EvaluationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Where fallbacks and undelivered events are logged (warnings); null: nowhere. <c>Fallbacks</c> counts them either way.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; set; }

    /// <summary>Most tries of one request (the first send and its retries); at least 1.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Longest one request may take with all its tries and waits; then its events are reported through <c>Failed</c>.</summary>
    public TimeSpan MaxSendTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Longest one try may take; <c>null</c> leaves it to the HttpClient's own timeout.</summary>
    public TimeSpan? AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Base of the exponential, jittered wait between tries, unless the API sends Retry-After.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest backoff wait between tries (a Retry-After from the API is honoured as sent).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock of caches, token renewal and retry waits.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>How long disposing waits to send what is queued.</summary>
    public TimeSpan DisposeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
