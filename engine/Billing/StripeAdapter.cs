using System.Globalization;
using Stripe;
using Stripe.Billing;

namespace PricingOptimizer.Billing;

/// <summary>
/// Stripe through Stripe.net: each item is a billing meter event whose <c>identifier</c> is our event id (Stripe keeps
/// one event per identifier) and whose request carries the same value as its Idempotency-Key. Usage counts 1 on the
/// usage meter; a conversion reports its amount in minor units on the conversion meter, with the experiment and the
/// variant in the event's payload (meter events have no separate metadata). Stripe.net's own retries are off: the
/// dispatcher retries.
/// </summary>
public sealed class StripeAdapter : IBillingAdapter
{
    private readonly StripeSettings settings;
    private readonly MeterEventService meterEvents;
    private readonly MeterEventSummaryService summaries;

    public StripeAdapter(string apiKey, StripeSettings settings, BillingMode mode, HttpClient http)
    {
        this.settings = settings;
        Mode = mode;
        var options = new StripeClientOptions { ApiKey = apiKey, HttpClient = new SystemNetHttpClient(http, maxNetworkRetries: 0) };
        if (settings.ApiBase is not null)
        {
            options.ApiBase = settings.ApiBase.TrimEnd('/');
        }

        var client = new StripeClient(options);
        meterEvents = new MeterEventService(client);
        summaries = new MeterEventSummaryService(client);
    }

    public BillingProvider Provider => BillingProvider.Stripe;

    public BillingMode Mode { get; }

    public async Task EmitSignalsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            await SendAsync(item, settings.UsageEventName, "1", cancellationToken);
        }
    }

    public async Task TrackConversionsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            var minor = decimal.Round(item.Amount * 100, 0, MidpointRounding.AwayFromZero).ToString(CultureInfo.InvariantCulture);
            await SendAsync(item, settings.ConversionEventName, minor, cancellationToken);
        }
    }

    public async Task<UsageMetrics> GetUsageAsync(string customer, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        if (settings.UsageMeterId is null)
        {
            throw new InvalidOperationException("stripe: set Billing:Stripe:UsageMeterId to read usage back");
        }

        async Task<decimal> Sum(string meterId)
        {
            var options = new MeterEventSummaryListOptions
            {
                Customer = customer,
                StartTime = from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
                EndTime = to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            };
            var total = 0m;
            await foreach (var summary in summaries.ListAutoPagingAsync(meterId, options, cancellationToken: cancellationToken))
            {
                total += summary.AggregatedValue;
            }

            return total;
        }

        try
        {
            var usage = await Sum(settings.UsageMeterId);
            var conversions = settings.ConversionMeterId is null ? 0 : await Sum(settings.ConversionMeterId);
            return new UsageMetrics(Provider, customer, from, to, (long)usage, 0, conversions / 100);
        }
        catch (StripeException e)
        {
            throw Map(e);
        }
    }

    private async Task SendAsync(BillingItem item, string eventName, string value, CancellationToken cancellationToken)
    {
        var options = new MeterEventCreateOptions
        {
            EventName = eventName,
            Identifier = item.EventId,
            Timestamp = item.OccurredAt.UtcDateTime,
            Payload = new Dictionary<string, string>
            {
                ["stripe_customer_id"] = item.UserId,
                ["value"] = value,
                ["tenant_id"] = item.TenantId,
                ["experiment_id"] = item.ExperimentId,
                ["variant_id"] = item.VariantId,
                ["currency"] = item.Currency,
            },
        };
        try
        {
            await meterEvents.CreateAsync(options, new RequestOptions { IdempotencyKey = item.EventId }, cancellationToken);
        }
        catch (StripeException e)
        {
            throw Map(e);
        }
        catch (HttpRequestException e)
        {
            throw new BillingDeliveryException($"stripe: {e.Message}", null, transient: true, inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BillingDeliveryException("stripe: the request timed out", null, transient: true, inner: e);
        }
    }

    private static BillingDeliveryException Map(StripeException e)
    {
        var status = (int)e.HttpStatusCode;
        var retryAfter = PaidAiAdapter.RetryAfter(e.StripeResponse?.Headers?.RetryAfter);
        var transient = status == 0 || BillingDeliveryException.IsTransientStatus(status);
        return new BillingDeliveryException($"stripe answered {status}: {e.StripeError?.Message ?? e.Message}", status == 0 ? null : status, transient,
            retryAfter, e);
    }
}
