using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PricingOptimizer.Billing;

/// <summary>
/// Paid.ai: <c>POST {base}/signals/bulk</c> with <c>{"signals":[{eventName, customer:{externalCustomerId},
/// attribution:{externalProductId}, data, idempotencyKey}]}</c> and a Bearer key. The customer is the buying user, the
/// product the experiment; the idempotency key is our event id, so a resend is not a second signal.
/// </summary>
public sealed class PaidAiAdapter(HttpClient http, Uri bulkUrl, string apiKey, BillingMode mode) : IBillingAdapter
{
    public const string UsageEvent = "po_usage";
    public const string ConversionEvent = "po_conversion";

    public BillingProvider Provider => BillingProvider.PaidAi;

    public BillingMode Mode => mode;

    public Task EmitSignalsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken) => SendAsync(items, cancellationToken);

    public Task TrackConversionsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken) => SendAsync(items, cancellationToken);

    /// <summary>This adapter has no usage read endpoint of Paid.ai to call; usage of our own records is <c>GET /v1/usage</c>.</summary>
    public Task<UsageMetrics> GetUsageAsync(string customer, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
        throw new NotSupportedException("paid_ai: reading usage back is not available through this adapter; GET /v1/usage reports the tenant's " +
            "usage from the lake");

    public static JsonObject Signal(BillingItem item) => new()
    {
        ["eventName"] = item.Kind == BillingKind.Conversion ? ConversionEvent : UsageEvent,
        ["customer"] = new JsonObject { ["externalCustomerId"] = item.UserId },
        ["attribution"] = new JsonObject { ["externalProductId"] = item.ExperimentId },
        ["data"] = new JsonObject
        {
            ["tenant_id"] = item.TenantId,
            ["event_id"] = item.EventId,
            ["experiment_id"] = item.ExperimentId,
            ["variant_id"] = item.VariantId,
            ["amount"] = item.Amount.ToString(CultureInfo.InvariantCulture),
            ["currency"] = item.Currency,
            ["occurred_at"] = item.OccurredAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        },
        ["idempotencyKey"] = item.EventId,
    };

    private async Task SendAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["signals"] = new JsonArray([.. items.Select(i => (JsonNode)Signal(i))]) };
        using var request = new HttpRequestMessage(HttpMethod.Post, bulkUrl)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new BillingDeliveryException($"paid_ai: {e.Message}", null, transient: true, inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BillingDeliveryException("paid_ai: the request timed out", null, transient: true, inner: e);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new BillingDeliveryException($"paid_ai answered {status}: {Shorten(text)}", status, BillingDeliveryException.IsTransientStatus(status),
                RetryAfter(response.Headers.RetryAfter));
        }
    }

    internal static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    internal static string Shorten(string text)
    {
        var line = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var name in new[] { "message", "error", "detail" })
                {
                    if (json.RootElement.TryGetProperty(name, out var value))
                    {
                        line = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
                        break;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // not JSON: keep the text
        }

        return line.Length > 500 ? line[..500] + "…" : line;
    }
}
