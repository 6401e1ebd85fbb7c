using System.Net;
using System.Text.Json;
using System.Web;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Billing;
using PricingOptimizer.EventLog;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Billing;

/// <summary>
/// The dispatcher against local HTTP servers on loopback standing in for Paid.ai and Stripe (Stripe.net pointed at
/// them through Billing:Stripe:ApiBase): request shapes, auth headers, idempotency keys, retries, dead letters, modes.
/// </summary>
public abstract class BillingDispatchTests(ControlPlaneKind store) : IAsyncLifetime
{
    private const string Admin = "billing-admin";
    private static readonly string MasterKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private StubProvider stub = null!;
    private IngestApiFactory api = null!;

    public async Task InitializeAsync()
    {
        stub = await StubProvider.StartAsync();
        api = new IngestApiFactory(ControlPlaneStores.With(store, new Dictionary<string, string?>
        {
            ["Auth:AdminKey"] = Admin,
            ["KeyManager:MasterKey"] = MasterKey,
            ["Billing:PaidAi:BaseUrl"] = stub.Url + "/paid/v1",
            ["Billing:PaidAi:PlatformKey"] = "paid-platform-key",
            ["Billing:Stripe:ApiBase"] = stub.Url,
            ["Billing:Stripe:PlatformKey"] = "sk_test_platform",
            ["Billing:BaseDelayMs"] = "20",
            ["Billing:MaxAttempts"] = "4",
            ["Billing:RequestTimeoutSeconds"] = "3", // 1 s also cut off the stub's immediate answers when CI loaded both cores
        }));
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await stub.DisposeAsync();
    }

    private async Task<(string TenantId, HttpClient Client, List<PricingOptimizer.Events.PricingEvent> Events)> TenantWithEventsAsync(string provider,
        string mode, string? key, int users = 6)
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(Admin, "Shop " + provider, "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1");
        if (key is not null)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"/v1/provider-keys/{provider}",
                IngestApiFactory.Json($$"""{"key":"{{key}}"}"""))).StatusCode);
        }

        var set = await client.PutAsync("/v1/billing/adapter", IngestApiFactory.Json($$"""{"provider":"{{provider}}","mode":"{{mode}}"}"""));
        Assert.True(set.StatusCode == HttpStatusCode.OK, await set.Content.ReadAsStringAsync());
        var events = TestEvents.Mixed(users, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        return (tenantId, client, events);
    }

    private async Task<DispatchResult> DispatchAsync()
    {
        var dispatcher = api.Services.GetRequiredService<BillingDispatcher>();
        using var consumer = dispatcher.OpenConsumer();
        return await dispatcher.DispatchOnceAsync(consumer, TimeSpan.FromSeconds(2), CancellationToken.None);
    }

    [Fact]
    public async Task Paid_ai_gets_bulk_signals_with_the_tenants_own_key_in_byok_mode_and_event_ids_as_idempotency_keys()
    {
        var (_, _, events) = await TenantWithEventsAsync("paid_ai", "byok", "tenant-paid-key");
        var result = await DispatchAsync();
        Assert.Equal(events.Count, result.Delivered);

        var requests = stub.Requests.ToList();
        Assert.All(requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("/paid/v1/signals/bulk", r.Path);
            Assert.Equal("Bearer tenant-paid-key", r.Headers["Authorization"]);
        });
        var signals = requests.SelectMany(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("signals").EnumerateArray().Select(s => s.Clone())).ToList();
        Assert.Equal(events.Select(e => e.EventId).Order(), signals.Select(s => s.GetProperty("idempotencyKey").GetString()).Order());
        var convert = events.First(e => e.Type == PricingOptimizer.Events.EventType.Convert);
        var signal = signals.Single(s => s.GetProperty("idempotencyKey").GetString() == convert.EventId);
        Assert.Equal("po_conversion", signal.GetProperty("eventName").GetString());
        Assert.Equal(convert.UserId, signal.GetProperty("customer").GetProperty("externalCustomerId").GetString());
        Assert.Equal("exp-1", signal.GetProperty("attribution").GetProperty("externalProductId").GetString());
        Assert.Equal(convert.VariantId, signal.GetProperty("data").GetProperty("variant_id").GetString());
        Assert.Equal("po_usage", signals.First(s => s.GetProperty("idempotencyKey").GetString()!.StartsWith("a-",
            StringComparison.Ordinal)).GetProperty("eventName").GetString());
    }

    [Fact]
    public async Task Managed_mode_sends_the_platform_key()
    {
        await TenantWithEventsAsync("paid_ai", "managed", key: null, users: 2);
        await DispatchAsync();
        Assert.All(stub.Requests, r => Assert.Equal("Bearer paid-platform-key", r.Headers["Authorization"]));
        Assert.NotEmpty(stub.Requests);
    }

    [Fact]
    public async Task A_429_with_retry_after_and_a_500_are_retried_with_the_same_idempotency_keys()
    {
        var (tenantId, client, events) = await TenantWithEventsAsync("paid_ai", "byok", "k", users: 3); // 3 assigns, 1 convert: one usage call, one conversion call
        stub.Script.Enqueue(new StubProvider.Answer(429, """{"message":"slow down"}""", RetryAfterSeconds: 1));
        stub.Script.Enqueue(new StubProvider.Answer(500, """{"message":"oops"}"""));
        var started = DateTime.UtcNow;
        var result = await DispatchAsync();
        Assert.Equal(events.Count, result.Delivered);
        Assert.Equal(0, result.DeadLettered);
        Assert.Equal(2, result.Retries);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1), "Retry-After: 1 was not honoured");
        var usageCalls = stub.Requests.Take(3).Select(r => r.Body).ToList();
        Assert.Equal(usageCalls[0], usageCalls[1]); // the same signals, the same idempotency keys
        Assert.Equal(usageCalls[0], usageCalls[2]);
        using var letters = JsonDocument.Parse(await client.GetStringAsync("/v1/billing/dead-letters"));
        Assert.Equal(0, letters.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task A_request_that_times_out_is_retried()
    {
        var (_, _, events) = await TenantWithEventsAsync("paid_ai", "byok", "k", users: 2);
        stub.Script.Enqueue(new StubProvider.Answer(200, Delay: TimeSpan.FromSeconds(30))); // well past the 3 s timeout; cancelled when the client gives up
        var result = await DispatchAsync();
        Assert.Equal(events.Count, result.Delivered);
        Assert.Equal(1, result.Retries);
    }

    [Fact]
    public async Task In_embedded_mode_the_api_runs_the_dispatcher_itself()
    {
        using var hosted = new IngestApiFactory(new Dictionary<string, string?> { ["Auth:AdminKey"] = Admin, ["Billing:HostInApi"] = "true" });
        var (tenantId, _, client) = await hosted.CreateTenantAsync(Admin, "Hosted", "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1");
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync("/v1/billing/adapter",
            IngestApiFactory.Json("""{"provider":"manual","mode":"managed"}"""))).StatusCode);
        var events = TestEvents.Mixed(4, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        var ledger = hosted.Services.GetRequiredService<ManualLedger>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ledger.Items(tenantId).Count < events.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(events.Select(e => e.EventId).Order(), ledger.Items(tenantId).Select(i => i.EventId).Order());
    }

    [Fact]
    public async Task A_400_parks_the_items_in_the_dead_letter_table_with_the_providers_error_and_the_rest_go_through()
    {
        var (_, client, events) = await TenantWithEventsAsync("paid_ai", "byok", "k", users: 3);
        // The usage batch (3 items) is refused, then tried item by item: the first item is refused again, the others pass.
        stub.Script.Enqueue(new StubProvider.Answer(400, """{"message":"customer user-0 is unknown"}"""));
        stub.Script.Enqueue(new StubProvider.Answer(400, """{"message":"customer user-0 is unknown"}"""));
        var result = await DispatchAsync();
        Assert.Equal(1, result.DeadLettered);
        Assert.Equal(events.Count - 1, result.Delivered);

        using var letters = JsonDocument.Parse(await client.GetStringAsync("/v1/billing/dead-letters"));
        var letter = letters.RootElement.EnumerateArray().Single();
        Assert.Equal("a-000000", letter.GetProperty("event_id").GetString());
        Assert.Equal("paid_ai", letter.GetProperty("provider").GetString());
        Assert.Equal("paid_ai answered 400: customer user-0 is unknown", letter.GetProperty("error").GetString());
        Assert.Equal(1, letter.GetProperty("attempts").GetInt32()); // a 400 is not retried

        var (_, _, other) = await api.CreateTenantAsync(Admin, "Other", "pro");
        using var none = JsonDocument.Parse(await other.GetStringAsync("/v1/billing/dead-letters"));
        Assert.Equal(0, none.RootElement.GetArrayLength()); // dead letters are the tenant's own
    }

    [Fact]
    public async Task Stripe_gets_meter_events_through_stripe_net_with_identifier_idempotency_key_and_experiment_and_variant()
    {
        stub.DefaultBody = """{"object":"billing.meter_event","event_name":"po_usage","identifier":"x","payload":{},"timestamp":1}""";
        var (_, _, events) = await TenantWithEventsAsync("stripe", "byok", "sk_test_tenant", users: 3);
        stub.Script.Enqueue(new StubProvider.Answer(500, """{"error":{"message":"try again","type":"api_error"}}"""));
        var result = await DispatchAsync();
        Assert.Equal(events.Count, result.Delivered);
        Assert.Equal(1, result.Retries);

        var requests = stub.Requests.ToList();
        Assert.All(requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("/v1/billing/meter_events", r.Path);
            Assert.Equal("Bearer sk_test_tenant", r.Headers["Authorization"]);
        });
        var convert = events.First(e => e.Type == PricingOptimizer.Events.EventType.Convert);
        var request = requests.Single(r => r.Headers["Idempotency-Key"] == convert.EventId);
        var form = HttpUtility.ParseQueryString(request.Body);
        Assert.Equal(convert.EventId, form["identifier"]);
        Assert.Equal("po_conversion", form["event_name"]);
        Assert.Equal("exp-1", form["payload[experiment_id]"]);
        Assert.Equal(convert.VariantId, form["payload[variant_id]"]);
        Assert.Equal(((long)decimal.Round((convert.Revenue ?? convert.Price) * 100)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            form["payload[value]"]);
        Assert.Equal(2, requests.Count(r => r.Headers["Idempotency-Key"] == events[0].EventId)); // the 500, then the retry, same key
    }

    [Fact]
    public async Task Stripe_refusals_are_dead_lettered_with_stripes_message_and_managed_mode_uses_the_platform_key()
    {
        stub.DefaultBody = """{"object":"billing.meter_event"}""";
        var (_, client, _) = await TenantWithEventsAsync("stripe", "managed", key: null, users: 1);
        stub.Script.Enqueue(new StubProvider.Answer(400, """{"error":{"message":"No such meter: po_usage","type":"invalid_request_error"}}"""));
        var result = await DispatchAsync();
        Assert.Equal(1, result.DeadLettered);
        Assert.Equal("Bearer sk_test_platform", stub.Requests.First().Headers["Authorization"]);
        using var letters = JsonDocument.Parse(await client.GetStringAsync("/v1/billing/dead-letters"));
        Assert.Equal("stripe answered 400: No such meter: po_usage", letters.RootElement[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task After_a_crash_before_the_commit_the_dispatcher_resumes_and_nothing_is_billed_twice()
    {
        var (tenantId, _, events) = await TenantWithEventsAsync("manual", "managed", key: null, users: 9);
        var dispatcher = api.Services.GetRequiredService<BillingDispatcher>();
        using (var consumer = dispatcher.OpenConsumer())
        {
            await Assert.ThrowsAsync<IOException>(() => dispatcher.DispatchOnceAsync(new CrashingConsumer(consumer), TimeSpan.FromSeconds(2),
                CancellationToken.None));
        }

        var ledger = api.Services.GetRequiredService<ManualLedger>();
        Assert.Equal(events.Count, ledger.Items(tenantId).Count); // delivered before the crash

        var resumed = await DispatchAsync(); // a new consumer: the same events come again, the same event ids
        Assert.Equal(events.Count, resumed.Read);
        Assert.Equal(events.Count, ledger.Items(tenantId).Count); // each once

        var (_, client, _) = (tenantId, api.ClientFor(tenantId), 0);
        var more = TestEvents.Mixed(12, DateTimeOffset.UtcNow).Skip(events.Count).ToList();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(more))).StatusCode);
        var next = await DispatchAsync();
        Assert.Equal(more.Count, next.Read); // only what came after the last commit
        Assert.Equal(events.Count + more.Count, ledger.Items(tenantId).Count);

        var csv = Path.Combine(api.DataDirectory, "manual.csv");
        await ledger.ExportCsvAsync(tenantId, csv, CancellationToken.None);
        var fresh = new ManualLedger();
        Assert.Equal(events.Count + more.Count, await fresh.ImportCsvAsync(csv, CancellationToken.None));
        Assert.Equal(0, await fresh.ImportCsvAsync(csv, CancellationToken.None)); // the same file twice adds nothing
        Assert.Equal(ledger.Items(tenantId), fresh.Items(tenantId));
    }

    [Fact]
    public async Task Choosing_an_adapter_that_cannot_work_is_refused_with_the_reason()
    {
        var (_, _, client) = await api.CreateTenantAsync(Admin, "Picky", "pro");
        async Task<string> Refused(string body)
        {
            var response = await client.PutAsync("/v1/billing/adapter", IngestApiFactory.Json(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        }

        Assert.Contains("not one of stripe, paid_ai, manual", await Refused("""{"provider":"paypal","mode":"managed"}"""), StringComparison.Ordinal);
        Assert.Contains("PUT /v1/provider-keys/stripe", await Refused("""{"provider":"stripe","mode":"byok"}"""), StringComparison.Ordinal);
        Assert.Contains("not managed or byok", await Refused("""{"provider":"stripe","mode":"self"}"""), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/billing/adapter")).StatusCode);
    }

    /// <summary>Delivers like the real consumer but dies at the commit, as a process killed at that moment would.</summary>
    private sealed class CrashingConsumer(IEventLogConsumer inner) : IEventLogConsumer
    {
        public Task<LogBatch> ReadAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken) => inner.ReadAsync(maxEvents, maxWait,
            cancellationToken);

        public Task CommitAsync(LogBatch batch, CancellationToken cancellationToken) => throw new IOException("killed before the commit");

        public void Dispose()
        {
        }
    }
}

public sealed class BillingDispatchTestsOnSqlite() : BillingDispatchTests(ControlPlaneKind.Sqlite);

public sealed class BillingDispatchTestsOnPostgres() : BillingDispatchTests(ControlPlaneKind.Postgres);
