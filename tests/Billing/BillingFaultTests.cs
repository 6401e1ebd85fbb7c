using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PricingOptimizer.Billing;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.EventLog;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Billing;

/// <summary>
/// Failures injected at every step of billing — unsealing a key, building an adapter, sending, writing a dead letter —
/// and every event still ends delivered or dead-lettered with its reason, once; a provider that echoes the key gets it redacted.
/// </summary>
public sealed class BillingFaultTests : IAsyncLifetime
{
    private const string Admin = "billing-fault-admin";
    private const string LeakyKey = "leaky-key-98765";
    private StubProvider stub = null!;
    private IngestApiFactory api = null!;

    public async Task InitializeAsync()
    {
        stub = await StubProvider.StartAsync();
        api = new IngestApiFactory(new Dictionary<string, string?>
        {
            ["Auth:AdminKey"] = Admin,
            ["KeyManager:MasterKey"] = Convert.ToBase64String(Enumerable.Range(7, 32).Select(i => (byte)i).ToArray()),
            ["Billing:PaidAi:BaseUrl"] = stub.Url + "/paid/v1",
            ["Billing:PaidAi:PlatformKey"] = "paid-platform-key",
            ["Billing:BaseDelayMs"] = "5",
            ["Billing:MaxAttempts"] = "3",
            ["Billing:FailurePauseMs"] = "50",
        });
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await stub.DisposeAsync();
    }

    private async Task<(string TenantId, HttpClient Client, List<string> EventIds)> TenantAsync(string name, string mode, string? key, int users)
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(Admin, name, "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1");
        if (key is not null)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PutAsync("/v1/provider-keys/paid_ai", IngestApiFactory.Json($$"""{"key":"{{key}}"}"""))).StatusCode);
        }

        var set = await client.PutAsync("/v1/billing/adapter", IngestApiFactory.Json($$"""{"provider":"paid_ai","mode":"{{mode}}"}"""));
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
        var events = TestEvents.Mixed(users, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        return (tenantId, client, events.Select(e => e.EventId).ToList());
    }

    [Fact]
    public async Task Every_event_ends_delivered_or_dead_lettered_whatever_fails_and_no_key_is_kept_in_a_message()
    {
        var sealedFails = await TenantAsync("unseal fails", "byok", "sk-tenant-a-key", users: 5);
        var buildFails = await TenantAsync("adapter fails", "managed", null, users: 4);
        var sendFlaky = await TenantAsync("send throws once", "managed", null, users: 6);
        var echoes = await TenantAsync("provider echoes the key", "byok", LeakyKey, users: 3);

        // Unseal: tamper with tenant A's sealed key (one flipped ciphertext bit): AES-GCM refuses to open it.
        var store = api.Services.GetRequiredService<IControlPlaneStore>();
        var sealedKey = (await store.ListProviderKeysAsync(sealedFails.TenantId, CancellationToken.None)).Single();
        var tampered = sealedKey.Ciphertext.ToArray();
        tampered[0] ^= 1;
        await store.SaveProviderKeyAsync(sealedKey with { Ciphertext = tampered }, CancellationToken.None);

        var delivered = new ConcurrentDictionary<string, int>();
        var factory = new FaultyFactory(api.Services.GetRequiredService<BillingAdapterFactory>(), delivered)
        {
            FailToBuild = { buildFails.TenantId },
            ThrowOnceOnSend = { sendFlaky.TenantId },
            EchoKey = { echoes.TenantId },
        };
        var faultyStore = FailingDeadLetters.Wrap(store, failures: 1);
        var dispatcher = new BillingDispatcher(api.Services.GetRequiredService<IEventLog>(), (IControlPlaneStore)(object)faultyStore, factory,
            api.Services.GetRequiredService<IOptions<BillingOptions>>(), TimeProvider.System, api.Services.GetRequiredService<ILogger<BillingDispatcher>>());

        var all = new[] { sealedFails, buildFails, sendFlaky, echoes };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var run = dispatcher.RunAsync(stop.Token);
        Dictionary<string, List<DeadLetter>> letters = [];
        while (!stop.IsCancellationRequested)
        {
            letters = [];
            foreach (var t in all)
            {
                letters[t.TenantId] = [.. await store.ListDeadLettersAsync(t.TenantId, 1000, CancellationToken.None)];
            }

            if (all.All(t => t.EventIds.All(id => delivered.ContainsKey(t.TenantId + "/" + id) || letters[t.TenantId].Any(l => l.EventId == id))))
            {
                break;
            }

            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await run;

        Assert.True(faultyStore.Failed, "the dead-letter write failure was injected");
        foreach (var t in all)
        {
            foreach (var id in t.EventIds)
            {
                var parked = letters[t.TenantId].Count(l => l.EventId == id);
                var sent = delivered.ContainsKey(t.TenantId + "/" + id);
                Assert.True(sent ^ (parked == 1), $"{id} of {t.TenantId}: delivered {sent}, dead-lettered {parked} times");
            }
        }

        Assert.All(sealedFails.EventIds, id => Assert.False(delivered.ContainsKey(sealedFails.TenantId + "/" + id)));
        Assert.All(letters[sealedFails.TenantId], l => Assert.Contains("could not be built", l.Error, StringComparison.Ordinal));
        Assert.All(letters[buildFails.TenantId], l => Assert.Contains("injected: no adapter", l.Error, StringComparison.Ordinal));
        Assert.All(sendFlaky.EventIds, id => Assert.True(delivered.ContainsKey(sendFlaky.TenantId + "/" + id), $"{id} should be delivered after the retry"));
        Assert.Equal(echoes.EventIds.Count, letters[echoes.TenantId].Count);
        Assert.All(letters[echoes.TenantId], l =>
        {
            Assert.DoesNotContain(LeakyKey, l.Error, StringComparison.Ordinal);
            Assert.Contains("[redacted key]", l.Error, StringComparison.Ordinal);
        });

        var returned = await echoes.Client.GetStringAsync("/v1/billing/dead-letters");
        Assert.DoesNotContain(LeakyKey, returned, StringComparison.Ordinal);
        Assert.DoesNotContain(api.Logs, line => line.Contains(LeakyKey, StringComparison.Ordinal));
        foreach (var t in all)
        {
            t.Client.Dispose();
        }
    }

    /// <summary>The real factory with failures for chosen tenants; counts what reached the provider.</summary>
    private sealed class FaultyFactory(BillingAdapterFactory inner, ConcurrentDictionary<string, int> delivered) : IBillingAdapterFactory
    {
        public HashSet<string> FailToBuild { get; } = [];

        public HashSet<string> ThrowOnceOnSend { get; } = [];

        public HashSet<string> EchoKey { get; } = [];

        public async Task<(IBillingAdapter Adapter, string? Secret)> CreateAsync(BillingSettings settings, CancellationToken cancellationToken)
        {
            if (FailToBuild.Contains(settings.TenantId))
            {
                throw new InvalidOperationException("injected: no adapter today");
            }

            var (adapter, secret) = await inner.CreateAsync(settings, cancellationToken);
            return (new Adapter(adapter, secret, this, settings.TenantId), secret);
        }

        private sealed class Adapter(IBillingAdapter inner, string? secret, FaultyFactory owner, string tenantId) : IBillingAdapter
        {
            public BillingProvider Provider => inner.Provider;

            public BillingMode Mode => inner.Mode;

            public Task EmitSignalsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken) => SendAsync(items,
                () => inner.EmitSignalsAsync(items, cancellationToken));

            public Task TrackConversionsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken) => SendAsync(items,
                () => inner.TrackConversionsAsync(items, cancellationToken));

            public Task<UsageMetrics> GetUsageAsync(string customer, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
                inner.GetUsageAsync(customer, from, to, cancellationToken);

            private async Task SendAsync(IReadOnlyList<BillingItem> items, Func<Task> send)
            {
                if (owner.EchoKey.Contains(tenantId))
                {
                    throw new BillingDeliveryException($"paid_ai answered 401: the key '{secret}' is not valid", 401, transient: false);
                }

                lock (owner)
                {
                    if (owner.ThrowOnceOnSend.Remove(tenantId))
                    {
                        throw new IOException("injected: connection reset");
                    }
                }

                await send();
                foreach (var item in items)
                {
                    owner.delivered[item.TenantId + "/" + item.EventId] = 1;
                }
            }
        }

        private readonly ConcurrentDictionary<string, int> delivered = delivered;
    }

    /// <summary>A control-plane store whose dead-letter writes fail the first <c>failures</c> times.</summary>
    public class FailingDeadLetters : DispatchProxy
    {
        private IControlPlaneStore inner = null!;
        private int failuresLeft;

        public bool Failed { get; private set; }

        public static FailingDeadLetters Wrap(IControlPlaneStore inner, int failures)
        {
            var proxy = Create<IControlPlaneStore, FailingDeadLetters>();
            var self = (FailingDeadLetters)(object)proxy;
            self.inner = inner;
            self.failuresLeft = failures;
            return self;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IControlPlaneStore.AddDeadLettersAsync) && Interlocked.Decrement(ref failuresLeft) >= 0)
            {
                Failed = true;
                return Task.FromException(new IOException("injected: the dead-letter table is unreachable"));
            }

            try
            {
                return targetMethod.Invoke(inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
