using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.EventLog;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Billing;

/// <summary>Builds a tenant's billing adapter from its settings.</summary>
public interface IBillingAdapterFactory
{
    /// <summary>The adapter, and the secret it sends with (to be redacted from any provider message), if any.</summary>
    Task<(IBillingAdapter Adapter, string? Secret)> CreateAsync(BillingSettings settings, CancellationToken cancellationToken);
}

/// <summary>Builds a tenant's adapter from its settings: the platform key in managed mode, the tenant's own (unsealed) key in BYOK.</summary>
public sealed class BillingAdapterFactory(IOptions<BillingOptions> options, KeyManager keys, ManualLedger ledger) : IBillingAdapterFactory
{
    /// <summary>One connection pool for every provider call; a request longer than the timeout fails (and is retried).</summary>
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds) };

    /// <exception cref="BillingDeliveryException">A permanent problem: no key to send with, or no Paid.ai base URL.</exception>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The tenant's key cannot be unsealed.</exception>
    public async Task<(IBillingAdapter Adapter, string? Secret)> CreateAsync(BillingSettings settings, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var name = Json.Wire.Name(settings.Provider);
        if (settings.Provider == BillingProvider.Manual)
        {
            return (new ManualAdapter(ledger), null);
        }

        var platform = o.PlatformKey(settings.Provider);
        var key = settings.Mode == BillingMode.Managed
            ? platform ?? throw new BillingDeliveryException(
                $"{name}: managed mode needs the platform key (Billing:{settings.Provider}:PlatformKey)", null, transient: false)
            : await keys.OpenAsync(settings.TenantId, name, cancellationToken) ?? throw new BillingDeliveryException(
                $"{name}: BYOK mode needs the tenant's key (PUT /v1/provider-keys/{name})", null, transient: false);
        switch (settings.Provider)
        {
            case BillingProvider.Stripe:
                return (new StripeAdapter(key, o.Stripe, settings.Mode, http), key);
            case BillingProvider.PaidAi:
                if (o.PaidAi.BaseUrl is null)
                {
                    throw new BillingDeliveryException("paid_ai: set Billing:PaidAi:BaseUrl", null, transient: false);
                }

                return (new PaidAiAdapter(http, new Uri(o.PaidAi.BaseUrl.TrimEnd('/') + "/signals/bulk"), key, settings.Mode), key);
            default:
                throw new BillingDeliveryException($"unknown billing provider '{name}'", null, transient: false);
        }
    }
}

/// <summary>What one dispatcher pass did.</summary>
public sealed record DispatchResult(int Read, int Delivered, int DeadLettered, int Skipped, int Retries);

/// <summary>
/// Delivers events to each tenant's billing adapter. It reads the event log under its own consumer group, sends each
/// tenant's items in batches (usage as signals, purchases as conversions) with retries and exponential backoff with
/// jitter on 429, 5xx and timeouts (a provider's Retry-After wins), parks what fails for good in the dead-letter table
/// with the provider's error (a failed batch is retried item by item first, so one bad item does not park the rest),
/// and commits the log position only after every item of the batch was delivered or parked. Whatever fails for a
/// tenant — its key cannot be unsealed, its adapter cannot be built, a send throws something unexpected — ends as a
/// dead letter with the reason, never as a skip. When the pass itself fails (the control plane or the dead-letter
/// table unreachable) nothing is committed and <see cref="RunAsync"/> reads the same events again from the last
/// commit. After a crash it resumes from the last commit too; items sent again carry the same idempotency key (the
/// event id), so nothing is billed twice. Provider messages are kept, logged and returned with the key they were sent
/// with redacted.
/// </summary>
public sealed class BillingDispatcher(IEventLog log, IBillingStore store, IBillingAdapterFactory adapters, IOptions<BillingOptions> options,
    TimeProvider time, ILogger<BillingDispatcher> logger)
{
    private BillingOptions Options => options.Value;

    public IEventLogConsumer OpenConsumer() => log.OpenConsumer(Options.GroupId);

    /// <summary>Reads one batch (waiting up to <paramref name="maxWait"/>), delivers it, and commits it.</summary>
    public async Task<DispatchResult> DispatchOnceAsync(IEventLogConsumer consumer, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var batch = await consumer.ReadAsync(Options.BatchSize * 10, maxWait, cancellationToken);
        if (batch.Records.Count == 0)
        {
            return new DispatchResult(0, 0, 0, 0, 0);
        }

        int delivered = 0, parked = 0, skipped = 0, retries = 0;
        foreach (var tenant in batch.Records.GroupBy(r => r.Item.TenantId))
        {
            var settings = await store.GetBillingAsync(tenant.Key, cancellationToken);
            if (settings is null)
            {
                skipped += tenant.Count();
                continue;
            }

            var items = tenant.Select(r => BillingItem.From(r.Item)).ToList();
            IBillingAdapter adapter;
            string? secret;
            try
            {
                (adapter, secret) = await adapters.CreateAsync(settings, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // No adapter (a key that cannot be unsealed, a missing setting, a fault of ours): park, with the reason.
                var reason = e is BillingDeliveryException ? e.Message
                    : $"{Json.Wire.Name(settings.Provider)}: the adapter could not be built: {e.GetType().Name}: {e.Message}";
                parked += await ParkAsync(settings, items, reason, 0, null, cancellationToken);
                continue;
            }

            foreach (var kind in new[] { BillingKind.Usage, BillingKind.Conversion })
            {
                foreach (var chunk in items.Where(i => i.Kind == kind).Chunk(Options.BatchSize))
                {
                    var (ok, failed, attempts) = await DeliverAsync(adapter, secret, kind, chunk, cancellationToken);
                    retries += attempts;
                    delivered += ok;
                    parked += failed;
                }
            }
        }

        await consumer.CommitAsync(batch, cancellationToken);
        var result = new DispatchResult(batch.Records.Count, delivered, parked, skipped, retries);
        logger.LogInformation("billing: {Read} events read, {Delivered} delivered, {Parked} dead-lettered, {Skipped} without an adapter, {Retries} retries",
            result.Read, result.Delivered, result.DeadLettered, result.Skipped, result.Retries);
        return result;
    }

    /// <summary>Runs until stopped, resuming from the group's committed position.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var consumer = OpenConsumer();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await DispatchOnceAsync(consumer, TimeSpan.FromSeconds(1), cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Nothing was committed, but the consumer has read past the batch: a new one starts again from the
                    // last commit, so the same events come again after the pause (their idempotency keys make that safe).
                    logger.LogError(e, "billing dispatch failed; reading the batch again in {Pause} ms", Options.FailurePauseMs);
                    consumer.Dispose();
                    consumer = OpenConsumer();
                    await Task.Delay(TimeSpan.FromMilliseconds(Options.FailurePauseMs), time, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Dispose();
        }
    }

    /// <summary>Sends one chunk with retries; on a permanent failure of several items, each item alone; parks the failures.</summary>
    private async Task<(int Delivered, int Parked, int Retries)> DeliverAsync(IBillingAdapter adapter, string? secret, BillingKind kind,
        IReadOnlyList<BillingItem> chunk, CancellationToken cancellationToken)
    {
        var (error, attempts) = await SendWithRetriesAsync(adapter, secret, kind, chunk, cancellationToken);
        if (error is null)
        {
            return (chunk.Count, 0, attempts - 1);
        }

        if (chunk.Count == 1 || error.Transient)
        {
            var settings = new BillingSettings(chunk[0].TenantId, adapter.Provider, adapter.Mode, time.GetUtcNow());
            var reason = error.Transient ? $"gave up after {attempts} attempts: {error.Message}" : error.Message;
            return (0, await ParkAsync(settings, chunk, reason, attempts, secret, cancellationToken), attempts - 1);
        }

        int delivered = 0, parked = 0, retries = attempts - 1;
        foreach (var item in chunk)
        {
            var (ok, failed, more) = await DeliverAsync(adapter, secret, kind, [item], cancellationToken);
            delivered += ok;
            parked += failed;
            retries += more;
        }

        return (delivered, parked, retries);
    }

    private async Task<(BillingDeliveryException? Error, int Attempts)> SendWithRetriesAsync(IBillingAdapter adapter, string? secret, BillingKind kind,
        IReadOnlyList<BillingItem> chunk, CancellationToken cancellationToken)
    {
        var attempts = 0;
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<BillingDeliveryException>(e => e.Transient),
                MaxRetryAttempts = Options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(Options.BaseDelayMs),
                MaxDelay = TimeSpan.FromMinutes(2),
                DelayGenerator = args
                    => ValueTask.FromResult(args.Outcome.Exception is BillingDeliveryException { RetryAfter: { } after } && after > TimeSpan.Zero
                    ? (TimeSpan?)TimeSpan.FromTicks(Math.Min(after.Ticks, TimeSpan.FromMinutes(2).Ticks))
                    : null),
                OnRetry = args =>
                {
                    logger.LogWarning("billing: {Provider} attempt {Attempt} failed ({Error}); retrying in {Delay}", adapter.Provider, args.AttemptNumber + 1,
                        Redact(args.Outcome.Exception?.Message, secret), args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        try
        {
            await pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                try
                {
                    if (kind == BillingKind.Usage)
                    {
                        await adapter.EmitSignalsAsync(chunk, ct);
                    }
                    else
                    {
                        await adapter.TrackConversionsAsync(chunk, ct);
                    }
                }
                catch (Exception e) when (e is not BillingDeliveryException && (e is not OperationCanceledException || !ct.IsCancellationRequested))
                {
                    // Not an answer of the provider (a dropped connection, a fault of the adapter): worth retrying, then parked with its reason.
                    throw new BillingDeliveryException($"{Json.Wire.Name(adapter.Provider)}: {e.GetType().Name}: {e.Message}", null, transient: true, inner: e);
                }
            }, cancellationToken);
            return (null, attempts);
        }
        catch (BillingDeliveryException e)
        {
            return (e, attempts);
        }
    }

    /// <summary>
    /// <paramref name="message"/> without <paramref name="secret"/> or the platform keys: a provider that repeats the key
    /// it was sent (a stand-in did; real ones may) must not get it stored, logged or returned.
    /// </summary>
    private string Redact(string? message, string? secret)
    {
        if (message is null)
        {
            return "";
        }

        foreach (var key in new[] { secret, Options.Stripe.PlatformKey, Options.PaidAi.PlatformKey })
        {
            if (key is { Length: >= 4 })
            {
                message = message.Replace(key, "[redacted key]", StringComparison.Ordinal);
            }
        }

        return message;
    }

    private async Task<int> ParkAsync(BillingSettings settings, IReadOnlyCollection<BillingItem> items, string error, int attempts, string? secret,
        CancellationToken cancellationToken)
    {
        error = Redact(error, secret);
        var now = time.GetUtcNow();
        await store.AddDeadLettersAsync([.. items.Select(i => new DeadLetter(0, i.TenantId, Json.Wire.Name(settings.Provider), i.EventId,
            i.Kind == BillingKind.Conversion ? "conversion" : "usage", JsonSerializer.Serialize(i,
                Json.Wire.Options), error, attempts, now))], cancellationToken);
        logger.LogWarning("billing: {Count} {Provider} item(s) of {Tenant} dead-lettered: {Error}", items.Count, settings.Provider, settings.TenantId, error);
        return items.Count;
    }
}

/// <summary>Runs the <see cref="BillingDispatcher"/> as a hosted service (in <c>po dispatch</c>, and inside the API in embedded mode).</summary>
public sealed class BillingDispatcherService(BillingDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}
