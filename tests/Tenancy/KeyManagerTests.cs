using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Tenancy;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Tenancy;

public abstract class KeyManagerTests(ControlPlaneKind store) : IDisposable
{
    private const string AdminKey = "key-manager-admin";
    private const string Secret = "sk_live_51SuperSecretStripeKeyValue0123456789abcdef";
    private static readonly string MasterV1 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string MasterV2 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly TempDirectory data = new();
    private readonly List<string> seen = [];

    private readonly string? controlPlane = ControlPlaneStores.ConnectionString(store);

    private IngestApiFactory Api(IDictionary<string, string?> keyManager) => new(new Dictionary<string, string?>(keyManager)
    {
        ["Auth:AdminKey"] = AdminKey,
        ["Logging:LogLevel:Default"] = "Trace",
        ["Storage:ControlPlane"] = controlPlane,
    }, data.Path);

    private static Dictionary<string, string?> Version1 => new() { ["KeyManager:MasterKey"] = MasterV1 };

    private static Dictionary<string, string?> Version2 => new()
    {
        ["KeyManager:MasterKey"] = MasterV2,
        ["KeyManager:MasterKeyVersion"] = "2",
        ["KeyManager:PreviousMasterKeys:1"] = MasterV1,
    };

    private async Task<string> SeeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        seen.Add(string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(",", h.Value)}")) + "\n" + text);
        return text;
    }

    private async Task<string> CreateTenantAsync(IngestApiFactory api)
    {
        using var admin = api.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        using var created = JsonDocument.Parse(await SeeAsync(await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Byok Ltd", plan = "pro" })));
        return created.RootElement.GetProperty("tenant_id").GetString()!;
    }

    [Fact]
    public async Task Storing_using_and_rotating_a_key_never_shows_the_secret_in_logs_responses_or_the_database_file()
    {
        string tenantId;
        using (var api = Api(Version1))
        {
            tenantId = await CreateTenantAsync(api);
            using var client = api.ClientFor(tenantId);
            var stored = await client.PutAsJsonAsync("/v1/provider-keys/stripe", new { key = Secret });
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            using var summary = JsonDocument.Parse(await SeeAsync(stored));
            Assert.Equal(Secret[^4..], summary.RootElement.GetProperty("last4").GetString());
            Assert.Equal(1, summary.RootElement.GetProperty("key_version").GetInt32());
            await SeeAsync(await client.GetAsync("/v1/provider-keys"));

            Assert.Equal(Secret, await api.Services.GetRequiredService<KeyManager>().OpenAsync(tenantId, "stripe", CancellationToken.None));
            seen.AddRange(api.Logs);
        }

        using (var api = Api(Version2))
        {
            using var admin = api.CreateClient();
            admin.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
            using var rotation = JsonDocument.Parse(await SeeAsync(await admin.PostAsync("/v1/admin/provider-keys/rotate", null)));
            Assert.Equal(1, rotation.RootElement.GetProperty("resealed").GetInt32());
            Assert.Equal(2, rotation.RootElement.GetProperty("master_key_version").GetInt32());

            Assert.Equal(Secret, await api.Services.GetRequiredService<KeyManager>().OpenAsync(tenantId, "stripe", CancellationToken.None));
            using var client = api.ClientFor(tenantId);
            using var listed = JsonDocument.Parse(await SeeAsync(await client.GetAsync("/v1/provider-keys")));
            Assert.Equal(2, listed.RootElement[0].GetProperty("key_version").GetInt32());
            seen.AddRange(api.Logs);
        }

        Assert.NotEmpty(seen);
        Assert.All(seen, text => Assert.DoesNotContain(Secret[..20], text, StringComparison.Ordinal));
        foreach (var file in Directory.EnumerateFiles(data.Path, "controlplane.db*"))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Secret[..20])));
        }
    }

    [Fact]
    public async Task A_tampered_or_moved_ciphertext_fails_loudly()
    {
        using var api = Api(Version1);
        var a = await CreateTenantAsync(api);
        var b = await CreateTenantAsync(api);
        var manager = api.Services.GetRequiredService<KeyManager>();
        var store = api.Services.GetRequiredService<IControlPlaneStore>();
        await manager.StoreAsync(a, "paid_ai", Secret, CancellationToken.None);
        var sealedKey = (await store.GetProviderKeyAsync(a, "paid_ai", CancellationToken.None))!;

        var flipped = (byte[])sealedKey.Ciphertext.Clone();
        flipped[3] ^= 1;
        await store.SaveProviderKeyAsync(sealedKey with { Ciphertext = flipped }, CancellationToken.None);
        var tampered = await Assert.ThrowsAsync<CryptographicException>(() => manager.OpenAsync(a, "paid_ai", CancellationToken.None));
        Assert.Contains("tampered", tampered.Message, StringComparison.Ordinal);

        await store.SaveProviderKeyAsync(sealedKey with { TenantId = b }, CancellationToken.None);
        await Assert.ThrowsAsync<CryptographicException>(() => manager.OpenAsync(b, "paid_ai", CancellationToken.None));
    }

    [Fact]
    public async Task Without_a_master_key_byok_is_off_and_storing_a_key_says_so()
    {
        using var api = Api(new Dictionary<string, string?>());
        var tenantId = await CreateTenantAsync(api);
        using var client = api.ClientFor(tenantId);
        var response = await client.PutAsJsonAsync("/v1/provider-keys/stripe", new { key = Secret });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("KeyManager:MasterKey", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsJsonAsync("/v1/provider-keys/paypal", new { key = "x" })).StatusCode);
    }

    public void Dispose() => data.Dispose();
}

public sealed class KeyManagerTestsOnSqlite() : KeyManagerTests(ControlPlaneKind.Sqlite);

public sealed class KeyManagerTestsOnPostgres() : KeyManagerTests(ControlPlaneKind.Postgres);
